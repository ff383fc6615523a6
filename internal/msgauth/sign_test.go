package msgauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/postern/postern/internal/msgauth/dnstest"
	"github.com/postern/postern/internal/store"
)

// keyList is a KeySource over a slice.
type keyList []store.DKIMKey

func (l keyList) DKIMKeys(_ context.Context, domain string) ([]store.DKIMKey, error) {
	var out []store.DKIMKey
	for _, k := range l {
		if k.Domain == domain {
			out = append(out, k)
		}
	}
	return out, nil
}

const testMsg = "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\n" +
	"Date: Mon, 07 Dec 2026 18:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nHello Bob,  \r\nhow are you?\r\n\r\n\r\n"

func newKey(t *testing.T, domain, selector, alg string) store.DKIMKey {
	t.Helper()
	k, err := NewKey(domain, selector, alg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// publish serves the key's record on the test DNS server.
func publish(t *testing.T, dns *dnstest.Server, k store.DKIMKey) {
	t.Helper()
	rec, err := Record(k)
	if err != nil {
		t.Fatal(err)
	}
	dns.TXT(RecordName(k), rec)
}

func sign(t *testing.T, keys KeySource, msg string) string {
	t.Helper()
	s := &Signer{Keys: keys}
	sig, err := s.Sign(t.Context(), func() io.Reader { return strings.NewReader(msg) })
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// TestSignVerify: a message signed with an RSA and an ed25519 key of its
// From domain carries two relaxed/relaxed sha256 signatures that
// go-msgauth's verifier accepts through the test DNS.
func TestSignVerify(t *testing.T) {
	dns := dnstest.Start(t)
	rsaKey, edKey := newKey(t, "example.org", "r1", AlgorithmRSA), newKey(t, "example.org", "e1", AlgorithmEd25519)
	publish(t, dns, rsaKey)
	publish(t, dns, edKey)
	sig := sign(t, keyList{rsaKey, edKey}, testMsg)
	if n := strings.Count(sig, "DKIM-Signature:"); n != 2 {
		t.Fatalf("%d signatures, want 2:\n%s", n, sig)
	}
	for _, want := range []string{"a=rsa-sha256", "a=ed25519-sha256", "c=relaxed/relaxed", "d=example.org", "s=r1", "s=e1"} {
		if !strings.Contains(strings.ReplaceAll(sig, "\r\n ", ""), want) {
			t.Errorf("signatures lack %q:\n%s", want, sig)
		}
	}
	verifs, err := dkim.VerifyWithOptions(strings.NewReader(sig+testMsg),
		&dkim.VerifyOptions{LookupTXT: txtLookup(t.Context(), NewResolver(dns.Addr))})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verifs {
		if v.Err != nil {
			t.Errorf("signature of %s: %v", v.Domain, v.Err)
		}
	}
}

// TestSignParentDomain: mail from a subdomain without keys is signed with
// the parent's key; mail from an unrelated domain, or without From, is
// not signed.
func TestSignParentDomain(t *testing.T) {
	k := newKey(t, "example.org", "s", AlgorithmEd25519)
	sub := strings.Replace(testMsg, "alice@example.org", "alice@news.example.org", 1)
	if sig := sign(t, keyList{k}, sub); !strings.Contains(sig, "d=example.org") {
		t.Errorf("subdomain mail: %q", sig)
	}
	other := strings.Replace(testMsg, "alice@example.org", "alice@example.com", 1)
	if sig := sign(t, keyList{k}, other); sig != "" {
		t.Errorf("mail of another domain signed: %q", sig)
	}
	if sig := sign(t, keyList{k}, "Subject: no from\r\n\r\nbody\r\n"); sig != "" {
		t.Errorf("mail without From signed: %q", sig)
	}
}

// TestNewKeyRefuses: bad names and algorithms are refused.
func TestNewKeyRefuses(t *testing.T) {
	for _, c := range [][3]string{{"", "s", "rsa"}, {"example.org", "", "rsa"}, {"exa mple.org", "s", "rsa"},
		{"example.org", "s;x", "rsa"}, {"example.org", "s", "dsa"}, {"-x.org", "s", "rsa"}} {
		if _, err := NewKey(c[0], c[1], c[2], time.Now()); err == nil {
			t.Errorf("NewKey(%q, %q, %q) accepted", c[0], c[1], c[2])
		}
	}
}

// TestSignDkimpy: the signatures verify with dkimpy (RSA and ed25519,
// RFC 8463), including on a message whose body and header whitespace the
// relaxed canonicalizations (RFC 6376 §3.4.2, §3.4.4) must absorb.
func TestSignDkimpy(t *testing.T) {
	py := requireTool(t, "/usr/bin/python3")
	requireTool(t, "/usr/bin/dkimverify") // python3-dkim, in test.sh's tools
	if out, err := exec.Command(py, "-c", "import dkim, dns.resolver, nacl").CombinedOutput(); err != nil {
		missing(t, "python3-dkim with python3-nacl and python3-dnspython: "+string(out))
	}
	dns := dnstest.Start(t)
	rsaKey, edKey := newKey(t, "example.org", "r1", AlgorithmRSA), newKey(t, "example.org", "e1", AlgorithmEd25519)
	publish(t, dns, rsaKey)
	publish(t, dns, edKey)
	msg := strings.Replace(testMsg, "Subject: hello", "Subject:   hello\r\n  folded  there", 1)
	for _, keys := range []keyList{{rsaKey}, {edKey}, {rsaKey, edKey}} {
		path := filepath.Join(t.TempDir(), "msg.eml")
		if err := os.WriteFile(path, []byte(sign(t, keys, msg)+msg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "-c", dnstest.DKIMPyVerify, dns.Addr, path).CombinedOutput()
		if err != nil {
			t.Errorf("dkimpy with %d key(s) (%s): %v\n%s", len(keys), keys[0].Algorithm, err, out)
		}
	}
	// The verifier can fail: a changed body does not verify.
	path := filepath.Join(t.TempDir(), "bad.eml")
	os.WriteFile(path, []byte(sign(t, keyList{rsaKey}, msg)+strings.Replace(msg, "Bob", "Rob", 1)), 0o600)
	if out, err := exec.Command(py, "-c", dnstest.DKIMPyVerify, dns.Addr, path).CombinedOutput(); err == nil {
		t.Errorf("dkimpy verified a changed body:\n%s", out)
	}
}

// requireTool returns the tool's path, or skips the test without it
// (fails under TEST_TOOLS_REQUIRED=1, as test.sh sets).
func requireTool(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, path)
	}
	return path
}

func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
		t.Fatalf("missing %s (test.sh tools list)", what)
	}
	t.Skipf("missing %s", what)
}

// dkimpySign signs the message in argv[2] with the PEM RSA key in argv[1]
// for d=example.org, s=py, relaxed/relaxed, and prints the field.
const dkimpySign = `
import sys, dkim
key = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read()
sys.stdout.write(dkim.sign(msg, b"py", b"example.org", key, canonicalize=(b"relaxed", b"relaxed"),
    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]).decode())
`

// TestVerifyDkimpySignature: the reverse of TestSignDkimpy — a signature
// made by dkimpy passes Postern's inbound DKIM check (and aligns DMARC),
// and fails once the body is changed.
func TestVerifyDkimpySignature(t *testing.T) {
	py := requireTool(t, "/usr/bin/python3")
	requireTool(t, "/usr/bin/dkimverify")
	k := newKey(t, "example.org", "py", AlgorithmRSA)
	priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath, msgPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "msg.eml")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv.(*rsa.PrivateKey))})
	if err := os.WriteFile(keyPath, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(msgPath, []byte(testMsg), 0o600)
	out, err := exec.Command(py, "-c", dkimpySign, keyPath, msgPath).Output()
	if err != nil || !strings.HasPrefix(string(out), "DKIM-Signature:") {
		t.Fatalf("dkimpy sign: %v %q", err, out)
	}
	sig := strings.ReplaceAll(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n", "\r\n")
	w := newWorld(t)
	publish(t, w.dns, k)
	d := w.decide(t, "198.51.100.7", "bounce@lists.example.net", sig+testMsg)
	wantResults(t, d, "spf=none", "dkim=pass header.d=example.org", "dmarc=pass")
	d = w.decide(t, "198.51.100.7", "bounce@lists.example.net", sig+strings.Replace(testMsg, "Bob", "Rob", 1))
	wantResults(t, d, "spf=none", "dkim=fail", "dmarc=fail")
}
