package smtpserver

import (
	"strings"
	"testing"
	"time"
)

// TestForwardSRS: an Aliases-File entry that points off-site is queued
// with the sender rewritten by SRS (SRS0 at our host name, so SPF at the
// far end checks us), while the local target gets the message as is; a
// bounce to that SRS address (null sender) is accepted and queued to the
// original sender, with the null sender kept; a forged or stale SRS
// address is refused at RCPT as an unknown user (550 5.1.1).
func TestForwardSRS(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode smtp\nuser alice pw\nsrs\nalias team: alice, friend@elsewhere.example"))
	c := e.smtpClient(t)
	body := "From: bob@sender.example\r\nTo: team@example.org\r\nSubject: hi\r\n\r\nhi\r\n"
	if err := c.SendMail("bob@sender.example", []string{"team@example.org"}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if got := e.messages("alice", "INBOX"); len(got) != 1 {
		t.Fatalf("alice has %d messages, want 1", len(got))
	}
	q := e.queue.all()
	if len(q) != 1 || len(q[0].to) != 1 || q[0].to[0] != "friend@elsewhere.example" {
		t.Fatalf("queued %+v", q)
	}
	want, err := testSRS.Forward("bob@sender.example", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if q[0].from != want || !strings.HasPrefix(want, "SRS0=") || !strings.HasSuffix(want, "=sender.example=bob@"+testHostname) {
		t.Fatalf("forwarded with sender %q, want %q", q[0].from, want)
	}

	// The bounce comes back to the SRS address.
	bounce := "From: MAILER-DAEMON@elsewhere.example\r\nSubject: failure\r\n\r\nno such user\r\n"
	if err := c.SendMail("", []string{want}, strings.NewReader(bounce)); err != nil {
		t.Fatalf("bounce to %s: %v", want, err)
	}
	q = e.queue.all()
	if len(q) != 2 || q[1].from != "" || len(q[1].to) != 1 || q[1].to[0] != "bob@sender.example" {
		t.Fatalf("bounce queued as %+v, want from <> to bob@sender.example", q[1:])
	}

	local, _, _ := strings.Cut(want, "@")
	forged := strings.Replace(local, "=bob", "=mallory", 1) + "@" + testHostname
	stale, _ := testSRS.Forward("bob@sender.example", testNow.Add(-30*24*time.Hour))
	for _, rcpt := range []string{forged, stale} {
		err := e.smtpClient(t).SendMail("", []string{rcpt}, strings.NewReader(bounce))
		if err == nil || !strings.Contains(err.Error(), "550") {
			t.Errorf("RCPT %s: %v, want 550 (unknown user)", rcpt, err)
		}
	}
	if n := len(e.queue.all()); n != 2 {
		t.Errorf("%d messages queued, want 2", n)
	}
}
