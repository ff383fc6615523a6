package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// oauthScript authenticates with a bearer token over IMAP (OAUTHBEARER),
// POP3 (OAUTHBEARER on a continuation line) and submission (XOAUTH2), and
// prints each protocol's answer.
const oauthScript = `
import base64, imaplib, poplib, smtplib, sys
imap, pop, sub, user, token = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ob = ("n,a=%s,\x01auth=Bearer %s\x01\x01" % (user, token)).encode()
xo = ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode()
m = imaplib.IMAP4("127.0.0.1", imap)
m.capability()
print("imap caps", "AUTH=OAUTHBEARER" in m.capabilities, "AUTH=XOAUTH2" in m.capabilities)
state = {"n": 0}
def answer(chal):
    state["n"] += 1
    return ob if state["n"] == 1 else b"\x01"
try:
    m.authenticate("OAUTHBEARER", answer)
    print("imap ok", m.select("INBOX", readonly=True)[1][0].decode())
except imaplib.IMAP4.error as e:
    print("imap refused", e)
p = poplib.POP3("127.0.0.1", pop)
r = p._shortcmd("AUTH OAUTHBEARER")
try:
    r = p._shortcmd(base64.b64encode(ob).decode())
    if r.startswith(b"+ "):
        print("pop3 challenge", base64.b64decode(r[2:]).decode())
        r = p._shortcmd(base64.b64encode(b"\x01").decode())
    print("pop3 ok", r.decode())
except poplib.error_proto as e:
    print("pop3 refused", e)
except Exception as e:
    print("pop3 other", e)
s = smtplib.SMTP("127.0.0.1", sub); s.ehlo()
print("smtp caps", "XOAUTH2" in s.esmtp_features.get("auth", ""))
code, resp = s.docmd("AUTH", "XOAUTH2 " + base64.b64encode(xo).decode())
if code == 334:
    print("smtp challenge", base64.b64decode(resp).decode())
    code, resp = s.docmd("")
print("smtp", code)
`

// TestOAuthBearer (issue 22): with [OAuth] pointing at a JWKS endpoint on
// loopback, a token signed by its key logs alice in over IMAP, POP3 and
// submission; an expired one and one for another audience are refused on
// each, with RFC 7628's error exchange.
func TestOAuthBearer(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key, KeyID: "e2e", Algorithm: "ES256", Use: "sig"}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk.Public()}})
	}))
	defer jwks.Close()
	sign := func(claims map[string]any) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(sig).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(aud string, exp time.Duration) map[string]any {
		return map[string]any{"iss": "https://idp.e2e", "aud": aud, "email": "alice@e2e.example.org",
			"email_verified": true, "exp": time.Now().Add(exp).Unix()}
	}
	e, p, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1\n")
	writeFile(t, e.conf, readFileString(t, e.conf)+"[OAuth]\nIssuer: https://idp.e2e\nAudience: postern\nJWKS-URL: "+jwks.URL+"\n")
	e.addUser("alice", "alice-pw")
	e.startMail()
	args := func(tok string) []string {
		return []string{strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission), "alice@e2e.example.org", tok}
	}
	out := python(t, oauthScript, args(sign(claims("postern", time.Hour)))...)
	for _, w := range []string{"imap caps True True", "imap ok 0", "pop3 ok +OK", "smtp caps True", "smtp 235"} {
		if !strings.Contains(out, w) {
			t.Errorf("good token: want %q in:\n%s", w, out)
		}
	}
	for name, tok := range map[string]string{
		"expired":        sign(claims("postern", -time.Hour)),
		"other audience": sign(claims("webmail", time.Hour)),
		"garbage":        "e30.e30.AAAA",
	} {
		out := python(t, oauthScript, args(tok)...)
		for _, w := range []string{"imap refused", `pop3 challenge {"status":"invalid_token"}`, "pop3 refused",
			`smtp challenge {"status":"401","schemes":"bearer"}`, "smtp 535"} {
			if !strings.Contains(out, w) {
				t.Errorf("%s token: want %q in:\n%s", name, w, out)
			}
		}
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
