package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// dovecotTree writes a small Dovecot Maildir++ (the layout Dovecot writes
// by default): INBOX with a dovecot-uidlist, keywords and one file Dovecot
// never listed; a Work folder; one listed message whose file is not a
// message at all (damaged).
func dovecotTree(t *testing.T, root string) {
	t.Helper()
	files := map[string]string{
		"dovecot-uidlist": "3 V1600000000 N20 G0123\n" +
			"3 :1600000003.M1P1.host,S=40\n" +
			"7 P0000000700000007-kept :1600000007.M1P2.host,S=40\n" +
			"8 :1600000008.M1P3.host,S=2\n",
		"dovecot-keywords":                      "0 $Forwarded\n1 Project\n",
		"subscriptions":                         "V\t2\n\nWork\n",
		"cur/1600000003.M1P1.host,S=40:2,Sa":    "From: a@example.org\nSubject: three\n\nthree\n",
		"cur/1600000007.M1P2.host,S=40:2,FRb":   "From: a@example.org\nSubject: seven\n\nseven\n",
		"cur/1600000008.M1P3.host,S=2:2,S":      "not a header line at all\n",
		"new/1600000030.M1P4.host":              "From: a@example.org\nSubject: unlisted\n\nnew\n",
		".Work/dovecot-uidlist":                 "3 V1600000500 N3 G0456\n2 :1600000600.M1P1.host\n",
		".Work/cur/1600000600.M1P1.host:2,S":    "From: b@example.org\nSubject: work\n\nwork\n",
		".Work/new/.keep-directory-not-a-file/": "",
	}
	for _, d := range []string{"cur", "new", "tmp", ".Work/cur", ".Work/new", ".Work/tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		if strings.HasSuffix(name, "/") {
			continue
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// mailboxState reads a mailbox's UIDVALIDITY, UIDNEXT, messages and kept
// POP3 unique-ids from the store.
func mailboxState(t *testing.T, dataDir, user, name string) (store.Mailbox, []store.MessageInfo, map[store.UID]string) {
	t.Helper()
	ctx := context.Background()
	sess, done := userSession(t, dataDir, user)
	defer done()
	mb, err := sess.Mailbox(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sess.Messages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	uidls := map[store.UID]string{}
	err = sess.(store.UIDLKeeper).POP3UIDLs(ctx, mb.ID, func(u store.UID, s string) error { uidls[u] = s; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return mb, msgs, uidls
}

// TestImportDovecotMaildir: UIDVALIDITY, UIDs, UIDNEXT, flags, keywords
// and POP3 unique-ids are kept; a damaged message is reported with its
// path and skipped; a second run adds nothing; a mailbox holding other
// mail is refused, and taken with --new-uids and a warning.
func TestImportDovecotMaildir(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	root := filepath.Join(e.dir, "Maildir")
	dovecotTree(t, root)

	r := e.run("", "import", "alice", root, "--format", "dovecot")
	if r.code == 0 || !strings.Contains(r.stderr, "1600000008.M1P3.host,S=2:2,S") || !strings.Contains(r.stdout, "1 failed") {
		t.Fatalf("first import: exit %d, want non-zero naming the damaged file\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	mb, msgs, uidls := mailboxState(t, e.data, "alice", "INBOX")
	if mb.UIDValidity != 1600000000 || mb.UIDNext != 21 {
		t.Errorf("INBOX UIDVALIDITY %d, UIDNEXT %d; want 1600000000 and 21 (after the unlisted message at 20)", mb.UIDValidity, mb.UIDNext)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, strings.Join(append([]string{string(rune('0' + m.UID%10))}, m.Flags...), " "))
	}
	want := []string{`3 $Forwarded \Seen`, `7 \Answered \Flagged Project`, `0`}
	if !slices.Equal(got, want) || msgs[2].UID != 20 {
		t.Errorf("INBOX messages %q (UIDs %v), want %q with UIDs 3, 7, 20", got, msgs, want)
	}
	wantUIDLs := map[store.UID]string{3: "000000035f5e1000", 7: "0000000700000007-kept"}
	if len(uidls) != 2 || uidls[3] != wantUIDLs[3] || uidls[7] != wantUIDLs[7] {
		t.Errorf("kept unique-ids %v, want %v", uidls, wantUIDLs)
	}
	if wmb, wmsgs, _ := mailboxState(t, e.data, "alice", "Work"); wmb.UIDValidity != 1600000500 || len(wmsgs) != 1 || wmsgs[0].UID != 2 || wmb.UIDNext != 3 {
		t.Errorf("Work: %+v, %+v", wmb, wmsgs)
	}

	r = e.run("", "import", "alice", root, "--format", "dovecot")
	if !strings.Contains(r.stdout, "imported 0 message(s)") || !strings.Contains(r.stdout, "4 already there") {
		t.Errorf("second import: %q %q", r.stdout, r.stderr)
	}
	if _, again, _ := mailboxState(t, e.data, "alice", "INBOX"); len(again) != 3 {
		t.Errorf("INBOX after the second run holds %d messages, want 3", len(again))
	}

	// Another account's Sent holds mail: refused before anything moves.
	e.run("pw\n", "user", "add", "bob", "--password-stdin").must(t, 0)
	e.run("From: x@example.org\n\nmine\n", "deliver", "bob").must(t, 0)
	r = e.run("", "import", "bob", root, "--format", "dovecot")
	if r.code == 0 || !strings.Contains(r.stderr, "--new-uids") {
		t.Fatalf("import into a mailbox with mail: exit %d, stderr %q; want a refusal naming --new-uids", r.code, r.stderr)
	}
	if _, work, _ := mailboxState(t, e.data, "bob", "Work"); len(work) != 0 {
		t.Errorf("a refused import moved %d messages into Work", len(work))
	}
	r = e.run("", "import", "bob", root, "--format", "dovecot", "--new-uids")
	if !strings.Contains(r.stderr, "warning: INBOX already holds mail") {
		t.Errorf("--new-uids: no warning in %q", r.stderr)
	}
	mb, msgs, uidls = mailboxState(t, e.data, "bob", "INBOX")
	if len(msgs) != 4 || mb.UIDValidity == 1600000000 || uidls[msgs[2].UID] != "0000000700000007-kept" {
		t.Errorf("--new-uids: INBOX %+v with %d messages, unique-ids %v; want 4 messages, Postern's UIDVALIDITY, the unique-ids kept", mb, len(msgs), uidls)
	}
	r = e.run("", "import", "bob", root, "--format", "dovecot", "--new-uids")
	if !strings.Contains(r.stdout, "imported 0 message(s)") {
		t.Errorf("--new-uids second run: %q", r.stdout)
	}
}
