package e2e

import (
	"testing"
)

// popPorts are the ports of a POP3-enabled test server.
type popPorts = tlsPorts

// newPOPEnv writes a configuration with POP3 on free loopback ports
// (STLS and implicit TLS), plus extra [POP] lines.
func newPOPEnv(t *testing.T, popExtra string) (*env, popPorts) {
	t.Helper()
	return newTLSEnv(t, "POP", popExtra)
}

// popMessage is a test message with a line that needs byte-stuffing.
func popMessage(subject, body string) string {
	return "From: bob@example.org\nTo: alice@e2e.example.org\nSubject: " + subject +
		"\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n\n" + body + "\n.dot line\nlast line\n"
}

// deliverPOP delivers n messages to user through `postern deliver`.
func (e *env) deliverPOP(user string, n int) {
	e.t.Helper()
	e.deliverN(user, n, popMessage)
}
