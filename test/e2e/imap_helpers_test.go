package e2e

import (
	"strings"
	"testing"
)

// imapPorts are the ports of an IMAP-enabled test server.
type imapPorts = tlsPorts

// newIMAPEnv writes a configuration with IMAP on free loopback ports
// (STARTTLS and implicit TLS), plus extra [IMAP] lines.
func newIMAPEnv(t *testing.T, imapExtra string) (*env, imapPorts) {
	t.Helper()
	return newTLSEnv(t, "IMAP", imapExtra)
}

// imapMessage is a small test message.
func imapMessage(subject, body string) string {
	return "From: bob@example.org\nTo: alice@e2e.example.org\nSubject: " + subject +
		"\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.org>\n\n" + body + "\n"
}

// deliverIMAP delivers n messages to user's INBOX through `postern deliver`.
func (e *env) deliverIMAP(user string, n int) {
	e.t.Helper()
	e.deliverN(user, n, imapMessage)
}
