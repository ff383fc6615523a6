package auth

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Throttle defaults. A pair (address, user) may fail three times freely
// (a client that tries PLAIN then LOGIN with one wrong password spends two);
// after that its next attempt must wait 1 s, 2 s, 4 s, 8 s, then 15 s after the
// last failure. An address may fail ten times freely, whatever the users,
// before the same curve holds back its attempts for every user that has
// not logged in from it recently. One failure is forgotten for every quiet
// minute, and the count stops growing once the delay is at its cap, so an
// address is forgiven within minutes of its last failure, not hours.
const (
	defaultThrottleFree       = 3
	defaultThrottleAddrFree   = 10
	defaultThrottleBase       = time.Second
	defaultThrottleMax        = 15 * time.Second
	defaultThrottleDecayEvery = time.Minute
	defaultThrottleMaxEntries = 10_000
	defaultThrottleKnownFor   = 7 * 24 * time.Hour

	// maxThrottleUser bounds the user name part of a key: names are the
	// client's input.
	maxThrottleUser = 64
)

// ThrottleOptions configure failure throttling. Zero fields take the
// defaults above.
type ThrottleOptions struct {
	// Off disables throttling altogether (tests: STYLE B10's zero
	// anti-abuse delays).
	Off bool
	// Free is the number of recent failures a pair (address, user) may have
	// before its attempts must wait. Zero means 3; negative means none.
	Free int
	// AddrFree is the number of recent failures an address may have, all
	// users together, before attempts for users without a recent success
	// from it must wait. Zero means 10; negative means none.
	AddrFree int
	// Base is the wait after Free+1 failures; it doubles with every
	// further failure. Zero means 1 s.
	Base time.Duration
	// Max caps the wait. Zero means 15 s.
	Max time.Duration
	// DecayEvery is the quiet period after which one failure is forgotten.
	// Zero means 1 minute.
	DecayEvery time.Duration
	// MaxEntries bounds the addresses and the pairs remembered (each); the
	// least recently active is forgotten first. Zero means 10,000.
	MaxEntries int
	// KnownFor is how long a successful login keeps its pair exempt from
	// the address's wait. Zero means 7 days.
	KnownFor time.Duration
	// Trusted lists networks that are never throttled (Trusted-Networks).
	Trusted []netip.Prefix
}

func (o ThrottleOptions) withDefaults() ThrottleOptions {
	if o.Free == 0 {
		o.Free = defaultThrottleFree
	}
	if o.AddrFree == 0 {
		o.AddrFree = defaultThrottleAddrFree
	}
	o.Free, o.AddrFree = max(o.Free, 0), max(o.AddrFree, 0)
	if o.Base <= 0 {
		o.Base = defaultThrottleBase
	}
	if o.Max <= 0 {
		o.Max = defaultThrottleMax
	}
	if o.DecayEvery <= 0 {
		o.DecayEvery = defaultThrottleDecayEvery
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = defaultThrottleMaxEntries
	}
	if o.KnownFor <= 0 {
		o.KnownFor = defaultThrottleKnownFor
	}
	return o
}

// Throttle holds back authentication attempts after recent failures. It
// counts failures per pair (address, user) and per address: a pair's own
// failures make its next attempt wait; an address's failures (all users
// together, with a higher free allowance) make attempts wait only for
// users that have not logged in successfully from that address lately. So
// a correct password is never held back by other users' failures from the
// same NAT address or webmail host, while an address that sprays guesses
// across many users is slowed for them all.
//
// An attempt that must wait is not checked: the caller is told at once how
// long to wait (Check), and says so to the client. While an attempt is
// allowed after a wait, the next one must wait again until its outcome is
// known, so that parallel connections gain nothing. The throttle never
// refuses an account outright, so it cannot lock a user out. IPv4
// addresses are counted one by one, IPv6 addresses by /64; invalid
// addresses (non-IP transports) and Trusted networks are not throttled.
// It is safe for concurrent use.
type Throttle struct {
	opts  ThrottleOptions
	clock func() time.Time

	mu    sync.Mutex
	addrs lru[netip.Prefix]
	pairs lru[pairKey]
}

// pairKey is a pair (address, user).
type pairKey struct {
	addr netip.Prefix
	user string
}

// failures is the failure record of an address or a pair.
type failures struct {
	count int       // failures not yet forgotten at last
	last  time.Time // the last failure
	next  time.Time // no attempt before this (a wait, or one attempt in flight)
	good  time.Time // the last success (pairs only)
}

// NewThrottle returns a Throttle with opts, reading the time from clock
// (nil: time.Now).
func NewThrottle(opts ThrottleOptions, clock func() time.Time) *Throttle {
	if clock == nil {
		clock = time.Now
	}
	o := opts.withDefaults()
	return &Throttle{opts: o, clock: clock, addrs: newLRU[netip.Prefix](o.MaxEntries), pairs: newLRU[pairKey](o.MaxEntries)}
}

// throttleKey groups addresses: IPv4 (also IPv4-mapped IPv6) by address,
// IPv6 by /64. It reports false for the zero Addr.
func throttleKey(a netip.Addr) (netip.Prefix, bool) {
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := a.BitLen()
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// keys returns the address and pair keys of an attempt, or false when it
// is not throttled at all.
func (t *Throttle) keys(remote netip.Addr, user string) (netip.Prefix, pairKey, bool) {
	if t.opts.Off {
		return netip.Prefix{}, pairKey{}, false
	}
	addr, ok := throttleKey(remote)
	if !ok {
		return netip.Prefix{}, pairKey{}, false
	}
	for _, n := range t.opts.Trusted {
		if n.Contains(remote.Unmap()) {
			return netip.Prefix{}, pairKey{}, false
		}
	}
	user = strings.ToLower(user)
	if len(user) > maxThrottleUser {
		user = user[:maxThrottleUser]
	}
	return addr, pairKey{addr, user}, true
}

// recent returns the failures of f not yet forgotten at now.
func (t *Throttle) recent(f *failures, now time.Time) int {
	quiet := now.Sub(f.last)
	if quiet <= 0 || f.count == 0 {
		return f.count
	}
	return max(0, f.count-int(quiet/t.opts.DecayEvery))
}

// wait is how long after the last failure an attempt must wait with n
// recent failures and free allowed.
func (t *Throttle) wait(n, free int) time.Duration {
	n -= free // 1 for the first held-back attempt
	if n <= 0 {
		return 0
	}
	d := t.opts.Base
	for i := 1; i < n && d < t.opts.Max; i++ {
		d *= 2
	}
	return min(d, t.opts.Max)
}

// countCap is the count beyond which more failures change nothing: the
// wait is at its cap. Capping it keeps forgiveness within minutes.
func (t *Throttle) countCap(free int) int {
	n := 1
	for d := t.opts.Base; d < t.opts.Max; d *= 2 {
		n++
	}
	return free + n
}

// Check says whether an attempt by user from remote may be checked now:
// zero means go ahead, anything else is how long the client must wait. An
// attempt let through while failures are recent reserves the next turn of
// its pair (and address) until Failure or Success, so parallel attempts
// are held back.
func (t *Throttle) Check(remote netip.Addr, user string) time.Duration {
	ak, pk, ok := t.keys(remote, user)
	if !ok {
		return 0
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pairs.get(pk)
	a := t.addrs.get(ak)
	var reserve []*failures
	var wait time.Duration
	if p != nil && t.recent(p, now) > t.opts.Free {
		wait = max(wait, p.next.Sub(now))
		reserve = append(reserve, p)
	}
	known := p != nil && !p.good.IsZero() && now.Sub(p.good) < t.opts.KnownFor
	if a != nil && !known && t.recent(a, now) > t.opts.AddrFree {
		wait = max(wait, a.next.Sub(now))
		reserve = append(reserve, a)
	}
	if wait > 0 {
		return wait
	}
	for _, f := range reserve {
		// One attempt in flight at a time: the next waits as if this
		// one failed, until its outcome is recorded.
		f.next = now.Add(t.opts.Max)
	}
	return 0
}

// Failure records a failed attempt by user from remote.
func (t *Throttle) Failure(remote netip.Addr, user string) {
	ak, pk, ok := t.keys(remote, user)
	if !ok {
		return
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail(t.pairs.put(pk), now, t.opts.Free)
	t.fail(t.addrs.put(ak), now, t.opts.AddrFree)
}

func (t *Throttle) fail(f *failures, now time.Time, free int) {
	f.count = min(t.recent(f, now)+1, t.countCap(free))
	f.last = now
	f.next = now.Add(t.wait(f.count, free))
}

// Success records a successful login by user from remote: the pair's
// failures are forgotten and it is exempt from its address's wait for
// KnownFor. The address's failures stay: one valid account must not
// launder an address's guesses at the others.
func (t *Throttle) Success(remote netip.Addr, user string) {
	ak, pk, ok := t.keys(remote, user)
	if !ok {
		return
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	*t.pairs.put(pk) = failures{good: now}
	if a := t.addrs.peek(ak); a != nil {
		t.unreserve(a, now, t.opts.AddrFree)
	}
}

// Release ends an attempt that reached no verdict on the credentials (an
// internal error, a cancelled exchange, a disabled account): it gives back
// the turn Check reserved, without counting anything.
func (t *Throttle) Release(remote netip.Addr, user string) {
	ak, pk, ok := t.keys(remote, user)
	if !ok {
		return
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.pairs.peek(pk); p != nil {
		t.unreserve(p, now, t.opts.Free)
	}
	if a := t.addrs.peek(ak); a != nil {
		t.unreserve(a, now, t.opts.AddrFree)
	}
}

// unreserve puts back the wait that follows f's last failure, undoing a
// reservation made by Check.
func (t *Throttle) unreserve(f *failures, now time.Time, free int) {
	if f.next.After(now) {
		f.next = f.last.Add(t.wait(t.recent(f, now), free))
	}
}

// Priority ranks an attempt for the password-hash queue: 0 for a pair that
// logged in from its address lately, 1 for an address without recent
// failures, 2 for an address with some. Lower goes first.
func (t *Throttle) Priority(remote netip.Addr, user string) int {
	ak, pk, ok := t.keys(remote, user)
	if !ok {
		return 1
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.pairs.peek(pk); p != nil && !p.good.IsZero() && now.Sub(p.good) < t.opts.KnownFor {
		return 0
	}
	if a := t.addrs.peek(ak); a != nil && t.recent(a, now) > 0 {
		return 2
	}
	return 1
}

// Failures returns the recent failures of remote's address and of the
// pair (remote, user), for tests and diagnostics.
func (t *Throttle) Failures(remote netip.Addr, user string) (addr, pair int) {
	ak, pk, ok := t.keys(remote, user)
	if !ok {
		return 0, 0
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.addrs.peek(ak); a != nil {
		addr = t.recent(a, now)
	}
	if p := t.pairs.peek(pk); p != nil {
		pair = t.recent(p, now)
	}
	return addr, pair
}

// Len returns the number of addresses remembered.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addrs.l.Len()
}

// lru is a bounded map of failure records; the least recently used is
// forgotten first. Its caller holds the Throttle's lock.
type lru[K comparable] struct {
	max int
	m   map[K]*list.Element // of *lruEntry[K]
	l   list.List           // front: most recently used
}

type lruEntry[K comparable] struct {
	key K
	f   failures
}

func newLRU[K comparable](max int) lru[K] {
	return lru[K]{max: max, m: map[K]*list.Element{}}
}

// get returns k's record, marking it used, or nil.
func (c *lru[K]) get(k K) *failures {
	el := c.m[k]
	if el == nil {
		return nil
	}
	c.l.MoveToFront(el)
	return &el.Value.(*lruEntry[K]).f
}

// peek returns k's record without marking it used, or nil.
func (c *lru[K]) peek(k K) *failures {
	if el := c.m[k]; el != nil {
		return &el.Value.(*lruEntry[K]).f
	}
	return nil
}

// put returns k's record, creating it (and forgetting the least recently
// used one if full).
func (c *lru[K]) put(k K) *failures {
	if f := c.get(k); f != nil {
		return f
	}
	for c.l.Len() >= c.max {
		back := c.l.Back()
		delete(c.m, back.Value.(*lruEntry[K]).key)
		c.l.Remove(back)
	}
	e := &lruEntry[K]{key: k}
	c.m[k] = c.l.PushFront(e)
	return &e.f
}
