package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// step is one Next call of a SASL exchange and what it must return.
type step struct {
	response      []byte // nil: no initial response
	wantChallenge string
	wantDone      bool
	wantErr       error
}

// runExchange drives a mechanism through steps and returns the identity.
func runExchange(t *testing.T, m Mechanism, steps []step) (store.Account, bool) {
	t.Helper()
	for i, s := range steps {
		ch, done, err := m.Next(context.Background(), s.response)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
			t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
		}
		if string(ch) != s.wantChallenge || done != s.wantDone {
			t.Fatalf("step %d: challenge %q done %v, want %q %v", i, ch, done, s.wantChallenge, s.wantDone)
		}
	}
	return m.Identity()
}

func TestNewMechanism(t *testing.T) {
	e := newTestEnv(t)
	for _, name := range []string{"PLAIN", "plain", "LOGIN", "SCRAM-SHA-256", "scram-sha-256"} {
		if _, err := e.auth.NewMechanism(name, ConnInfo{}); err != nil {
			t.Errorf("NewMechanism(%q): %v", name, err)
		}
	}
	// SCRAM-SHA-256-PLUS only on a connection with tls-exporter data.
	for _, name := range []string{"", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS", "XOAUTH2"} {
		if _, err := e.auth.NewMechanism(name, ConnInfo{}); !errors.Is(err, ErrUnsupportedMechanism) {
			t.Errorf("NewMechanism(%q) err = %v", name, err)
		}
	}
	if _, err := e.auth.NewMechanism("SCRAM-SHA-256-PLUS", ConnInfo{TLSExporter: make([]byte, 32)}); !errors.Is(err, ErrUnsupportedMechanism) {
		t.Errorf("NewMechanism(SCRAM-SHA-256-PLUS) without Options.ChannelBinding: %v", err)
	}
	on := newTestEnv(t, func(o *Options) { o.ChannelBinding = true })
	if _, err := on.auth.NewMechanism("SCRAM-SHA-256-PLUS", ConnInfo{TLSExporter: make([]byte, 32)}); err != nil {
		t.Errorf("NewMechanism(SCRAM-SHA-256-PLUS) with binding data: %v", err)
	}
	if got := e.auth.Mechanisms(); len(got) != 4 || got[0] != MechSCRAMSHA256Plus || got[1] != MechSCRAMSHA256 {
		t.Errorf("Mechanisms = %v", got)
	}
}

func TestPlain(t *testing.T) {
	e := newTestEnv(t)
	e.addUser(t, "alice", "pw")
	e.addUser(t, "off", "pw", func(a *store.Account) { a.Disabled = true })

	tests := []struct {
		name  string
		steps []step
		ok    bool
	}{
		{"initial response", []step{{[]byte("\x00alice\x00pw"), "", true, nil}}, true},
		{"no initial response", []step{{nil, "", false, nil}, {[]byte("\x00alice\x00pw"), "", true, nil}}, true},
		{"authzid equals authcid", []step{{[]byte("Alice\x00alice\x00pw"), "", true, nil}}, true},
		{"authzid other user", []step{{[]byte("bob\x00alice\x00pw"), "", true, ErrAuthzidNotAllowed}}, false},
		{"wrong password", []step{{[]byte("\x00alice\x00pW"), "", true, ErrBadCredentials}}, false},
		{"unknown user", []step{{[]byte("\x00bob\x00pw"), "", true, ErrUnknownUser}}, false},
		{"disabled", []step{{[]byte("\x00off\x00pw"), "", true, ErrDisabled}}, false},
		{"empty initial response", []step{{[]byte{}, "", true, ErrMalformed}}, false},
		{"after done", []step{{[]byte("\x00alice\x00pw"), "", true, nil}, {[]byte("\x00alice\x00pw"), "", true, ErrExchangeDone}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := e.auth.NewMechanism("PLAIN", ConnInfo{})
			acct, ok := runExchange(t, m, tt.steps)
			if ok != tt.ok || (ok && acct.Name != "alice") {
				t.Errorf("Identity = %q, %v; want ok %v", acct.Name, ok, tt.ok)
			}
		})
	}
}

func TestParsePlain(t *testing.T) {
	good := func(msg, authzid, authcid, passwd string) {
		t.Helper()
		z, c, p, err := parsePlain([]byte(msg))
		if err != nil || z != authzid || c != authcid || p != passwd {
			t.Errorf("parsePlain(%q) = %q %q %q %v", msg, z, c, p, err)
		}
	}
	bad := func(msg string) {
		t.Helper()
		if _, _, _, err := parsePlain([]byte(msg)); !errors.Is(err, ErrMalformed) {
			t.Errorf("parsePlain(%q) err = %v, want ErrMalformed", msg, err)
		}
	}
	good("\x00tim\x00tanstaaftanstaaf", "", "tim", "tanstaaftanstaaf") // RFC 4616 §4
	good("Ursel\x00Kurt\x00xipj3plmq", "Ursel", "Kurt", "xipj3plmq")   // RFC 4616 §4
	good("\x00j\u00f6rg\x00p\u00e4ss wörd", "", "j\u00f6rg", "p\u00e4ss wörd")
	bad("")
	bad("alice")
	bad("\x00alice")
	bad("\x00alice\x00")
	bad("\x00\x00pw")
	bad("\x00alice\x00pw\x00")
	bad("a\x00b\x00c\x00d")
	bad("\x00alice\x00\xff\xfe")
	bad("\x00x\x00" + strings.Repeat("p", maxSASLField+1))
}

func TestLoginMechanism(t *testing.T) {
	e := newTestEnv(t)
	e.addUser(t, "alice", "pw")
	tests := []struct {
		name  string
		steps []step
		ok    bool
	}{
		{"classic", []step{
			{nil, "Username:", false, nil},
			{[]byte("alice"), "Password:", false, nil},
			{[]byte("pw"), "", true, nil},
		}, true},
		{"user as initial response", []step{
			{[]byte("alice"), "Password:", false, nil},
			{[]byte("pw"), "", true, nil},
		}, true},
		{"wrong password", []step{
			{nil, "Username:", false, nil},
			{[]byte("alice"), "Password:", false, nil},
			{[]byte("nope"), "", true, ErrBadCredentials},
			{[]byte("pw"), "", true, ErrExchangeDone},
		}, false},
		{"empty user", []step{
			{nil, "Username:", false, nil},
			{[]byte{}, "", true, ErrMalformed},
		}, false},
		{"empty password", []step{
			{[]byte("alice"), "Password:", false, nil},
			{[]byte{}, "", true, ErrMalformed},
		}, false},
		{"NUL in user", []step{
			{[]byte("al\x00ice"), "", true, ErrMalformed},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := e.auth.NewMechanism("LOGIN", ConnInfo{})
			acct, ok := runExchange(t, m, tt.steps)
			if ok != tt.ok || (ok && acct.Name != "alice") {
				t.Errorf("Identity = %q, %v; want ok %v", acct.Name, ok, tt.ok)
			}
		})
	}
}
