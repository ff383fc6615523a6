package mailexport

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailimport"
	"github.com/postern/postern/internal/store"
)

// TestMboxQuoting: From_ lines, mboxrd quoting of ^>*From , CRLF made LF,
// a last line without its end, the flag fields.
func TestMboxQuoting(t *testing.T) {
	dir := t.TempDir()
	x, err := NewMbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := x.Begin(Mailbox{Name: "Archive/2020"})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2020, 2, 3, 4, 5, 6, 0, time.FixedZone("", 3600))
	content := "Subject: x\r\n\r\nFrom here\r\n>From there\r\nnot From\r\nlast"
	if err := f.Write(Message{Flags: store.Flags{"$Work", store.FlagAnswered, store.FlagSeen}, Date: date}, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Close(); err != nil || n != 1 {
		t.Fatalf("Close = %d, %v", n, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "Archive", "2020.mbox"))
	if err != nil {
		t.Fatal(err)
	}
	want := "From MAILER-DAEMON Mon Feb  3 03:05:06 2020\nStatus: RO\nX-Status: A\nX-Keywords: $Work\n" +
		"Subject: x\n\n>From here\n>>From there\nnot From\nlast\n\n"
	if string(got) != want {
		t.Errorf("mbox file\n%q\nwant\n%q", got, want)
	}
}

// TestMaildirNames: folder names with '.', '\' and non-ASCII letters come
// back from the Dovecot reader as they were.
func TestMaildirNames(t *testing.T) {
	dir := t.TempDir()
	md, err := NewMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"INBOX", "Entwürfe", "v1.2/notes", `back\slash`}
	for _, n := range names {
		b, err := md.Begin(Mailbox{Name: n, UIDValidity: 7, UIDNext: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Write(Message{UID: 2, EmailID: 9, Flags: store.Flags{store.FlagSeen, "k1"}, Date: time.Unix(1600000000, 0)}, 3, strings.NewReader("a\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	d, err := mailimport.OpenDovecot(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range d.Folders {
		got = append(got, f.Name)
		mb, err := mailimport.ReadFolder(f, mailimport.DefaultPOP3UIDLFormat)
		if err != nil || mb.UIDValidity != 7 || mb.UIDNext != 3 || len(mb.Messages) != 1 ||
			mb.Messages[0].UID != 2 || !slices.Equal(mb.Messages[0].Flags, []string{store.FlagSeen, "k1"}) {
			t.Errorf("%s read back as %+v, %v", f.Name, mb, err)
		}
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("folders %q, want %q", got, names)
	}
}
