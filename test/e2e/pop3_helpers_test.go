package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/tlsconf"
)

// popPorts are the ports of a POP3-enabled test server and the CA file
// (the self-signed certificate, SAN DNS:localhost, IP:127.0.0.1).
type popPorts struct {
	plain, secure int
	cafile        string
}

// newPOPEnv writes a configuration with POP3 on free loopback ports
// (STLS and implicit TLS), plus extra [POP] lines.
func newPOPEnv(t *testing.T, popExtra string) (*env, popPorts) {
	t.Helper()
	e := newEnv(t, "")
	p := popPorts{plain: freePort(t), secure: freePort(t)}
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[POP]\nEnable: off", "[POP]\nEnable: on\nServer-Port: "+strconv.Itoa(p.plain)+
		"\nSecure-Port: "+strconv.Itoa(p.secure)+"\n"+popExtra, 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.data, 0o700); err != nil {
		t.Fatal(err)
	}
	cert, _, err := tlsconf.GenerateSelfSigned(filepath.Join(e.data, "tls"), "localhost", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	p.cafile = cert
	return e, p
}

// popMessage is a test message with a line that needs byte-stuffing.
func popMessage(subject, body string) string {
	return "From: bob@example.org\nTo: alice@e2e.example.org\nSubject: " + subject +
		"\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n\n" + body + "\n.dot line\nlast line\n"
}

// deliverPOP delivers n messages to user through `postern deliver`.
func (e *env) deliverPOP(user string, n int) {
	e.t.Helper()
	for i := 1; i <= n; i++ {
		e.run(popMessage("message "+strconv.Itoa(i), "body of message "+strconv.Itoa(i)), "deliver", user).must(e.t, 0)
	}
}
