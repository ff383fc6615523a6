package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/postern/postern/internal/store"
)

// jwksServer serves a key set on loopback and counts its fetches.
type jwksServer struct {
	*httptest.Server
	set     atomic.Pointer[jose.JSONWebKeySet]
	fetches atomic.Int32
	down    atomic.Bool
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	s := &jwksServer{}
	s.set.Store(&jose.JSONWebKeySet{Keys: keys})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(s.set.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// signer signs tokens with a private key under a key id.
type signer struct {
	key jose.JSONWebKey // private
	alg jose.SignatureAlgorithm
}

func newES256(t *testing.T, kid string) signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{key: jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"}, alg: jose.ES256}
}

func newEdDSA(t *testing.T, kid string) signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{key: jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "EdDSA", Use: "sig"}, alg: jose.EdDSA}
}

func (s signer) public() jose.JSONWebKey { return s.key.Public() }

func (s signer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var oauthNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func goodClaims() map[string]any {
	return map[string]any{
		"iss": "https://idp.example", "aud": []string{"postern"}, "email": "alice@example.org",
		"email_verified": true, "exp": oauthNow.Add(time.Hour).Unix(), "iat": oauthNow.Add(-time.Minute).Unix(),
	}
}

func with(c map[string]any, k string, v any) map[string]any {
	c[k] = v
	if v == nil {
		delete(c, k)
	}
	return c
}

// unsigned builds a token by hand: "none" and HMAC tokens.
func unsigned(header string, claims map[string]any, sig string) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc(b) + "." + sig
}

func TestJWTVerifier(t *testing.T) {
	es, ed := newES256(t, "k1"), newEdDSA(t, "k2")
	other := newES256(t, "k1") // same kid, another key: a forged signature
	srv := newJWKSServer(t, es.public(), ed.public())
	clock := &fakeClock{now: oauthNow}
	v := NewTokenVerifier(OAuthOptions{Issuer: "https://idp.example", Audience: "postern",
		JWKSURL: srv.URL, Clock: clock.Now})
	ctx := context.Background()
	good := []struct {
		name, token, user string
	}{
		{"ES256", es.sign(t, goodClaims()), "alice@example.org"},
		{"EdDSA", ed.sign(t, goodClaims()), "alice@example.org"},
		{"no email_verified", es.sign(t, with(goodClaims(), "email_verified", nil)), "alice@example.org"},
	}
	for _, g := range good {
		if user, err := v.VerifyToken(ctx, g.token); err != nil || user != g.user {
			t.Errorf("%s: %q, %v", g.name, user, err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("%d key set fetches, want 1 (cached)", n)
	}
	bad := []struct{ name, token string }{
		{"expired", es.sign(t, with(goodClaims(), "exp", oauthNow.Add(-2*time.Minute).Unix()))},
		{"no exp", es.sign(t, with(goodClaims(), "exp", nil))},
		{"not yet valid", es.sign(t, with(goodClaims(), "nbf", oauthNow.Add(10*time.Minute).Unix()))},
		{"wrong audience", es.sign(t, with(goodClaims(), "aud", "webmail"))},
		{"wrong issuer", es.sign(t, with(goodClaims(), "iss", "https://evil.example"))},
		{"bad signature", other.sign(t, goodClaims())},
		{"email not verified", es.sign(t, with(goodClaims(), "email_verified", false))},
		{"no email", es.sign(t, with(goodClaims(), "email", nil))},
		{"alg none", unsigned(`{"alg":"none","kid":"k1"}`, goodClaims(), "")},
		{"HS256", unsigned(`{"alg":"HS256","kid":"k1"}`, goodClaims(), "c2ln")},
		{"garbage", "not.a.jwt"},
		{"huge", strings.Repeat("a", MaxBearerToken+1)},
		{"huge claims", es.sign(t, with(goodClaims(), "x", strings.Repeat("y", MaxBearerToken)))},
	}
	for _, b := range bad {
		if user, err := v.VerifyToken(ctx, b.token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %q, %v; want ErrInvalidToken", b.name, user, err)
		}
	}
	// An unknown kid re-fetches the set (rotation), at most once a period.
	rot := newES256(t, "k3")
	srv.set.Store(&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.public(), rot.public()}})
	before := srv.fetches.Load()
	if _, err := v.VerifyToken(ctx, rot.sign(t, goodClaims())); !errors.Is(err, ErrInvalidToken) || srv.fetches.Load() != before {
		t.Errorf("unknown kid within the period: %v, %d fetches", err, srv.fetches.Load()-before)
	}
	clock.Advance(jwksRefetchPeriod)
	if _, err := v.VerifyToken(ctx, rot.sign(t, goodClaims())); err != nil {
		t.Errorf("rotated key: %v", err)
	}
	// A key set that cannot be fetched is a temporary failure, never a
	// wrong credential.
	down := NewTokenVerifier(OAuthOptions{Issuer: "https://idp.example", Audience: "postern",
		JWKSURL: srv.URL, Clock: func() time.Time { return oauthNow }})
	srv.down.Store(true)
	if _, err := down.VerifyToken(ctx, es.sign(t, goodClaims())); err == nil || errors.Is(err, ErrBadCredentials) {
		t.Errorf("key set down: %v, want a temporary error", err)
	}
}

func TestIntrospection(t *testing.T) {
	var answer atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "postern" || secret != "s3cret" || r.FormValue("token") == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(answer.Load().(string)))
	}))
	defer srv.Close()
	v := NewTokenVerifier(OAuthOptions{Issuer: "https://idp.example", Audience: "postern", IntrospectionURL: srv.URL,
		ClientID: "postern", ClientSecret: "s3cret", UsernameClaim: "username", Clock: func() time.Time { return oauthNow }})
	ctx := context.Background()
	exp := oauthNow.Add(time.Hour).Unix()
	answer.Store(`{"active":true,"username":"bob","iss":"https://idp.example","aud":"postern","exp":` + itoa(exp) + `}`)
	if user, err := v.VerifyToken(ctx, "opaque"); err != nil || user != "bob" {
		t.Errorf("active: %q, %v", user, err)
	}
	for _, a := range []string{`{"active":false}`, `{"active":true,"username":"bob","aud":"other"}`,
		`{"active":true,"aud":"postern"}`, `{"active":true,"username":"bob","aud":"postern","exp":1}`} {
		answer.Store(a)
		if _, err := v.VerifyToken(ctx, "opaque"); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", a, err)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// fixedVerifier maps tokens to users.
type fixedVerifier map[string]string

func (f fixedVerifier) VerifyToken(_ context.Context, token string) (string, error) {
	if u, ok := f[token]; ok {
		return u, nil
	}
	return "", ErrInvalidToken
}

// TestBearerMechanisms: OAUTHBEARER and XOAUTH2 exchanges, the RFC 7628
// error challenge and its %x01 answer, authzid checks, account rules.
func TestBearerMechanisms(t *testing.T) {
	e := newTestEnv(t, func(o *Options) {
		o.Bearer = fixedVerifier{"tok-alice": "alice", "tok-bob": "bob", "tok-ghost": "ghost"}
		o.Throttle.Off = true
	})
	e.addUser(t, "alice", "pw")
	e.addUser(t, "bob", "pw", func(a *store.Account) { a.Disabled = true })
	if m := e.auth.Mechanisms(); !strings.Contains(strings.Join(m, " "), "OAUTHBEARER XOAUTH2") {
		t.Fatalf("mechanisms %v", m)
	}
	ctx := context.Background()
	run := func(mech string, msg string) (store.Account, []byte, error) {
		m, err := e.auth.NewMechanism(mech, connFrom(addrA))
		if err != nil {
			t.Fatal(err)
		}
		chal, done, err := m.Next(ctx, []byte(msg))
		if !done && err == nil {
			// The error challenge: answered with %x01, then failure.
			var done2 bool
			if _, done2, err = m.Next(ctx, []byte{1}); !done2 || err == nil {
				t.Fatalf("%s: after the error challenge: done %v, %v", mech, done2, err)
			}
		}
		acct, _ := m.Identity()
		return acct, chal, err
	}
	ob := func(authz, tok string) string { return "n," + authz + ",\x01host=x\x01auth=Bearer " + tok + "\x01\x01" }
	tests := []struct {
		mech, msg, want string
		err             error
		errChal         string
	}{
		{MechOAuthBearer, ob("", "tok-alice"), "alice", nil, ""},
		{MechOAuthBearer, ob("a=alice", "tok-alice"), "alice", nil, ""},
		{MechOAuthBearer, ob("a=bob", "tok-alice"), "", ErrInvalidToken, oauthBearerError},
		{MechOAuthBearer, ob("", "bad"), "", ErrInvalidToken, oauthBearerError},
		{MechOAuthBearer, ob("", "tok-ghost"), "", ErrInvalidToken, oauthBearerError},
		{MechOAuthBearer, ob("", "tok-bob"), "", ErrDisabled, ""},
		{MechOAuthBearer, "p=tls-unique,,\x01auth=Bearer x\x01\x01", "", ErrMalformed, ""},
		{MechOAuthBearer, "n,,\x01auth=Basic x\x01\x01", "", ErrMalformed, ""},
		{MechOAuthBearer, "n,,\x01auth=Bearer x\x01", "", ErrMalformed, ""},
		{MechXOAuth2, "user=alice\x01auth=Bearer tok-alice\x01\x01", "alice", nil, ""},
		{MechXOAuth2, "user=bob\x01auth=Bearer tok-alice\x01\x01", "", ErrInvalidToken, xoauth2Error},
		{MechXOAuth2, "auth=Bearer tok-alice\x01\x01", "", ErrMalformed, ""},
	}
	for _, tt := range tests {
		acct, chal, err := run(tt.mech, tt.msg)
		if acct.Name != tt.want || (tt.err == nil) != (err == nil) || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("%s %q = %q, %v; want %q, %v", tt.mech, tt.msg, acct.Name, err, tt.want, tt.err)
		}
		if string(chal) != tt.errChal && !(tt.errChal == "" && chal == nil) {
			t.Errorf("%s %q: challenge %q, want %q", tt.mech, tt.msg, chal, tt.errChal)
		}
	}
}
