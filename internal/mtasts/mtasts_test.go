package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/tlsconf"
)

const goodPolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.backup.example.org\r\nmax_age: 86400\r\n"

func TestParse(t *testing.T) {
	p, err := Parse([]byte(goodPolicy))
	if err != nil || p.Mode != ModeEnforce || len(p.MX) != 2 || p.MaxAge != 24*time.Hour {
		t.Fatalf("Parse = %+v, %v", p, err)
	}
	if p, err := Parse([]byte("version: STSv1\nmode: none\nmax_age: 0\nextension: x\n")); err != nil || p.Mode != ModeNone {
		t.Errorf("mode none with LF lines: %+v, %v", p, err)
	}
	for _, bad := range []string{"", "version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", "version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n",
		"version: STSv1\nmode: enforce\nmax_age: 1\n", "version: STSv1\nmode: enforce\nmx: a\n", "version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999999\n",
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n", "version: STSv1\nno colon\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	p, _ := Parse([]byte(goodPolicy))
	for host, want := range map[string]bool{"mx1.example.org": true, "MX1.example.org.": true, "a.backup.example.org": true,
		"backup.example.org": false, "a.b.backup.example.org": false, "mx2.example.org": false, "xmx1.example.org": false} {
		if got := p.Match(host); got != want {
			t.Errorf("Match(%q) = %v", host, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodPolicy))
	f.Add([]byte("version: STSv1\nmode: none\nmax_age: 0\n"))
	f.Add([]byte("mx: *.\nmx: *\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if p.MaxAge < 0 || p.MaxAge > maxMaxAge*time.Second || (p.Mode != ModeNone && len(p.MX) == 0) {
			t.Fatalf("accepted %+v", p)
		}
		p.Match("a.example.org")
	})
}

// policyServer is an HTTPS server for mta-sts.example.org with a
// certificate of its own, and a client that reaches it by that name.
func policyServer(t *testing.T, handler http.HandlerFunc) *http.Client {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := tlsconf.GenerateSelfSigned(dir, "mta-sts.example.org", nil); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pem, _ := os.ReadFile(filepath.Join(dir, "server.crt"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	addr := srv.Listener.Addr().String()
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestFetcher: the policy is fetched over HTTPS when the TXT record
// announces one, cached while the id stays and max_age lasts, fetched
// again for a new id, kept when a fetch fails, and absent without a
// record.
func TestFetcher(t *testing.T) {
	var fetches atomic.Int32
	body := goodPolicy
	client := policyServer(t, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if r.URL.Path != "/.well-known/mta-sts.txt" || body == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(body))
	})
	record := "v=STSv1; id=20261207"
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f := &Fetcher{Client: client, Clock: func() time.Time { return now },
		LookupTXT: func(_ context.Context, name string) ([]string, error) {
			if name != "_mta-sts.example.org." || record == "" {
				return nil, &net.DNSError{Err: "no such host", IsNotFound: true}
			}
			return []string{record, "unrelated"}, nil
		}}
	ctx := t.Context()
	if p := f.Get(ctx, "example.org"); p == nil || !p.Match("mx1.example.org") {
		t.Fatalf("first Get = %+v", p)
	}
	f.Get(ctx, "Example.ORG")
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1 (cached)", n)
	}
	record, body = "v=STSv1; id=2", "version: STSv1\nmode: testing\nmx: mx9.example.org\nmax_age: 60\n"
	if p := f.Get(ctx, "example.org"); p == nil || p.Mode != ModeTesting || fetches.Load() != 2 {
		t.Errorf("new id: %+v after %d fetches", p, fetches.Load())
	}
	record, body = "v=STSv1; id=3", ""
	if p := f.Get(ctx, "example.org"); p == nil || p.Mode != ModeTesting {
		t.Errorf("failed fetch should keep the cached policy: %+v", p)
	}
	now = now.Add(2 * time.Minute) // past max_age
	if p := f.Get(ctx, "example.org"); p != nil {
		t.Errorf("expired and unfetchable: %+v, want none", p)
	}
	record = ""
	if p := f.Get(ctx, "other.example"); p != nil {
		t.Errorf("no record: %+v", p)
	}
}
