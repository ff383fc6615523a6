package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// lmtpScript delivers one message over LMTP with Python's smtplib.LMTP
// (a Unix socket path or host:port) and prints the refused recipients.
const lmtpScript = `
import smtplib, sys
target, port = sys.argv[1], int(sys.argv[2])
msg = sys.argv[3].replace("\n", "\r\n").encode()
c = smtplib.LMTP(target, port) if port else smtplib.LMTP(target)
refused = c.sendmail("sender@example.net", sys.argv[4:], msg)
print("refused:", sorted(refused))
c.quit()
`

func TestLMTPPythonSocketAndTCP(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.startMail()

	msg := "From: sender@example.net\nTo: alice@e2e.example.org\nSubject: over the socket\n\nbody line\n.leading dot\n"
	out := python(t, lmtpScript, p.lmtpSocket, "0", msg, "alice@e2e.example.org", "Bob+tag@e2e.example.org", "nobody@e2e.example.org")
	if !strings.Contains(out, "refused: ['nobody@e2e.example.org']") {
		t.Errorf("socket delivery: %s", out)
	}
	out = python(t, lmtpScript, "127.0.0.1", strconv.Itoa(p.lmtp), strings.Replace(msg, "over the socket", "over tcp", 1), "alice@e2e.example.org")
	if !strings.Contains(out, "refused: []") {
		t.Errorf("tcp delivery: %s", out)
	}

	got := storedMessages(t, e.data, "alice", "INBOX")
	if len(got) != 2 {
		t.Fatalf("alice has %d messages, want 2", len(got))
	}
	for _, m := range got {
		if !strings.HasPrefix(m, "Received: from ") || !strings.Contains(m, "with LMTP") {
			t.Errorf("no Received header:\n%s", m)
		}
		_, body, _ := strings.Cut(m, "From: sender@example.net\r\n")
		if !strings.Contains(body, "\r\n\r\nbody line\r\n.leading dot\r\n") {
			t.Errorf("body not stored byte for byte:\n%q", m)
		}
	}
	if n := len(storedMessages(t, e.data, "bob", "INBOX")); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
}

func TestLMTPSwaks(t *testing.T) {
	t.Parallel()
	requireTool(t, "swaks")
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.startMail()
	out, code := runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.lmtp), "--protocol", "LMTP",
		"--from", "a@example.net", "--to", "alice@e2e.example.org", "--silent", "1")
	if code != 0 {
		t.Fatalf("swaks exit %d:\n%s", code, out)
	}
	out, code = runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.lmtp), "--protocol", "LMTP",
		"--from", "a@example.net", "--to", "ghost@e2e.example.org", "--silent", "1")
	if code == 0 || !strings.Contains(out, "550 5.1.1") {
		t.Errorf("unknown user: exit %d:\n%s", code, out)
	}
	if n := len(storedMessages(t, e.data, "alice", "INBOX")); n != 1 {
		t.Errorf("alice has %d messages, want 1", n)
	}
}
