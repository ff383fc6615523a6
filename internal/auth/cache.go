package auth

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// Verified-credentials cache bounds. The TTL bounds are those of the
// Auth-Cache-TTL option; DefaultCacheEntries bounds the memory the cache
// can hold to about 2 MiB.
const (
	DefaultCacheTTL     = 10 * time.Minute
	MaxCacheTTL         = 24 * time.Hour
	DefaultCacheEntries = 10_000
)

// CacheOptions configure a [Cache].
type CacheOptions struct {
	// TTL is how long a verified password is remembered after the
	// verification that put it there. Zero or less makes NewCache return
	// nil: no cache.
	TTL time.Duration
	// MaxEntries bounds the number of accounts remembered; the one used
	// least recently is forgotten first. Zero means DefaultCacheEntries.
	MaxEntries int
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
}

// Cache remembers which passwords were recently verified, so that a client
// logging in again and again (a phone, a webmail that logs in for every
// page) costs a keyed hash instead of an argon2id run, in the manner of
// Dovecot's auth cache. It is safe for concurrent use, and meant to be
// shared by every protocol's Authenticator.
//
// What it keeps, per account, is HMAC-SHA256 under a random per-process
// key (RFC 2104) of the account name, the stored password hash and the
// password, and an expiry time; never the password. Because the stored
// hash is part of the MAC, a password change, from this process or from
// `postern user passwd` in another, makes the entry useless at once: the
// next login reads the new hash from the store and misses. The Authenticator
// still reads the account on every login and applies the account flags
// (disabled, expired, no mail) from that record, never from the cache; only
// successful logins are cached; and the failed-login throttle waits before
// the cache is consulted, so a cache never makes guessing cheaper.
type Cache struct {
	ttl   time.Duration
	max   int
	clock func() time.Time
	key   []byte

	mu      sync.Mutex
	entries map[string]*list.Element // of *cacheEntry, by account name
	lru     list.List                // front: most recently used
	flights map[[sha256.Size]byte]*flight
}

// flight is one verification in progress, which concurrent attempts with
// the same credentials wait for instead of hashing again: a client that
// opens several connections at once (Thunderbird opens five) costs one
// argon2id run, not five.
type flight struct {
	done    chan struct{}
	ok      bool  // the password matched
	err     error // the verification failed (not a mismatch)
	waiters int   // attempts waiting, for tests
}

type cacheEntry struct {
	name    string
	mac     [sha256.Size]byte
	expires time.Time
}

// NewCache returns a Cache, or nil (no caching) when opts.TTL is zero or
// less. A nil *Cache is valid: it never hits and stores nothing.
func NewCache(opts CacheOptions) *Cache {
	if opts.TTL <= 0 {
		return nil
	}
	c := &Cache{
		ttl:     min(opts.TTL, MaxCacheTTL),
		max:     opts.MaxEntries,
		clock:   opts.Clock,
		key:     make([]byte, sha256.Size),
		entries: map[string]*list.Element{},
		flights: map[[sha256.Size]byte]*flight{},
	}
	if c.max <= 0 {
		c.max = DefaultCacheEntries
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	rand.Read(c.key) // never fails (crypto/rand documents it)
	return c
}

// TTL returns how long an entry lives; 0 for a nil Cache.
func (c *Cache) TTL() time.Duration {
	if c == nil {
		return 0
	}
	return c.ttl
}

// Len returns the number of accounts remembered.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Flush forgets every verified login, so that the next login of each
// account asks its source again: a reload that changes the account
// sources calls it, lest a removed source keep admitting its users.
// A login verified while Flush runs may still be remembered; its
// account's next lookup goes to the new sources all the same.
func (c *Cache) Flush() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	metricCacheEntries.Sub(float64(c.lru.Len()))
	c.entries = map[string]*list.Element{}
	c.lru.Init()
}

// mac is the keyed hash of one (account, stored hash, password) triple.
// Each field is length-prefixed, so no two triples share an input.
func (c *Cache) mac(name, stored, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key)
	for _, f := range []string{name, stored, password} {
		writeField(m, f)
	}
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

func writeField(h hash.Hash, s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// hit reports whether password was verified against the stored hash of
// account name less than the TTL ago. The MACs are compared in constant
// time (hmac.Equal).
func (c *Cache) hit(name, stored, password string) bool {
	if c == nil {
		return false
	}
	want := c.mac(name, stored, password)
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := c.lookupLocked(name, want, now)
	if ok {
		metricCacheLookups.WithLabelValues(cacheHit).Inc()
	} else {
		metricCacheLookups.WithLabelValues(cacheMiss).Inc()
	}
	return ok
}

// verify runs check, the full verification of password against the stored
// hash of account name, unless the same verification is already running
// for another attempt: then it waits for that one and shares its verdict
// (shared is true). A verdict is shared only between attempts in flight at
// the same time; nothing is stored here. If the running verification ends
// in an error (its client went away), the waiter verifies for itself.
func (c *Cache) verify(ctx context.Context, name, stored, password string, check func() (bool, error)) (ok, shared bool, err error) {
	if c == nil {
		ok, err = check()
		return ok, false, err
	}
	key := c.mac(name, stored, password)
	c.mu.Lock()
	f, running := c.flights[key]
	if running {
		f.waiters++
	} else {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
	}
	c.mu.Unlock()
	if running {
		select {
		case <-f.done:
		case <-ctx.Done():
			return false, false, ctx.Err()
		}
		if f.err == nil {
			metricCacheLookups.WithLabelValues(cacheShared).Inc()
			return f.ok, true, nil
		}
		ok, err = check()
		return ok, false, err
	}
	f.ok, f.err = check()
	c.mu.Lock()
	delete(c.flights, key)
	c.mu.Unlock()
	close(f.done)
	return f.ok, false, f.err
}

func (c *Cache) lookupLocked(name string, want [sha256.Size]byte, now time.Time) bool {
	el, ok := c.entries[name]
	if !ok {
		return false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.removeLocked(el)
		return false
	}
	if !hmac.Equal(e.mac[:], want[:]) {
		return false
	}
	c.lru.MoveToFront(el)
	return true
}

// put remembers that password matched the stored hash of account name,
// replacing what was remembered for that account. Call it only after a
// successful login.
func (c *Cache) put(name, stored, password string) {
	if c == nil {
		return
	}
	e := &cacheEntry{name: name, mac: c.mac(name, stored, password), expires: c.clock().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[name]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[name] = c.lru.PushFront(e)
	metricCacheEntries.Inc()
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry).name)
	c.lru.Remove(el)
	metricCacheEntries.Dec()
}
