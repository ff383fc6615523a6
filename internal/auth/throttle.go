package auth

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Throttle defaults. With them an address may fail twice freely; after
// that each attempt waits 1 s, 2 s, 4 s, 8 s, then 15 s, and one failure is
// forgotten for every 2 quiet minutes. At 15 s per guess an address gets at
// most 240 guesses an hour per connection, and the per-connection limits of
// the protocols (two USER/PASS attempts per POP3 connection) and the
// per-address connection limits of the listeners bound the connections.
const (
	defaultThrottleFree       = 2
	defaultThrottleBase       = time.Second
	defaultThrottleMax        = 15 * time.Second
	defaultThrottleDecayEvery = 2 * time.Minute
	defaultThrottleMaxEntries = 10_000

	// ipv6ThrottleBits is the prefix an IPv6 address is grouped by: one
	// host usually has a whole /64, so per-address counting would be free
	// to evade.
	ipv6ThrottleBits = 64
)

// ThrottleOptions configure failure throttling. Zero fields take the
// defaults above.
type ThrottleOptions struct {
	// Free is the number of recent failures an address may have before its
	// attempts are delayed. Zero means 2; use a negative value for none.
	Free int
	// Base is the delay after Free+1 failures; it doubles with every
	// further failure. Zero means 1 s.
	Base time.Duration
	// Max caps the delay. Zero means 15 s.
	Max time.Duration
	// DecayEvery is the quiet period after which one failure is forgotten.
	// Zero means 2 minutes.
	DecayEvery time.Duration
	// MaxEntries bounds the number of addresses remembered; the one whose
	// last failure is oldest is forgotten first. Zero means 10,000.
	MaxEntries int
}

func (o ThrottleOptions) withDefaults() ThrottleOptions {
	if o.Free == 0 {
		o.Free = defaultThrottleFree
	}
	o.Free = max(o.Free, 0)
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
	return o
}

// Throttle slows down authentication attempts from remote addresses with
// recent failures. It never refuses an attempt and never keys on the
// account, so it cannot lock a user out: a correct password from an
// address without failures is never delayed. IPv4 addresses are counted
// one by one, IPv6 addresses by /64. Invalid addresses (non-IP transports)
// are not throttled. It is safe for concurrent use.
type Throttle struct {
	opts  ThrottleOptions
	clock func() time.Time

	mu      sync.Mutex
	entries map[netip.Prefix]*list.Element // of *throttleEntry
	lru     list.List                      // front: most recent failure
}

type throttleEntry struct {
	key      netip.Prefix
	failures int
	last     time.Time
}

// NewThrottle returns a Throttle with opts, reading the time from clock
// (nil: time.Now).
func NewThrottle(opts ThrottleOptions, clock func() time.Time) *Throttle {
	if clock == nil {
		clock = time.Now
	}
	return &Throttle{opts: opts.withDefaults(), clock: clock, entries: map[netip.Prefix]*list.Element{}}
}

// throttleKey groups addresses: IPv4 (also IPv4-mapped IPv6) by address,
// IPv6 by /64.
func throttleKey(a netip.Addr) (netip.Prefix, bool) {
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := a.BitLen()
	if a.Is6() {
		bits = ipv6ThrottleBits
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// recent returns the failures of e not yet forgotten at now.
func (t *Throttle) recent(e *throttleEntry, now time.Time) int {
	quiet := now.Sub(e.last)
	if quiet <= 0 {
		return e.failures
	}
	return max(0, e.failures-int(quiet/t.opts.DecayEvery))
}

// Delay returns how long the next attempt from remote must wait.
func (t *Throttle) Delay(remote netip.Addr) time.Duration {
	key, ok := throttleKey(remote)
	if !ok {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.entries[key]
	if el == nil {
		return 0
	}
	return t.delayFor(t.recent(el.Value.(*throttleEntry), t.clock()))
}

func (t *Throttle) delayFor(failures int) time.Duration {
	n := failures - t.opts.Free // 1 for the first delayed attempt
	if n <= 0 {
		return 0
	}
	d := t.opts.Base
	for i := 1; i < n && d < t.opts.Max; i++ {
		d *= 2
	}
	return min(d, t.opts.Max)
}

// Failure records a failed attempt from remote.
func (t *Throttle) Failure(remote netip.Addr) {
	key, ok := throttleKey(remote)
	if !ok {
		return
	}
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if el := t.entries[key]; el != nil {
		e := el.Value.(*throttleEntry)
		e.failures = t.recent(e, now) + 1
		e.last = now
		t.lru.MoveToFront(el)
		return
	}
	for t.lru.Len() >= t.opts.MaxEntries {
		t.evict(t.lru.Back())
	}
	t.entries[key] = t.lru.PushFront(&throttleEntry{key: key, failures: 1, last: now})
	// Forget a few fully decayed entries, so an idle table shrinks.
	for i := 0; i < 2; i++ {
		el := t.lru.Back()
		if el == nil || t.recent(el.Value.(*throttleEntry), now) > 0 {
			break
		}
		t.evict(el)
	}
}

func (t *Throttle) evict(el *list.Element) {
	delete(t.entries, el.Value.(*throttleEntry).key)
	t.lru.Remove(el)
}

// Len returns the number of addresses remembered.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}
