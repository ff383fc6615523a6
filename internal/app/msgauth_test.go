package app

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/msgauth"
	"github.com/postern/postern/internal/msgauth/dnstest"
	"github.com/postern/postern/internal/smtp/smtpserver"
	"github.com/postern/postern/internal/store/sqlite"
)

const inboundMsg = "Authentication-Results: mx.test; dmarc=pass header.from=example.org\r\n" +
	"From: alice@example.org\r\nTo: bob@mx.test\r\nSubject: hi\r\n\r\nhi\r\n"

func opener(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }

// TestInboundInspector: a remote client's message gets our
// Authentication-Results (from the DNS the test serves) and loses the one
// forged in our name; a DMARC p=reject failure is refused 550 5.7.1 with
// Dmarc-Reject; loopback and Trusted-Networks clients are not checked.
func TestInboundInspector(t *testing.T) {
	dns := dnstest.Start(t)
	dns.TXT("example.org", "v=spf1 ip4:192.0.2.1 -all")
	dns.TXT("_dmarc.example.org", "v=DMARC1; p=reject")
	ib := &msgauth.Inbound{Checker: &msgauth.Checker{Resolver: msgauth.NewResolver(dns.Addr), Timeout: 5 * time.Second},
		AuthservID: "mx.test", DMARCReject: true}
	inspect := inboundInspector(ib, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")})
	env := func(ip string) smtpserver.Envelope {
		return smtpserver.Envelope{Mode: smtpserver.ModeInbound, Helo: "c.example", From: "alice@example.org",
			Remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 4000}}
	}
	res, err := inspect(t.Context(), env("192.0.2.1"), opener(inboundMsg))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Prepend, "spf=pass smtp.mailfrom=example.org") || !strings.Contains(res.Prepend, "dmarc=pass") {
		t.Errorf("Authentication-Results %q", res.Prepend)
	}
	if res.Drop == nil || !res.Drop("authentication-results", []byte(" MX.test; dkim=pass")) || res.Drop("Authentication-Results", []byte(" other.test; dkim=pass")) {
		t.Error("forged Authentication-Results not dropped, or another's dropped")
	}
	_, err = inspect(t.Context(), env("198.51.100.9"), opener(inboundMsg))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
		t.Errorf("forged mail: %v, want 550 5.7.1", err)
	}
	for _, ip := range []string{"127.0.0.1", "::1", "203.0.113.7"} {
		if res, err := inspect(t.Context(), env(ip), opener(inboundMsg)); err != nil || res.Prepend != "" || res.Drop != nil {
			t.Errorf("client %s was checked: %+v, %v", ip, res, err)
		}
	}
}

// TestSubmissionInspector: without a key of the From domain nothing is
// signed; with one the message gets its DKIM-Signature; forged
// Authentication-Results are dropped either way.
func TestSubmissionInspector(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	inspect := submissionInspector(st, "mx.test", slog.New(slog.DiscardHandler))
	env := smtpserver.Envelope{Mode: smtpserver.ModeSubmission}
	res, err := inspect(t.Context(), env, opener(inboundMsg))
	if err != nil || res.Prepend != "" || res.Drop == nil || !res.Drop("Authentication-Results", []byte(" mx.test; none")) {
		t.Errorf("submission inspection without keys: %+v, %v", res, err)
	}
	k, err := msgauth.NewKey("example.org", "s1", msgauth.AlgorithmEd25519, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddDKIMKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	res, err = inspect(t.Context(), env, opener(inboundMsg))
	if err != nil || !strings.HasPrefix(res.Prepend, "DKIM-Signature: ") || !strings.Contains(res.Prepend, "d=example.org") {
		t.Errorf("submission inspection with a key: %+v, %v", res, err)
	}
}

// TestBothDrop: both predicates see every field, so a milter's per-name
// count stays right after the checks dropped one.
func TestBothDrop(t *testing.T) {
	var seenB []string
	a := func(name string, _ []byte) bool { return name == "A" }
	b := func(name string, _ []byte) bool { seenB = append(seenB, name); return name == "B" }
	d := bothDrop(a, b)
	var dropped []string
	for _, n := range []string{"A", "B", "C"} {
		if d(n, nil) {
			dropped = append(dropped, n)
		}
	}
	if strings.Join(dropped, ",") != "A,B" || strings.Join(seenB, ",") != "A,B,C" {
		t.Errorf("dropped %v, b saw %v", dropped, seenB)
	}
	if bothDrop(nil, nil) != nil || bothDrop(a, nil) == nil {
		t.Error("nil handling")
	}
}
