package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// fakeSource is an outside source: a fixed table of names and passwords,
// counting its verifications, and failing them with down when set.
type fakeSource struct {
	name  string
	users map[string]string // name → password
	flags map[string]store.Account

	mu       sync.Mutex
	verifies int
	down     error
}

func (f *fakeSource) Name() string { return f.name }

func (f *fakeSource) Lookup(ctx context.Context, name string) (store.Account, error) {
	name = strings.ToLower(name)
	if _, ok := f.users[name]; !ok {
		return store.Account{}, ErrUnknownUser
	}
	a := f.flags[name]
	a.Name = name
	return a, nil
}

func (f *fakeSource) Verify(ctx context.Context, acct store.Account, password string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies++
	if f.down != nil {
		return false, f.down
	}
	return f.users[acct.Name] == password, nil
}

func (f *fakeSource) CacheKey(store.Account) string { return "source:" + f.name }

func TestSourcesInOrder(t *testing.T) {
	outside := &fakeSource{name: "ldap", users: map[string]string{"alice": "dir-pw", "carol": "carol-pw"},
		flags: map[string]store.Account{"carol": {Disabled: true}}}
	e := newTestEnv(t, func(o *Options) {
		o.Sources = []Source{NewLocalSource(o.Store, o.Hasher, nil), outside}
	})
	e.addUser(t, "alice", "local-pw")
	ctx := context.Background()
	tests := []struct {
		user, password string
		want           error
	}{
		{"alice", "local-pw", nil},                 // local comes first and knows alice
		{"alice", "dir-pw", ErrBadCredentials},     // no fall-through to the next source
		{"carol", "carol-pw", ErrDisabled},         // the outside source's flags apply
		{"carol", "wrong", ErrBadCredentials},      // flags only after the password
		{"nobody", "x", ErrUnknownUser},            // no source knows it
		{"alice@example.org", "x", ErrUnknownUser}, // no local domain given
	}
	for _, tt := range tests {
		_, err := e.auth.Login(ctx, tt.user, tt.password, connFrom(addrA))
		if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("Login(%s, %s) = %v, want %v", tt.user, tt.password, err, tt.want)
		}
		e.auth.Throttle().Success(addrA, tt.user)
	}
}

// TestOutsideSourceCache: a verified outside login is remembered for the
// cache's TTL and no longer, so a change at the source applies within
// Auth-Cache-TTL; a source that is down is an internal error, not a wrong
// password, and is not cached.
func TestOutsideSourceCache(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	outside := &fakeSource{name: "system", users: map[string]string{"bob": "pw"}}
	e := newTestEnv(t, func(o *Options) {
		o.Sources = []Source{outside}
		o.Cache = NewCache(CacheOptions{TTL: time.Minute, Clock: clock.Now})
	})
	ctx := context.Background()
	login := func() error { _, err := e.auth.Login(ctx, "bob", "pw", connFrom(addrA)); return err }
	if err := login(); err != nil {
		t.Fatal(err)
	}
	if err := login(); err != nil || outside.verifies != 1 {
		t.Fatalf("second login: %v, %d verifications; want a cache hit", err, outside.verifies)
	}
	outside.users["bob"] = "changed"
	clock.Advance(2 * time.Minute)
	if err := login(); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after the TTL with the password changed at the source: %v, want ErrBadCredentials", err)
	}
	outside.users["bob"] = "pw"
	outside.down = errors.New("directory unreachable")
	err := login()
	if err == nil || errors.Is(err, ErrBadCredentials) || Result(err) != ResultError {
		t.Fatalf("source down: %v (%s), want an internal error", err, Result(err))
	}
	if a := e.lastAttempt(); a.Err == nil {
		t.Error("the failed attempt was not reported")
	}
}

// TestLocalDomainLogin: NAME@DOMAIN finds the full-address account first,
// then, at the site's own domains only, the bare name.
func TestLocalDomainLogin(t *testing.T) {
	e := newTestEnv(t, func(o *Options) {
		o.LocalDomain = func(d string) bool { return d == "example.org" || d == "example.net" }
	})
	e.addUser(t, "alice", "bare-pw")
	e.addUser(t, "alice@example.net", "net-pw")
	ctx := context.Background()
	tests := []struct {
		user, password, want string
	}{
		{"alice", "bare-pw", "alice"},
		{"alice@example.org", "bare-pw", "alice"},            // bare account, local domain
		{"ALICE@Example.ORG", "bare-pw", "alice"},            // case-insensitive
		{"alice@example.net", "net-pw", "alice@example.net"}, // full account first
		{"alice@example.net", "bare-pw", ""},                 // ... and it decides
		{"alice@example.com", "bare-pw", ""},                 // not a local domain
	}
	for _, tt := range tests {
		acct, err := e.auth.Login(ctx, tt.user, tt.password, connFrom(addrA))
		if acct.Name != tt.want || (tt.want != "") != (err == nil) {
			t.Errorf("Login(%s, %s) = %q, %v; want %q", tt.user, tt.password, acct.Name, err, tt.want)
		}
		e.auth.Throttle().Success(addrA, tt.user)
	}
}
