package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/tlsconf"
)

// tlsPorts are the ports of a test server's protocol (the plain port with
// STARTTLS/STLS and the implicit-TLS port) and the CA file: the
// self-signed certificate, SAN DNS:localhost, IP:127.0.0.1.
type tlsPorts struct {
	plain, secure int
	cafile        string
}

// newTLSEnv writes a configuration that turns on section ("IMAP", "POP")
// on free loopback ports, plus extra lines of that section, and makes the
// certificate clients verify against.
func newTLSEnv(t *testing.T, section, extra string) (*env, tlsPorts) {
	t.Helper()
	e := newEnv(t, "")
	p := tlsPorts{plain: freePort(t), secure: freePort(t)}
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	head := "[" + section + "]\nEnable: "
	c := strings.Replace(string(conf), head+"off", head+"on\nServer-Port: "+strconv.Itoa(p.plain)+
		"\nSecure-Port: "+strconv.Itoa(p.secure)+"\n"+extra, 1)
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

// deliverN delivers n messages made by msg to user through `postern deliver`.
func (e *env) deliverN(user string, n int, msg func(subject, body string) string) {
	e.t.Helper()
	for i := 1; i <= n; i++ {
		e.run(msg("message "+strconv.Itoa(i), "body of message "+strconv.Itoa(i)), "deliver", user).must(e.t, 0)
	}
}
