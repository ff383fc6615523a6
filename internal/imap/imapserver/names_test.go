package imapserver

import (
	"errors"
	"testing"

	"github.com/postern/postern/internal/mail11"
)

// TestNamesVMS: the name mapping with Vms-Folder-Names on (hp-system
// §6.2, I2): NEWMAIL is INBOX, the VMS folders are children of the mail
// file Mail, named by the codec level by level (the golden names of Table
// 5-3), Postern's own mailboxes are never escaped, both directions are
// inverse of each other, and names outside the mapping are refused.
func TestNamesVMS(t *testing.T) {
	c := &conn{s: &Server{opts: Options{VMSFolderNames: true}}}
	for _, tc := range []struct{ store, imap string }{
		// User's Guide Table 5-3, the folders under the mail file Mail.
		{"HELLO", "Mail/Hello"},
		{"Hello", "Mail/H_e_l_l_o"},
		{"HELLO-ALL", "Mail/Hello-All"},
		{"HELLO_ALL", "Mail/Hello__All"},
		{"HELLO$ALL", "Mail/Hello$$All"},
		// NEWMAIL is INBOX; the store's Mail (the MAIL folder) is the mail file.
		{"INBOX", "INBOX"},
		{"INBOX/HELLO", "INBOX/Hello"},
		{"Mail", "Mail"},
		// Postern's own mailboxes are never escaped.
		{"Sent", "Sent"},
		{"Drafts", "Drafts"},
		{"Trash/Old stuff", "Trash/Old stuff"},
		{"Junk", "Junk"},
		// VMS folders named like them stay apart, under Mail.
		{"SENT", "Mail/Sent"},
		{"MAIL", "Mail/Mail"},
		{"HELLO$ALL/HELLO-ALL", "Mail/Hello$$All/Hello-All"},
		{"ARCHIVE/NEWMAIL", "Mail/Archive/INBOX"}, // only the top level is the store's INBOX
		{"ARCHIVE/INBOX", "Mail/Archive/$Inbox"},
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
	for _, hidden := range []string{"NEWMAIL", "Mail/HELLO", "Mail/Sub/X"} {
		if got, ok := c.imapName(hidden); ok {
			t.Errorf("imapName(%s) = %q, true; want no name", hidden, got)
		}
	}
	if got, err := c.storeName("inbox/hello"); err != nil || got != "INBOX/HELLO" {
		t.Errorf("storeName(inbox/hello) = %q, %v", got, err)
	}
	if got, err := c.storeName("Mail/hello__all"); err != nil || got != "HELLO_ALL" {
		t.Errorf("storeName(Mail/hello__all) = %q, %v", got, err)
	}
	for _, bad := range []string{"Hello", "Mail/Hello_1", "Mail/Bad$", "Mail/Newmail", "Mail/INBOX", "Mail/$Inbox",
		"Mail/Foo//Bar", "Mail/Foo/_", "Mail/", "mail/Hello", "M_a_i_l"} {
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
