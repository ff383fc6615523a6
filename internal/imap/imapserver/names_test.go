package imapserver

import (
	"errors"
	"testing"

	"github.com/postern/postern/internal/mail11"
)

// TestNamesVMS: the name mapping with Vms-Folder-Names on, level by level,
// with INBOX at the top level, and both directions inverse of each other.
func TestNamesVMS(t *testing.T) {
	c := &conn{s: &Server{opts: Options{VMSFolderNames: true}}}
	for _, tc := range []struct{ store, imap string }{
		{"INBOX", "INBOX"},
		{"INBOX/HELLO", "INBOX/Hello"},
		{"HELLO_ALL", "Hello__All"},
		{"Hello", "H_e_l_l_o"},
		{"HELLO$ALL/HELLO-ALL", "Hello$$All/Hello-All"},
		{"MAIL", "Mail"},
		{"Mail", "M_a_i_l"},
		{"ARCHIVE/NEWMAIL", "Archive/INBOX"}, // only the top level is the store's INBOX
		{"ARCHIVE/INBOX", "Archive/$Inbox"},
	} {
		got, ok := c.imapName(tc.store)
		if !ok || got != tc.imap {
			t.Errorf("imapName(%q) = %q, %v; want %q", tc.store, got, ok, tc.imap)
		}
		back, err := c.storeName(tc.imap)
		if err != nil || back != tc.store {
			t.Errorf("storeName(%q) = %q, %v; want %q", tc.imap, back, err, tc.store)
		}
	}
	if got, ok := c.imapName("NEWMAIL"); ok {
		t.Errorf("imapName(NEWMAIL) = %q, true; want no name (it would be a second INBOX)", got)
	}
	if got, err := c.storeName("inbox/hello"); err != nil || got != "INBOX/HELLO" {
		t.Errorf("storeName(inbox/hello) = %q, %v", got, err)
	}
	for _, bad := range []string{"Hello_1", "Bad$", "Newmail", "$Inbox", "Foo//Bar", "Foo/_"} {
		_, err := c.storeName(bad)
		var ue *userError
		if !errors.As(err, &ue) || ue.code != "NONEXISTENT" || !errors.Is(err, mail11.ErrFolderName) {
			t.Errorf("storeName(%q) = %v; want NO [NONEXISTENT] wrapping ErrFolderName", bad, err)
		}
		if _, err := c.newStoreName(bad); !errors.As(err, &ue) || ue.code != "CANNOT" {
			t.Errorf("newStoreName(%q) = %v; want NO [CANNOT]", bad, err)
		}
	}
}

// TestNamesOff: with Vms-Folder-Names off, names pass unchanged.
func TestNamesOff(t *testing.T) {
	c := &conn{s: &Server{}}
	for _, n := range []string{"INBOX", "Hello__All", "NEWMAIL", "Bad$"} {
		if got, ok := c.imapName(n); !ok || got != n {
			t.Errorf("imapName(%q) = %q, %v", n, got, ok)
		}
		if got, err := c.storeName(n); err != nil || got != n {
			t.Errorf("storeName(%q) = %q, %v", n, got, err)
		}
	}
}
