package msgauth

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/msgauth/dnstest"
)

// world is a test DNS with example.org publishing SPF, DKIM and DMARC
// p=reject, and the key that signs for it.
type world struct {
	dns *dnstest.Server
	key keyList
	ib  *Inbound
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{dns: dnstest.Start(t)}
	k := newKey(t, "example.org", "s1", AlgorithmEd25519)
	publish(t, w.dns, k)
	w.key = keyList{k}
	w.dns.TXT("example.org", "v=spf1 ip4:192.0.2.1 -all")
	w.dns.TXT("_dmarc.example.org", "v=DMARC1; p=reject; sp=none")
	w.ib = &Inbound{Checker: &Checker{Resolver: NewResolver(w.dns.Addr), Timeout: 5 * time.Second}, AuthservID: "mx.test"}
	return w
}

func (w *world) decide(t *testing.T, ip, mailFrom, msg string) Decision {
	t.Helper()
	return w.ib.Decide(t.Context(), Input{IP: net.ParseIP(ip), Helo: "client.example.net", MailFrom: mailFrom,
		Open: func() io.Reader { return strings.NewReader(msg) }})
}

// results returns the header's results unfolded, one per element.
func results(h string) []string {
	h = strings.TrimSuffix(strings.ReplaceAll(h, "\r\n\t", " "), "\r\n")
	parts := strings.Split(h, "; ")
	return parts[1:]
}

func wantResults(t *testing.T, d Decision, want ...string) {
	t.Helper()
	got := results(d.Header)
	if len(got) != len(want) {
		t.Fatalf("Authentication-Results %q, want results %q", d.Header, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("result %d = %q, want prefix %q (header %q)", i, got[i], want[i], d.Header)
		}
	}
}

// TestInboundPass: SPF, DKIM and DMARC all pass for the domain's own
// server and key; the header names us as authserv-id.
func TestInboundPass(t *testing.T) {
	w := newWorld(t)
	msg := sign(t, w.key, testMsg) + testMsg
	d := w.decide(t, "192.0.2.1", "alice@example.org", msg)
	if d.Refuse != nil {
		t.Fatalf("refused: %v", d.Refuse)
	}
	if !strings.HasPrefix(d.Header, "Authentication-Results: mx.test;\r\n\t") {
		t.Errorf("header %q", d.Header)
	}
	wantResults(t, d, "spf=pass smtp.mailfrom=example.org", "dkim=pass header.d=example.org", "dmarc=pass header.from=example.org")
}

// TestInboundDMARCFail: a forgery (wrong IP, no signature) fails SPF and
// DMARC; with Dmarc-Reject the p=reject policy refuses it with 550 5.7.1,
// without it the message is marked only.
func TestInboundDMARCFail(t *testing.T) {
	w := newWorld(t)
	d := w.decide(t, "198.51.100.7", "alice@example.org", testMsg)
	if d.Refuse != nil {
		t.Fatalf("refused without Dmarc-Reject: %v", d.Refuse)
	}
	wantResults(t, d, "spf=fail", "dkim=none", "dmarc=fail")
	w.ib.DMARCReject = true
	d = w.decide(t, "198.51.100.7", "alice@example.org", testMsg)
	if d.Refuse == nil || d.Refuse.Code != 550 || d.Refuse.EnhancedCode != [3]int{5, 7, 1} {
		t.Fatalf("Dmarc-Reject on: %+v, want 550 5.7.1", d.Refuse)
	}
	// A signature of the From domain passes DMARC from anywhere.
	signed := sign(t, w.key, testMsg) + testMsg
	if d := w.decide(t, "198.51.100.7", "bounce@lists.example.net", signed); d.Refuse != nil {
		t.Errorf("aligned DKIM pass refused: %v (%q)", d.Refuse, d.Header)
	}
	// A subdomain falls under sp=none: marked, never refused.
	sub := strings.Replace(testMsg, "alice@example.org", "alice@news.example.org", 1)
	if d := w.decide(t, "198.51.100.7", "alice@news.example.org", sub); d.Refuse != nil {
		t.Errorf("sp=none subdomain refused: %v", d.Refuse)
	}
}

// TestInboundNone: a domain without SPF or DMARC records gets none.
func TestInboundNone(t *testing.T) {
	w := newWorld(t)
	msg := strings.Replace(testMsg, "alice@example.org", "carol@plain.example", 1)
	d := w.decide(t, "198.51.100.7", "carol@plain.example", msg)
	if d.Refuse != nil {
		t.Fatal(d.Refuse)
	}
	wantResults(t, d, "spf=none", "dkim=none", "dmarc=none")
}

// TestInboundDNSFailure: a DMARC record that cannot be fetched (SERVFAIL,
// or an answer slower than the budget) is a temperror, answered 451 4.4.3
// within bounded time — never a pass.
func TestInboundDNSFailure(t *testing.T) {
	w := newWorld(t)
	w.dns.Fail("_dmarc.example.org")
	d := w.decide(t, "192.0.2.1", "alice@example.org", testMsg)
	if d.Refuse == nil || d.Refuse.Code != 451 {
		t.Fatalf("SERVFAIL: %+v, want 451 (header %q)", d.Refuse, d.Header)
	}
	wantResults(t, d, "spf=pass", "dkim=none", "dmarc=temperror")

	w2 := newWorld(t)
	w2.ib.Checker.Timeout = time.Second
	w2.dns.Delay("example.org", 3*time.Second)
	start := time.Now()
	d = w2.decide(t, "192.0.2.1", "alice@example.org", testMsg)
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Errorf("checks took %v with a 1s budget", el)
	}
	if d.Refuse == nil || d.Refuse.Code != 451 {
		t.Errorf("slow DNS: %+v, want 451 (header %q)", d.Refuse, d.Header)
	}
	wantResults(t, d, "spf=temperror", "dkim=none", "dmarc=temperror")
}

// TestSPFLookupLimit: a record needing more than 10 lookups is a
// permerror (RFC 7208 §4.6.4), and DMARC then fails, not errs.
func TestSPFLookupLimit(t *testing.T) {
	w := newWorld(t)
	w.dns.TXT("loop.example", "v=spf1 include:l0.loop.example -all")
	for i := range 12 {
		w.dns.TXT(fmt.Sprintf("l%d.loop.example", i), fmt.Sprintf("v=spf1 include:l%d.loop.example -all", i+1))
	}
	w.dns.TXT("_dmarc.loop.example", "v=DMARC1; p=quarantine")
	msg := strings.Replace(testMsg, "alice@example.org", "x@loop.example", 1)
	d := w.decide(t, "192.0.2.1", "x@loop.example", msg)
	wantResults(t, d, "spf=permerror", "dkim=none", "dmarc=fail")
	if q := w.dns.Queries(); q > 40 {
		t.Errorf("%d DNS queries for one message", q)
	}
}

// TestMalformedSignatures: broken DKIM-Signature fields are permerrors,
// many of them are cut at maxSignatures, and a huge TXT record (over
// UDP's size, fetched over TCP) does not break the check.
func TestMalformedSignatures(t *testing.T) {
	w := newWorld(t)
	bad := []string{
		"DKIM-Signature: garbage\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; d=example.org; s=huge; c=relaxed/relaxed; h=from; bh=; b=\r\n",
	}
	w.dns.TXT("huge._domainkey.example.org", "v=DKIM1; k=ed25519; p="+strings.Repeat("A", 6000))
	d := w.decide(t, "192.0.2.1", "alice@example.org", strings.Join(bad, "")+testMsg)
	got := results(d.Header)
	if len(got) != 5 {
		t.Fatalf("header %q", d.Header)
	}
	for _, r := range got[1:4] {
		if !strings.HasPrefix(r, "dkim=permerror") && !strings.HasPrefix(r, "dkim=fail") {
			t.Errorf("malformed signature gave %q", r)
		}
	}
	many := strings.Repeat(bad[0], 50) + testMsg
	if got := results(w.decide(t, "192.0.2.1", "alice@example.org", many).Header); len(got) != 2+maxSignatures {
		t.Errorf("50 signatures gave %d results, want %d", len(got), 2+maxSignatures)
	}
}

// TestAuthservID: the authserv-id of Authentication-Results values,
// through comments and quoting (RFC 8601 §2.2).
func TestAuthservID(t *testing.T) {
	for in, want := range map[string]string{
		" mx.test; spf=pass":            "mx.test",
		"mx.test":                       "mx.test",
		"(comment (nested)) MX.test 1;": "MX.test",
		"\r\n\t\"mx.test\"; none":       "mx.test",
		`"m\"x"; none`:                  `m"x`,
		"  ; none":                      "",
		"(unclosed":                     "",
	} {
		got, ok := AuthservID([]byte(in))
		if got != want || ok != (want != "") {
			t.Errorf("AuthservID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if !IsOurs([]byte(" MX.TEST; dkim=pass"), "mx.test") || IsOurs([]byte(" mx.test.evil; dkim=pass"), "mx.test") {
		t.Error("IsOurs")
	}
}

func FuzzAuthservID(f *testing.F) {
	for _, s := range []string{" mx.test; spf=pass", `(a(b)c) "q\"d" 1; none`, "(", `"`, "\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		id, ok := AuthservID(v)
		if ok && id == "" {
			t.Fatal("ok with an empty id")
		}
		if len(id) > len(v) {
			t.Fatal("id longer than the value")
		}
	})
}
