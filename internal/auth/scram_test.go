package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/postern/postern/internal/store"
)

// RFC 7677 §3 example exchange.
const (
	rfc7677Salt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfc7677ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	rfc7677ClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfc7677ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfc7677ClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfc7677ServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func newRFC7677Env(t testing.TB, modify ...func(*Options)) *testEnv {
	t.Helper()
	e := newTestEnv(t, append([]func(*Options){func(o *Options) { o.SCRAMNonce = func() string { return rfc7677ServerNonce } }}, modify...)...)
	salt, _ := base64.StdEncoding.DecodeString(rfc7677Salt)
	creds, err := deriveSCRAM("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	e.accounts.add(store.Account{Name: "user", SCRAM: creds})
	return e
}

func TestSCRAMRFC7677(t *testing.T) {
	e := newRFC7677Env(t)
	m, _ := e.auth.NewMechanism("SCRAM-SHA-256", connFrom(addrA))
	acct, ok := runExchange(t, m, []step{
		{nil, "", false, nil},
		{[]byte(rfc7677ClientFirst), rfc7677ServerFirst, false, nil},
		{[]byte(rfc7677ClientFinal), rfc7677ServerFinal, true, nil},
	})
	if !ok || acct.Name != "user" {
		t.Fatalf("Identity = %q, %v", acct.Name, ok)
	}
}

func TestSCRAMFailures(t *testing.T) {
	badProof := strings.Replace(rfc7677ClientFinal, "p=dHzb", "p=dHzc", 1)
	tests := []struct {
		name                   string
		first, final           string
		wantFinal              string
		wantErrAt1, wantErrAt2 error
	}{
		{name: "wrong proof", first: rfc7677ClientFirst, final: badProof, wantFinal: "e=invalid-proof", wantErrAt2: ErrBadCredentials},
		{name: "channel binding differs", first: rfc7677ClientFirst,
			final:     strings.Replace(rfc7677ClientFinal, "c=biws", "c=eSws", 1), // "y,,"
			wantFinal: "e=channel-bindings-dont-match", wantErrAt2: ErrMalformed},
		{name: "nonce differs", first: rfc7677ClientFirst,
			final:     strings.Replace(rfc7677ClientFinal, "k0,p=", "k1,p=", 1),
			wantFinal: "e=other-error", wantErrAt2: ErrMalformed},
		{name: "garbled final", first: rfc7677ClientFirst, final: "c=biws", wantFinal: "e=invalid-encoding", wantErrAt2: ErrMalformed},
		{name: "channel binding required", first: "p=tls-unique,,n=user,r=abc", wantErrAt1: ErrChannelBinding},
		{name: "authzid other user", first: "n,a=admin,n=user,r=abc", wantErrAt1: ErrAuthzidNotAllowed},
		{name: "mandatory extension", first: "n,,m=ext,n=user,r=abc", wantErrAt1: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRFC7677Env(t)
			m, _ := e.auth.NewMechanism("SCRAM-SHA-256", ConnInfo{})
			ch, done, err := m.Next(context.Background(), []byte(tt.first))
			if tt.wantErrAt1 != nil {
				if !errors.Is(err, tt.wantErrAt1) || !done || ch != nil {
					t.Fatalf("client-first: %q %v %v, want error %v", ch, done, err, tt.wantErrAt1)
				}
				return
			}
			if err != nil || done {
				t.Fatalf("client-first: %v %v", done, err)
			}
			ch, done, err = m.Next(context.Background(), []byte(tt.final))
			if !errors.Is(err, tt.wantErrAt2) || !done || string(ch) != tt.wantFinal {
				t.Fatalf("client-final: %q %v %v, want %q, %v", ch, done, err, tt.wantFinal, tt.wantErrAt2)
			}
			if _, ok := m.Identity(); ok {
				t.Error("Identity ok after failure")
			}
		})
	}
}

// scramClient runs an exchange with github.com/xdg-go/scram, an independent
// client implementation, and returns the server's verdict and whether the
// client accepted the server's signature.
func scramClient(t *testing.T, a *Authenticator, user, password string) (acct store.Account, serverOK bool, err error) {
	t.Helper()
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		t.Fatalf("scram.NewClient: %v", err)
	}
	conv := client.NewConversation()
	m, _ := a.NewMechanism("SCRAM-SHA-256", connFrom(addrA))
	var challenge string
	for {
		msg, err := conv.Step(challenge)
		if err != nil {
			t.Fatalf("client step: %v", err)
		}
		ch, done, err := m.Next(context.Background(), []byte(msg))
		if err != nil {
			acct, _ := m.Identity()
			return acct, false, err
		}
		challenge = string(ch)
		if done {
			_, cerr := conv.Step(challenge)
			acct, _ := m.Identity()
			return acct, cerr == nil && conv.Valid(), nil
		}
	}
}

func TestSCRAMIndependentClient(t *testing.T) {
	e := newTestEnv(t)
	e.addUser(t, "alice", "pencil")
	e.addUser(t, "u,=ser", "pw")
	// Set in composed form, typed in decomposed form: both sides SASLprep.
	e.addUser(t, "jorg", "caf\u00e9 \u2168")
	e.addUser(t, "off", "pw", func(a *store.Account) { a.NoMail = true })
	e.addUser(t, "legacy", "pw", func(a *store.Account) { a.SCRAM = store.SCRAMCredentials{} })

	tests := []struct {
		user, password string
		want           error
	}{
		{"alice", "pencil", nil},
		{"ALICE", "pencil", nil},
		{"u,=ser", "pw", nil},
		{"jorg", "cafe\u0301 IX", nil},
		{"alice", "Pencil", ErrBadCredentials},
		{"nobody", "pencil", ErrUnknownUser},
		{"off", "pw", ErrNoMail},
		{"legacy", "pw", ErrNoSCRAMCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.password, func(t *testing.T) {
			acct, serverOK, err := scramClient(t, e.auth, tt.user, tt.password)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (!serverOK || acct.Name != strings.ToLower(tt.user)) {
				t.Errorf("client rejected the server signature (%v) or identity %q wrong", serverOK, acct.Name)
			}
		})
	}
}

// TestSCRAMUnknownUserLooksReal checks that the fake exchange for an
// unknown user has a stable salt and the default iteration count.
func TestSCRAMUnknownUserLooksReal(t *testing.T) {
	e := newTestEnv(t)
	first := func(user string) string {
		m, _ := e.auth.NewMechanism("SCRAM-SHA-256", ConnInfo{})
		ch, done, err := m.Next(context.Background(), []byte("n,,n="+user+",r=abc"))
		if err != nil || done {
			t.Fatalf("client-first for %q: %v %v", user, done, err)
		}
		_, rest, _ := strings.Cut(string(ch), ",s=")
		return rest
	}
	a, b, c := first("ghost"), first("GHOST"), first("spectre")
	if a != b {
		t.Errorf("fake salt not stable: %q vs %q", a, b)
	}
	if a == c {
		t.Errorf("two unknown users share a fake salt %q", a)
	}
	if !strings.HasSuffix(a, ",i=4096") {
		t.Errorf("fake iteration count: %q", a)
	}
}

func TestParseSCRAMClientFirst(t *testing.T) {
	good := func(msg, gs2, authzid, user, nonce string) {
		t.Helper()
		cf, err := parseSCRAMClientFirst([]byte(msg))
		if err != nil || cf.gs2Header != gs2 || cf.authzid != authzid || cf.user != user || cf.nonce != nonce || gs2+cf.bare != msg {
			t.Errorf("parseSCRAMClientFirst(%q) = %+v, %v", msg, cf, err)
		}
	}
	bad := func(msg string, want error) {
		t.Helper()
		if _, err := parseSCRAMClientFirst([]byte(msg)); !errors.Is(err, want) {
			t.Errorf("parseSCRAMClientFirst(%q) err = %v, want %v", msg, err, want)
		}
	}
	good(rfc7677ClientFirst, "n,,", "", "user", "rOprNGfwEbeRWgbNEkqO")
	good("y,,n=user,r=abc", "y,,", "", "user", "abc")
	good("n,a=us=3Der,n=us=2Cer=3D,r=abc,x=ext", "n,a=us=3Der,", "us=er", "us,er=", "abc")
	bad("", ErrMalformed)
	bad("n", ErrMalformed)
	bad("x,,n=user,r=abc", ErrMalformed)
	bad("n,n=user,r=abc", ErrMalformed)
	bad("n,,r=abc,n=user", ErrMalformed)
	bad("n,,n=user", ErrMalformed)
	bad("n,,n=,r=abc", ErrMalformed)
	bad("n,,n=us=er,r=abc", ErrMalformed)
	bad("n,,n=user=2,r=abc", ErrMalformed)
	bad("n,,n=user,r=", ErrMalformed)
	bad("n,,n=user,r=a b", ErrMalformed)
	bad("n,,n=user,r=abc,1=x", ErrMalformed)
	bad("n,,n=user,r=abc,", ErrMalformed)
	bad("n,a=x", ErrMalformed)
	bad("n,,n=us\x00er,r=abc", ErrMalformed)
	bad("n,,n=\xff,r=abc", ErrMalformed)
	// The grammar admits any cb-name (RFC 5802 §7); which binding a
	// mechanism accepts is checked by the exchange (TestSCRAMPlus).
	good("p=tls-exporter,,n=user,r=abc", "p=tls-exporter,,", "", "user", "abc")
	good("p=tls-server-end-point,a=user,n=user,r=abc", "p=tls-server-end-point,a=user,", "user", "user", "abc")
	bad("p=,,n=user,r=abc", ErrMalformed)
	bad("p=tls_exporter,,n=user,r=abc", ErrMalformed)
	bad("p=tls-exporter", ErrMalformed)
	bad("n,,n=user,r="+strings.Repeat("a", maxSCRAMMessage), ErrMalformed)
}

func TestParseSCRAMClientFinal(t *testing.T) {
	cf, err := parseSCRAMClientFinal([]byte(rfc7677ClientFinal))
	if err != nil || string(cf.channelBinding) != "n,," || len(cf.proof) != 32 ||
		cf.withoutProof != "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" {
		t.Fatalf("parseSCRAMClientFinal(RFC 7677) = %+v, %v", cf, err)
	}
	withExt := "c=biws,r=abc,x=1,y=2,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	if cf, err := parseSCRAMClientFinal([]byte(withExt)); err != nil || cf.withoutProof != "c=biws,r=abc,x=1,y=2" {
		t.Errorf("with extensions: %+v, %v", cf, err)
	}
	for _, msg := range []string{
		"",
		"c=biws",
		"c=biws,r=abc",
		"r=abc,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=abc,p=dHzb",
		"c=b!ws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
		"c=biws,r=abc,=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	} {
		if _, err := parseSCRAMClientFinal([]byte(msg)); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseSCRAMClientFinal(%q) err = %v", msg, err)
		}
	}
}
