package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

const testCacheTTL = 5 * time.Minute

// newCachedEnv is a testEnv whose Authenticator has a verified-credentials
// cache on the env's clock.
func newCachedEnv(t *testing.T, opts CacheOptions) (*testEnv, *Cache) {
	t.Helper()
	var c *Cache
	e := newTestEnv(t, func(o *Options) {
		opts.Clock = o.Clock
		if opts.TTL == 0 {
			opts.TTL = testCacheTTL
		}
		c = NewCache(opts)
		o.Cache = c
	})
	return e, c
}

// login logs name in from addrA and returns how many argon2 computations
// it ran, and its error.
func (e *testEnv) login(t *testing.T, name, password string) (uint64, error) {
	t.Helper()
	before := e.hasher.computations()
	_, err := e.auth.Login(context.Background(), name, password, connFrom(addrA))
	return e.hasher.computations() - before, err
}

// wantLogin checks one login's verdict and its number of argon2 runs.
func (e *testEnv) wantLogin(t *testing.T, name, password string, want error, hashes uint64) {
	t.Helper()
	n, err := e.login(t, name, password)
	if !errors.Is(err, want) || (want == nil) != (err == nil) {
		t.Fatalf("Login(%s, %s) = %v, want %v", name, password, err, want)
	}
	if n != hashes {
		t.Fatalf("Login(%s, %s) ran %d argon2 computations, want %d", name, password, n, hashes)
	}
}

func TestCacheHit(t *testing.T) {
	e, c := newCachedEnv(t, CacheOptions{})
	e.addUser(t, "alice", "correct horse")
	e.wantLogin(t, "alice", "correct horse", nil, 1)
	e.wantLogin(t, "ALICE", "correct horse", nil, 0)
	e.wantLogin(t, "alice", "correct horse", nil, 0)
	if c.Len() != 1 {
		t.Errorf("cache holds %d accounts, want 1", c.Len())
	}
	// A wrong password is verified in full, fails, and leaves the entry.
	e.wantLogin(t, "alice", "correct horsf", ErrBadCredentials, 1)
	e.wantLogin(t, "alice", "correct horse", nil, 0)
	// Attempts are reported alike, hit or not.
	if got := len(e.attempts); got != 5 {
		t.Errorf("%d attempts reported, want 5", got)
	}
}

func TestCacheWithoutCacheVerifiesEveryTime(t *testing.T) {
	e := newTestEnv(t)
	e.addUser(t, "alice", "pw")
	e.wantLogin(t, "alice", "pw", nil, 1)
	e.wantLogin(t, "alice", "pw", nil, 1)
	if NewCache(CacheOptions{TTL: 0}) != nil {
		t.Error("NewCache with TTL 0 returned a cache")
	}
}

// TestCacheMissAfterPasswordChange: the stored hash is part of the key, so
// a new password (as `postern user passwd` in another process writes it)
// takes effect at the next login.
func TestCacheMissAfterPasswordChange(t *testing.T) {
	e, _ := newCachedEnv(t, CacheOptions{})
	e.addUser(t, "alice", "old pw")
	e.wantLogin(t, "alice", "old pw", nil, 1)
	e.wantLogin(t, "alice", "old pw", nil, 0)

	e.addUser(t, "alice", "new pw") // a new hash in the store
	e.wantLogin(t, "alice", "old pw", ErrBadCredentials, 1)
	e.wantLogin(t, "alice", "new pw", nil, 1)
	e.wantLogin(t, "alice", "new pw", nil, 0)

	// The same password hashed anew (new salt) is a new stored hash too.
	e.addUser(t, "alice", "new pw")
	e.wantLogin(t, "alice", "new pw", nil, 1)
}

func TestCacheExpiry(t *testing.T) {
	e, _ := newCachedEnv(t, CacheOptions{TTL: time.Minute})
	e.addUser(t, "alice", "pw")
	e.wantLogin(t, "alice", "pw", nil, 1)
	e.clock.Advance(59 * time.Second)
	e.wantLogin(t, "alice", "pw", nil, 0)
	// A hit does not extend the entry: it expires a TTL after the
	// verification that made it.
	e.clock.Advance(time.Second)
	e.wantLogin(t, "alice", "pw", nil, 1)
	e.clock.Advance(30 * time.Second)
	e.wantLogin(t, "alice", "pw", nil, 0)
}

// TestCacheFailureNotCached: a failed login, whether by password or by
// account flag, never makes a later login cheaper.
func TestCacheFailureNotCached(t *testing.T) {
	e, c := newCachedEnv(t, CacheOptions{})
	e.addUser(t, "alice", "pw")
	for range 3 {
		e.wantLogin(t, "alice", "guess", ErrBadCredentials, 1)
	}
	e.login(t, "nobody", "guess") // makes the dummy hash once
	e.wantLogin(t, "nobody", "guess", ErrUnknownUser, 1)
	if c.Len() != 0 {
		t.Fatalf("failures left %d cache entries", c.Len())
	}
	// The right password of a disabled account is refused, and not
	// remembered: once enabled, the next login verifies again.
	e.addUser(t, "bob", "pw", func(a *store.Account) { a.Disabled = true })
	e.wantLogin(t, "bob", "pw", ErrDisabled, 1)
	e.wantLogin(t, "bob", "pw", ErrDisabled, 1)
	bob, _ := e.accounts.Account(context.Background(), "bob")
	bob.Disabled = false
	e.accounts.add(bob)
	e.wantLogin(t, "bob", "pw", nil, 1)
	e.wantLogin(t, "bob", "pw", nil, 0)
}

// TestCacheFlagsFromStore: the account flags are read from the store on
// every login, so a cached password of an account disabled, expired or
// barred from mail since is refused, without a hash.
func TestCacheFlagsFromStore(t *testing.T) {
	e, _ := newCachedEnv(t, CacheOptions{})
	now := e.clock.Now()
	tests := []struct {
		name   string
		modify func(*store.Account)
		want   error
	}{
		{"disabled", func(a *store.Account) { a.Disabled = true }, ErrDisabled},
		{"expired", func(a *store.Account) { a.Expires = now }, ErrExpired},
		{"nomail", func(a *store.Account) { a.NoMail = true }, ErrNoMail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := e.addUser(t, tt.name, "pw")
			e.wantLogin(t, tt.name, "pw", nil, 1)
			e.wantLogin(t, tt.name, "pw", nil, 0)
			changed := acct
			changed.Name = tt.name
			tt.modify(&changed)
			e.accounts.add(changed) // same hash, new flags
			e.wantLogin(t, tt.name, "pw", tt.want, 0)
			e.accounts.add(acct) // restored
			e.wantLogin(t, tt.name, "pw", nil, 0)
		})
	}
}

// TestCacheThrottleStillApplies: an attempt the throttle holds back is
// refused before the cache is consulted, cached password or not.
func TestCacheThrottleStillApplies(t *testing.T) {
	e, _ := newCachedEnv(t, CacheOptions{})
	e.addUser(t, "alice", "pw")
	e.wantLogin(t, "alice", "pw", nil, 1)
	for range 4 {
		e.wantLogin(t, "alice", "guess", ErrBadCredentials, 1)
	}
	e.wantLogin(t, "alice", "pw", ErrThrottled, 0)
	e.clock.Advance(time.Second)
	e.wantLogin(t, "alice", "pw", nil, 0)
}

// TestCacheSASL: PLAIN and LOGIN go through the same verification, so
// they share the cache with USER/PASS and IMAP LOGIN.
func TestCacheSASL(t *testing.T) {
	e, _ := newCachedEnv(t, CacheOptions{})
	e.addUser(t, "alice", "pw")
	e.wantLogin(t, "alice", "pw", nil, 1)
	ctx := context.Background()
	for _, tt := range []struct {
		mech  string
		steps []string
	}{
		{MechPlain, []string{"\x00alice\x00pw"}},
		{MechLogin, []string{"alice", "pw"}},
	} {
		m, err := e.auth.NewMechanism(tt.mech, connFrom(addrA))
		if err != nil {
			t.Fatal(err)
		}
		before := e.hasher.computations()
		var done bool
		for _, s := range tt.steps {
			if _, done, err = m.Next(ctx, []byte(s)); err != nil {
				t.Fatalf("%s: %v", tt.mech, err)
			}
		}
		if !done {
			t.Fatalf("%s did not finish", tt.mech)
		}
		if n := e.hasher.computations() - before; n != 0 {
			t.Errorf("%s ran %d argon2 computations after a cached login, want 0", tt.mech, n)
		}
	}
}

// TestCacheUpgradeKeepsEntry: a login that rehashes the stored password
// remembers it against the new hash, so the next login still hits.
func TestCacheUpgradeKeepsEntry(t *testing.T) {
	e, _ := newCachedEnv(t, CacheOptions{})
	e.accounts.add(store.Account{Name: "old", PasswordHash: bcryptHash(t, "legacy pw")})
	e.wantLogin(t, "old", "legacy pw", nil, 1) // the new argon2id hash
	u := e.accounts.upgrades["old"]
	acct, _ := e.accounts.Account(context.Background(), "old")
	acct.PasswordHash, acct.SCRAM = *u.PasswordHash, *u.SCRAM
	e.accounts.add(acct)
	e.wantLogin(t, "old", "legacy pw", nil, 0)
}

func TestCacheBounded(t *testing.T) {
	e, c := newCachedEnv(t, CacheOptions{MaxEntries: 2})
	for _, u := range []string{"a", "b", "c"} {
		e.addUser(t, u, "pw")
		e.wantLogin(t, u, "pw", nil, 1)
	}
	if c.Len() != 2 {
		t.Fatalf("cache holds %d accounts, want 2", c.Len())
	}
	e.wantLogin(t, "a", "pw", nil, 1) // least recently used: forgotten
	e.wantLogin(t, "c", "pw", nil, 0)
	e.wantLogin(t, "b", "pw", nil, 1) // evicted by a's return
}

// TestCacheKeySeparatesFields: the length prefixes keep the three fields
// apart, so moving bytes from one to the next gives another key.
func TestCacheKeySeparatesFields(t *testing.T) {
	c := NewCache(CacheOptions{TTL: time.Minute})
	seen := map[[32]byte]string{}
	for _, f := range [][3]string{
		{"ab", "c", "d"}, {"a", "bc", "d"}, {"a", "b", "cd"}, {"a", "b\x00c", "d"}, {"a\x00b", "c", "d"},
	} {
		k := c.mac(f[0], f[1], f[2])
		if prev, dup := seen[k]; dup {
			t.Errorf("%q and %s share a key", f, prev)
		}
		seen[k] = fmt.Sprintf("%q", f)
	}
	other := NewCache(CacheOptions{TTL: time.Minute})
	if other.mac("a", "b", "c") == c.mac("a", "b", "c") {
		t.Error("two caches share a key: the MAC key is not random")
	}
	var none *Cache
	if none.hit("a", "b", "c") || none.Len() != 0 || none.TTL() != 0 {
		t.Error("a nil cache is not empty")
	}
	none.put("a", "b", "c")
}

// waitForWaiters spins until n attempts wait for the verification of
// (name, stored, password) in flight.
func waitForWaiters(c *Cache, name, stored, password string, n int) {
	key := c.mac(name, stored, password)
	for {
		c.mu.Lock()
		f := c.flights[key]
		got := 0
		if f != nil {
			got = f.waiters
		}
		c.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestCacheCoalescesConcurrentVerifications: attempts with the same
// credentials while a verification runs share its verdict, success or
// mismatch; after an error (the first client went away) each verifies for
// itself; other credentials are not held up.
func TestCacheCoalescesConcurrentVerifications(t *testing.T) {
	for _, tt := range []struct {
		name       string
		ok         bool
		err        error
		wantCalls  int32 // verifications run
		wantShared int   // attempts answered by the leader's verdict
	}{
		{"match", true, nil, 1, 3},
		{"mismatch", false, nil, 1, 3},
		{"error", false, context.Canceled, 4, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(CacheOptions{TTL: time.Minute})
			var calls atomic.Int32
			release := make(chan struct{})
			started := make(chan struct{})
			leader := func() (bool, error) {
				calls.Add(1)
				close(started)
				<-release
				return tt.ok, tt.err
			}
			follower := func() (bool, error) { calls.Add(1); return tt.ok, nil }
			type verdict struct {
				ok, shared bool
				err        error
			}
			results := make(chan verdict, 4)
			go func() {
				ok, shared, err := c.verify(context.Background(), "alice", "h", "pw", leader)
				results <- verdict{ok, shared, err}
			}()
			<-started
			for range 3 {
				go func() {
					ok, shared, err := c.verify(context.Background(), "alice", "h", "pw", follower)
					results <- verdict{ok, shared, err}
				}()
			}
			waitForWaiters(c, "alice", "h", "pw", 3)
			// Other credentials run at once.
			if ok, shared, _ := c.verify(context.Background(), "alice", "h", "other", func() (bool, error) { return false, nil }); ok || shared {
				t.Error("other credentials waited for or shared the flight")
			}
			close(release)
			shared := 0
			for range 4 {
				v := <-results
				if v.shared {
					shared++
					if v.ok != tt.ok || v.err != nil {
						t.Errorf("shared verdict %v %v, want %v", v.ok, v.err, tt.ok)
					}
				}
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d verifications ran, want %d", got, tt.wantCalls)
			}
			if shared != tt.wantShared {
				t.Errorf("%d attempts shared a verdict, want %d", shared, tt.wantShared)
			}
			if c.Len() != 0 || len(c.flights) != 0 {
				t.Errorf("after the flight: %d entries, %d flights; want none", c.Len(), len(c.flights))
			}
		})
	}
}

// TestCacheWaiterCancelled: an attempt whose context ends while it waits
// gives up without a verdict.
func TestCacheWaiterCancelled(t *testing.T) {
	c := NewCache(CacheOptions{TTL: time.Minute})
	release, started := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.verify(context.Background(), "alice", "h", "pw", func() (bool, error) { close(started); <-release; return true, nil })
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.verify(ctx, "alice", "h", "pw", func() (bool, error) { return true, nil })
		errc <- err
	}()
	waitForWaiters(c, "alice", "h", "pw", 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v", err)
	}
	close(release)
	<-done
}
