package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/tlsconf"
)

// imapPorts are the ports of an IMAP-enabled test server and the CA file
// (the self-signed certificate, SAN DNS:localhost, IP:127.0.0.1).
type imapPorts struct {
	plain, secure int
	cafile        string
}

// newIMAPEnv writes a configuration with IMAP on free loopback ports
// (STARTTLS and implicit TLS), plus extra [IMAP] lines.
func newIMAPEnv(t *testing.T, imapExtra string) (*env, imapPorts) {
	t.Helper()
	e := newEnv(t, "")
	p := imapPorts{plain: freePort(t), secure: freePort(t)}
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(p.plain)+
		"\nSecure-Port: "+strconv.Itoa(p.secure)+"\n"+imapExtra, 1)
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

// imapMessage is a small test message.
func imapMessage(subject, body string) string {
	return "From: bob@example.org\nTo: alice@e2e.example.org\nSubject: " + subject +
		"\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.org>\n\n" + body + "\n"
}

// deliverIMAP delivers n messages to user's INBOX through `postern deliver`.
func (e *env) deliverIMAP(user string, n int) {
	e.t.Helper()
	for i := 1; i <= n; i++ {
		e.run(imapMessage("message "+strconv.Itoa(i), "body of message "+strconv.Itoa(i)), "deliver", user).must(e.t, 0)
	}
}
