package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/source/ldaptest"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/testport"
)

// memStore is an in-memory auth.DirectoryStore.
type memStore struct {
	mu   sync.Mutex
	accs map[string]store.Account
}

func newMemStore() *memStore { return &memStore{accs: map[string]store.Account{}} }

func (m *memStore) Account(_ context.Context, name string) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accs[strings.ToLower(name)]
	if !ok {
		return store.Account{}, fmt.Errorf("%q: %w", name, store.ErrNoSuchAccount)
	}
	return a, nil
}

func (m *memStore) CreateAccount(_ context.Context, name string, u store.AccountUpdate) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = strings.ToLower(name)
	if _, ok := m.accs[name]; ok {
		return store.Account{}, store.ErrAccountExists
	}
	a := store.Account{ID: store.AccountID(len(m.accs) + 1), Name: name, Source: store.SourceLocal}
	if u.Source != nil {
		a.Source = *u.Source
	}
	if u.Admin != nil {
		a.Admin = *u.Admin
	}
	m.accs[name] = a
	return a, nil
}

func (m *memStore) Accounts(context.Context) ([]store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Account
	for _, a := range m.accs {
		out = append(out, a)
	}
	return out, nil
}

// testLDAPOptions are the options of a source over s, with a filter that
// excludes entries of employeeType "disabled" (the documented form of a
// directory's lock).
func testLDAPOptions(s *ldaptest.Server, st auth.AccountStore) LDAPOptions {
	return LDAPOptions{
		URLs: []string{s.LDAPSURL}, TLS: s.TLS, BindDN: ldaptest.RootDN, BindPass: ldaptest.RootPW, BaseDN: ldaptest.Suffix,
		UserFilter: "(&(objectClass=inetOrgPerson)(uid=%n)(!(employeeType=disabled)))", MailFilter: DefaultMailFilter,
		NameAttr: DefaultNameAttribute, MailAttr: DefaultMailAttribute, BindAsUser: true, Timeout: time.Second,
		Store: st, Hasher: &auth.Hasher{Argon2: auth.CheapArgon2Params()},
	}
}

func newTestLDAP(t *testing.T, opts LDAPOptions) (*LDAP, *auth.Authenticator) {
	t.Helper()
	src, err := NewLDAP(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	a := auth.New(auth.Options{Store: opts.Store, Sources: []auth.Source{src}, Hasher: opts.Hasher,
		Throttle: auth.ThrottleOptions{Off: true}})
	return src, a
}

// TestLDAPSource drives logins through the Authenticator against a
// private slapd over ldaps: users, a user the filter excludes, an
// ambiguous name, an entry whose name cannot be an account, an empty
// password and filter-injection attempts; a first login makes the store
// account, recording the source.
func TestLDAPSource(t *testing.T) {
	s := ldaptest.Start(t)
	st := newMemStore()
	st.CreateAccount(t.Context(), "root", store.AccountUpdate{})
	src, a := newTestLDAP(t, testLDAPOptions(s, st))
	ctx := t.Context()
	tests := []struct {
		user, pw string
		want     error
	}{
		{"alice", "alice-pw", nil},
		{"ALICE@example.org", "alice-pw", nil}, // %n, case-insensitive match
		{"alice", "wrong", auth.ErrBadCredentials},
		{"alice", "", auth.ErrBadCredentials}, // RFC 4513 §5.1.2
		{"carol", "carol-pw", auth.ErrUnknownUser},
		{"dup", "dup-pw", auth.ErrUnknownUser},
		{"bad_name!", "x", auth.ErrUnknownUser},
		{"nobody", "x", auth.ErrUnknownUser},
		{"*", "alice-pw", auth.ErrUnknownUser},
		{"*)(uid=*", "alice-pw", auth.ErrUnknownUser},
		{"alice)(uid=*", "alice-pw", auth.ErrUnknownUser},
		{"*)(|(uid=*", "alice-pw", auth.ErrUnknownUser},
		{"alice\x00", "alice-pw", auth.ErrUnknownUser},
		{`alice\`, "alice-pw", auth.ErrUnknownUser},
		{`\2a`, "alice-pw", auth.ErrUnknownUser},
		{strings.Repeat("a", 400), "x", auth.ErrUnknownUser},
	}
	for _, tt := range tests {
		acct, err := a.Login(ctx, tt.user, tt.pw, auth.ConnInfo{})
		if tt.want == nil && (err != nil || acct.Name != "alice" || acct.Source != SourceLDAP || acct.ID == 0) {
			t.Errorf("Login(%q) = %+v, %v; want ldap's alice", tt.user, acct, err)
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Login(%q, %q) = %v, want %v", tt.user, tt.pw, err, tt.want)
		}
	}
	if got, _ := st.Account(ctx, "alice"); got.Source != SourceLDAP {
		t.Errorf("store account alice: %+v", got)
	}
	if acct, err := src.LookupAddress(ctx, "robert@example.org"); err != nil || acct.Name != "bob" || acct.ID != 0 {
		t.Errorf("LookupAddress(robert@) = %+v, %v; want bob, not yet in the store", acct, err)
	}
	if _, err := src.LookupAddress(ctx, "*@example.org"); !errors.Is(err, auth.ErrUnknownUser) {
		t.Errorf("LookupAddress(*@example.org) = %v", err)
	}
	// A Mail-Filter that matches on something else than the address: the
	// entry found must hold the address in Mail-Attribute.
	opts := testLDAPOptions(s, st)
	opts.MailFilter = "(&(objectClass=inetOrgPerson)(cn=%n))"
	loose, _ := newTestLDAP(t, opts)
	if acct, err := loose.LookupAddress(ctx, "alice@example.org"); err != nil || acct.Name != "alice" {
		t.Errorf("cn filter, alice@example.org = %+v, %v; want alice", acct, err)
	}
	if _, err := loose.LookupAddress(ctx, "alice@elsewhere.example"); !errors.Is(err, auth.ErrUnknownUser) {
		t.Errorf("cn filter, alice@elsewhere.example = %v; want unknown (not in mail)", err)
	}
	// A filter that matches every user: the directory stops at two
	// entries (sizeLimitExceeded) and the login is refused.
	opts = testLDAPOptions(s, st)
	opts.UserFilter = "(objectClass=inetOrgPerson)"
	wide, _ := newTestLDAP(t, opts)
	if _, err := wide.Lookup(ctx, "alice"); !errors.Is(err, auth.ErrUnknownUser) {
		t.Errorf("filter matching every entry: %v; want unknown", err)
	}
	for name, want := range map[string]bool{"bob": true, "carol": false, "zed": false} {
		if got, err := src.Owns(ctx, name); got != want || err != nil {
			t.Errorf("Owns(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}

// TestLDAPConnections: StartTLS on ldap://, failover past a server that
// is down, and userPassword compared instead of a bind.
func TestLDAPConnections(t *testing.T) {
	s := ldaptest.Start(t)
	dead := fmt.Sprintf("ldap://127.0.0.1:%d", testport.Get(t))
	for _, tc := range []struct {
		name   string
		modify func(*LDAPOptions)
	}{
		{"starttls", func(o *LDAPOptions) { o.URLs, o.StartTLS = []string{s.LDAPURL}, true }},
		{"failover", func(o *LDAPOptions) { o.URLs = []string{dead, s.LDAPSURL} }},
		{"compare", func(o *LDAPOptions) { o.BindAsUser = false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testLDAPOptions(s, newMemStore())
			tc.modify(&opts)
			_, a := newTestLDAP(t, opts)
			if acct, err := a.Login(t.Context(), "bob", "bob-pw", auth.ConnInfo{}); err != nil || acct.Name != "bob" {
				t.Errorf("bob: %+v, %v", acct, err)
			}
			if _, err := a.Login(t.Context(), "bob", "alice-pw", auth.ConnInfo{}); !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("bob with alice's password: %v", err)
			}
		})
	}
}

// TestLDAPDirectoryStops: a directory that stops answering (slapd
// stopped with SIGSTOP: its sockets accept, nothing replies) gives a
// temporary failure within the Timeout and its one retry, never a wrong
// password and never a hang; once it answers again, logins work.
func TestLDAPDirectoryStops(t *testing.T) {
	s := ldaptest.Start(t)
	_, a := newTestLDAP(t, testLDAPOptions(s, newMemStore()))
	ctx := context.Background()
	if _, err := a.Login(ctx, "alice", "alice-pw", auth.ConnInfo{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "bob"} { // pooled, then new connections
		start := time.Now()
		_, err := a.Login(ctx, user, "x", auth.ConnInfo{})
		took := time.Since(start)
		if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrBadCredentials) || auth.Result(err) != auth.ResultError {
			t.Errorf("%s with the directory stopped: %v (%s); want ErrUnavailable", user, err, auth.Result(err))
		}
		if took > 5*time.Second {
			t.Errorf("%s: the failure took %v; want about 2 × Timeout (1s)", user, took)
		}
	}
	s.Cmd.Process.Signal(syscall.SIGCONT)
	if _, err := a.Login(ctx, "bob", "bob-pw", auth.ConnInfo{}); err != nil {
		t.Errorf("after SIGCONT: %v", err)
	}
}
