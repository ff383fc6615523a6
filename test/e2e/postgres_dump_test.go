package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// mailboxSnapshot is what a client knows of INBOX: UIDVALIDITY and, per
// UID, the flags and the octets of the message.
type mailboxSnapshot struct {
	uidValidity uint32
	msgs        map[imap.UID]string
}

func snapshotInbox(t *testing.T, n *node) mailboxSnapshot {
	t.Helper()
	c := n.dialIMAP(t, nil)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	snap := mailboxSnapshot{uidValidity: sel.UIDValidity, msgs: map[imap.UID]string{}}
	if sel.NumMessages == 0 {
		return snap
	}
	section := &imap.FetchItemBodySection{Peek: true}
	var all imap.SeqSet
	all.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		snap.msgs[m.UID] = strings.Join(flagStrings(m.Flags), " ") + "\n" + string(m.FindBodySection(section))
	}
	c.Logout().Wait()
	return snap
}

func flagStrings(fs []imap.Flag) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// TestPostgresDumpRestore tests the backup procedure of docs/scale-out.md
// for a PostgreSQL store: pg_dump --format=custom of the database while
// a node serves it, pg_restore into a new database, and a node on the
// new database serves the same mail: the same UIDVALIDITY, UIDs, flags
// and octets, and the password still works.
func TestPostgresDumpRestore(t *testing.T) {
	pgDump, pgRestore := pgtest.Tool(t, "pg_dump"), pgtest.Tool(t, "pg_restore")
	url := pgtest.New(t)
	n1 := newNode(t, url, "")
	n1.addUser("alice", "alice-pw")
	n1.startMail()
	for _, subject := range []string{"one", "two", "three"} {
		lmtpDeliver(t, n1, "From: bob@example.org\r\nSubject: "+subject+"\r\n\r\nbody of "+subject+"\r\n")
	}
	c := n1.dialIMAP(t, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Label1"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
	before := snapshotInbox(t, n1)

	dump := filepath.Join(t.TempDir(), "postern.dump")
	if out, err := exec.Command(pgDump, "--format=custom", "--file="+dump, url).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	url2 := pgtest.New(t)
	if out, err := exec.Command(pgRestore, "--dbname="+url2, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	n2 := newNode(t, url2, "")
	n2.startMail()
	after := snapshotInbox(t, n2)
	if len(before.msgs) != 3 || before.uidValidity != after.uidValidity || len(after.msgs) != len(before.msgs) {
		t.Fatalf("restored INBOX: UIDVALIDITY %d, %d messages; before %d, %d", after.uidValidity, len(after.msgs), before.uidValidity, len(before.msgs))
	}
	for uid, m := range before.msgs {
		if after.msgs[uid] != m {
			t.Errorf("UID %d differs after the restore:\n%q\n%q", uid, m, after.msgs[uid])
		}
	}
	// The restored database takes new mail above the restored UIDs.
	lmtpDeliver(t, n2, "From: bob@example.org\r\nSubject: four\r\n\r\nafter the restore\r\n")
	if s := snapshotInbox(t, n2); len(s.msgs) != 4 {
		t.Errorf("after a delivery to the restored store: %d messages", len(s.msgs))
	}
}
