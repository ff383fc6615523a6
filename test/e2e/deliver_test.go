package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

const sampleMessage = "From: Bob <bob@example.org>\nTo: alice@e2e.example.org\nSubject: hello\n\nhi there\n"

func TestDeliverExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "Max-Message-Size: 4K")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	e.run("pw\n", "user", "add", "nomail", "--password-stdin").must(t, 0)
	e.run("", "user", "set", "nomail", "--no-mail").must(t, 0)

	e.run(sampleMessage, "deliver", "alice").must(t, 0)
	e.run(sampleMessage, "deliver", "--mailbox", "Mail", "alice").must(t, 0)
	r := e.run(sampleMessage, "deliver", "alice", "--mailbox", "NoSuchBox").must(t, 0)
	if !strings.Contains(r.stderr, "INBOX") {
		t.Errorf("fallback to INBOX not reported: %q", r.stderr)
	}
	cases := []struct {
		name, stdin, user string
		code              int
		stderr            string
	}{
		{"unknown user", sampleMessage, "nobody", 67, "no such user"},
		{"no-mail account", sampleMessage, "nomail", 67, "does not receive mail"},
		{"empty message", "", "alice", 65, "malformed"},
		{"not a message", "\x00\x01garbage without any header\n", "alice", 65, "malformed"},
		{"too big", "Subject: big\n\n" + strings.Repeat("0123456789abcdef\n", 400), "alice", 65, "too big"},
	}
	for _, c := range cases {
		r := e.run(c.stdin, "deliver", c.user)
		if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("%s: exit %d stderr %q; want %d and %q", c.name, r.code, r.stderr, c.code, c.stderr)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: want one line on stderr, got %q", c.name, r.stderr)
		}
	}
	counts := mailboxCounts(t, e.data, "alice")
	if counts[store.MailboxInbox] != 2 || counts[store.MailboxMail] != 1 {
		t.Errorf("mailbox counts %v, want INBOX 2, Mail 1", counts)
	}
}

func TestDeliverTempFail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	// A data directory that cannot be opened is a temporary failure: the
	// MTA keeps the message and retries.
	bad := newEnv(t, "")
	r := bad.runIn(bad.dir, []string{"POSTERN_CONFIG=" + bad.conf, "POSTERN_DATA_DIRECTORY=/dev/null/x"}, sampleMessage, "deliver", "alice")
	if r.code != 75 {
		t.Errorf("exit %d (stderr %q), want 75", r.code, r.stderr)
	}
}

// mailboxCounts opens the store read-side and counts each mailbox's messages.
func mailboxCounts(t *testing.T, dataDir, user string) map[string]int {
	t.Helper()
	ctx := context.Background()
	sess, done := userSession(t, dataDir, user)
	defer done()
	mbs, err := sess.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int)
	for _, mb := range mbs {
		msgs, err := sess.Messages(ctx, mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[mb.Name] = len(msgs)
	}
	return out
}
