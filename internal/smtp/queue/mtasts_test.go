package queue

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/tlsconf"
)

// TestMTASTSEnforce: under an enforced MTA-STS policy the queue delivers
// only to a matching MX, over STARTTLS with a verified certificate; a
// policy no MX matches, or a certificate that does not verify, defers
// the message (4.7.5 / retry) instead of sending it in the clear or to
// another host; a testing policy changes nothing.
func TestMTASTSEnforce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, _, err := tlsconf.GenerateSelfSigned(dir, "localhost", nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := tlsconf.Load(tlsconf.Files{Certificate: filepath.Join(dir, "server.crt"), Key: filepath.Join(dir, "server.key")}, dir, tlsconf.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(filepath.Join(dir, "server.crt"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	s := startSink(t, m.TLSConfig(), nil)
	_, port, _ := net.SplitHostPort(s.addr)

	run := func(policy *STSPolicy, rootCAs *x509.CertPool) (*testQueue, int) {
		before := len(s.messages())
		tq := newTestQueue(t, t.TempDir(), func(o *Options) {
			o.LookupMX = func(context.Context, string) ([]string, error) { return []string{"localhost"}, nil }
			o.Port = atoi(port)
			o.MTASTS = func(_ context.Context, d string) *STSPolicy {
				if d != "remote.example" {
					t.Errorf("policy asked for %q", d)
				}
				return policy
			}
			o.RootCAs = rootCAs
		})
		tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg))
		tq.runDue(context.Background())
		return tq, len(s.messages()) - before
	}
	only := func(name string) func(string) bool { return func(mx string) bool { return mx == name } }

	if _, n := run(&STSPolicy{Enforce: true, Match: only("localhost")}, roots); n != 1 {
		t.Errorf("enforce, matching MX, valid certificate: %d delivered", n)
	}
	tq, n := run(&STSPolicy{Enforce: true, Match: only("mx.remote.example")}, roots)
	if l := tq.list(t); n != 0 || len(l) != 1 || !strings.Contains(l[0].LastError, "MTA-STS") {
		t.Errorf("enforce, no MX matches: %d delivered, queue %+v", n, l)
	}
	tq, n = run(&STSPolicy{Enforce: true, Match: only("localhost")}, x509.NewCertPool())
	if l := tq.list(t); n != 0 || len(l) != 1 || !strings.Contains(l[0].LastError, "certificate") {
		t.Errorf("enforce, untrusted certificate: %d delivered, queue %+v", n, l)
	}
	if _, n := run(&STSPolicy{Enforce: false, Match: only("mx.remote.example")}, x509.NewCertPool()); n != 1 {
		t.Errorf("testing mode: %d delivered", n)
	}
}
