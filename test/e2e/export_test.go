package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// TestExportRoundTrip: an account exported as a Maildir and imported into
// another account with --format dovecot comes back with the same
// UIDVALIDITY, UIDs, UIDNEXT, flags, keywords, dates and POP3 unique-ids;
// a second export writes nothing new; an mbox export imports back with
// its messages and flags.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, u := range []string{"alice", "bob", "carol"} {
		e.run("pw\n", "user", "add", u, "--password-stdin").must(t, 0)
	}
	src := filepath.Join(e.dir, "Maildir")
	dovecotTree(t, src)
	os.Remove(filepath.Join(src, "cur", "1600000008.M1P3.host,S=2:2,S")) // the damaged one
	e.run("", "import", "alice", src, "--format", "dovecot").must(t, 0)

	out := filepath.Join(e.dir, "export")
	r := e.run("", "export", "--user", "alice", "--format", "maildir", out).must(t, 0)
	if !strings.Contains(r.stdout, "exported 4 message(s)") {
		t.Errorf("export: %q", r.stdout)
	}
	r = e.run("", "export", "--user", "alice", "--format", "maildir", out).must(t, 0)
	if !strings.Contains(r.stdout, "INBOX: 3 message(s) (0 written, 0 renamed for new flags, 3 unchanged)") {
		t.Errorf("second export: %q", r.stdout)
	}
	e.run("", "import", "bob", out, "--format", "dovecot").must(t, 0)
	for _, box := range []string{"INBOX", "Work"} {
		amb, amsgs, auidls := mailboxState(t, e.data, "alice", box)
		bmb, bmsgs, buidls := mailboxState(t, e.data, "bob", box)
		// What alice's POP3 clients know: the kept unique-id, else Postern's.
		for _, m := range amsgs {
			if auidls[m.UID] == "" {
				auidls[m.UID] = store.DefaultUIDL("alice", m)
			}
		}
		if amb.UIDValidity != bmb.UIDValidity || amb.UIDNext != bmb.UIDNext || len(amsgs) != len(bmsgs) || len(auidls) != len(buidls) {
			t.Fatalf("%s: alice %+v %d %v, bob %+v %d %v", box, amb, len(amsgs), auidls, bmb, len(bmsgs), buidls)
		}
		for i := range amsgs {
			a, b := amsgs[i], bmsgs[i]
			if a.UID != b.UID || !slices.Equal(a.Flags, b.Flags) || !a.InternalDate.Equal(b.InternalDate) || a.Size != b.Size || auidls[a.UID] != buidls[b.UID] {
				t.Errorf("%s: alice %+v (%q), bob %+v (%q)", box, a, auidls[a.UID], b, buidls[b.UID])
			}
		}
	}

	mbox := filepath.Join(e.dir, "mbox")
	e.run("", "export", "--user", "alice", "--format", "mbox", mbox).must(t, 0)
	e.run("", "import", "carol", filepath.Join(mbox, "INBOX.mbox"), "--mailbox", "Old").must(t, 0)
	_, cmsgs, _ := mailboxState(t, e.data, "carol", "Old")
	_, amsgs, _ := mailboxState(t, e.data, "alice", "INBOX")
	if len(cmsgs) != len(amsgs) {
		t.Fatalf("mbox round trip: %d messages, want %d", len(cmsgs), len(amsgs))
	}
	for i := range amsgs {
		sys := func(fl []string) (out []string) {
			for _, f := range fl {
				if strings.HasPrefix(f, `\`) {
					out = append(out, f)
				}
			}
			return out
		}
		// From_ lines hold the date to the second.
		if !slices.Equal(sys(amsgs[i].Flags), sys(cmsgs[i].Flags)) || !amsgs[i].InternalDate.Truncate(time.Second).Equal(cmsgs[i].InternalDate) {
			t.Errorf("mbox round trip: %+v came back as %+v", amsgs[i], cmsgs[i])
		}
	}
	b, err := os.ReadFile(filepath.Join(mbox, "INBOX.mbox"))
	if err != nil || !strings.Contains(string(b), "X-Keywords: $Forwarded") || strings.Contains(string(b), "\r\n") {
		t.Errorf("INBOX.mbox: keywords in X-Keywords and LF line endings expected:\n%s", b)
	}
}
