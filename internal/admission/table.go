package admission

import (
	"net/netip"
	"sync"
	"time"
)

// Reason says why a connection was refused; it is the metric label and is
// handed to Options.Reply.
type Reason string

// The reasons for a refusal.
const (
	ReasonPerIP   Reason = "per_ip"  // Max-Connections-Per-IP reached for the address
	ReasonPreauth Reason = "preauth" // Max-Preauth-Per-IP reached for the address
	ReasonService Reason = "service" // Service-Limit reached
	ReasonRate    Reason = "rate"    // too many new connections from the address this minute
	ReasonBusy    Reason = "busy"    // out of file descriptors
	// ReasonMemory (memory.go): near the memory limit.
)

// ipv6Bits groups IPv6 clients by /64: one host usually owns a whole /64,
// so counting single addresses would be free to evade.
const ipv6Bits = 64

// rateSweepAt is the number of rate buckets above which idle ones are
// forgotten, so the table stays bounded by recent clients.
const rateSweepAt = 4096

// Limits are the caps of one service (one protocol section). Zero means no
// cap.
type Limits struct {
	// PerIP caps concurrent connections from one IPv4 address or IPv6 /64
	// (Max-Connections-Per-IP).
	PerIP int
	// PreauthPerIP caps the connections of one address that have not
	// authenticated yet (Max-Preauth-Per-IP).
	PreauthPerIP int
	// Service caps the concurrent connections of the whole service
	// (Service-Limit).
	Service int
	// PerMinute caps new connections per address per minute (a token
	// bucket refilled continuously).
	PerMinute int
	// Trusted lists networks exempt from the per-address caps and the rate
	// (Trusted-Networks); they still count towards Service.
	Trusted []netip.Prefix
}

// Table counts the live connections of one service by address. Several
// listeners of a service share one Table, so that IMAP on 143 and 993
// count together. It is safe for concurrent use.
type Table struct {
	limits Limits
	clock  func() time.Time

	mu     sync.Mutex
	remote Remote // counts kept in another process (shared.go); nil: here
	total  int
	addrs  map[netip.Prefix]*counts
	rate   map[netip.Prefix]*bucket
}

type counts struct{ conns, preauth int }

// bucket is a token bucket refilled at PerMinute tokens a minute.
type bucket struct {
	tokens float64
	last   time.Time
}

// NewTable returns a Table enforcing l, reading the time from clock (nil:
// time.Now) for the rate.
func NewTable(l Limits, clock func() time.Time) *Table {
	if clock == nil {
		clock = time.Now
	}
	return &Table{limits: l, clock: clock, addrs: map[netip.Prefix]*counts{}, rate: map[netip.Prefix]*bucket{}}
}

// Key groups an address as the Table and the login throttle do: IPv4
// (also IPv4-mapped IPv6) by address, IPv6 by /64. It reports false for an
// invalid address (a Unix socket), which is never capped per address.
func Key(a netip.Addr) (netip.Prefix, bool) {
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := a.BitLen()
	if a.Is6() {
		bits = ipv6Bits
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// slot is one admitted connection's share of a Table, or of the Remote
// that counts for it.
type slot struct {
	t      *Table
	key    netip.Prefix
	keyed  bool // counted per address (not a Unix socket, not trusted)
	remote Remote
	id     uint64 // the Remote's slot
}

// admit takes a slot for a new, unauthenticated connection from a, or
// returns why not.
func (t *Table) admit(a netip.Addr) (slot, Reason) {
	t.mu.Lock()
	r := t.remote
	t.mu.Unlock()
	if r != nil {
		id, why, err := r.Admit(a)
		if err == nil {
			return slot{remote: r, id: id}, why
		}
		// The other process is gone (this one soon too): count here.
	}
	return t.admitLocal(a)
}

func (t *Table) admitLocal(a netip.Addr) (slot, Reason) {
	key, keyed := Key(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	if keyed && t.trusted(a) {
		keyed = false
	}
	if t.limits.Service > 0 && t.total >= t.limits.Service {
		return slot{}, ReasonService
	}
	if keyed {
		c := t.addrs[key]
		if c != nil && t.limits.PerIP > 0 && c.conns >= t.limits.PerIP {
			return slot{}, ReasonPerIP
		}
		if c != nil && t.limits.PreauthPerIP > 0 && c.preauth >= t.limits.PreauthPerIP {
			return slot{}, ReasonPreauth
		}
		if !t.takeToken(key) {
			return slot{}, ReasonRate
		}
		if c == nil {
			c = &counts{}
			t.addrs[key] = c
		}
		c.conns++
		c.preauth++
	}
	t.total++
	return slot{t: t, key: key, keyed: keyed}, ""
}

// trusted reports whether a is in Trusted-Networks; called with mu held.
func (t *Table) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.limits.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// takeToken spends one token of key's rate bucket; called with mu held.
func (t *Table) takeToken(key netip.Prefix) bool {
	per := t.limits.PerMinute
	if per <= 0 {
		return true
	}
	now := t.clock()
	b := t.rate[key]
	if b == nil {
		if len(t.rate) >= rateSweepAt {
			for k, old := range t.rate {
				if now.Sub(old.last) > time.Minute {
					delete(t.rate, k)
				}
			}
		}
		b = &bucket{tokens: float64(per), last: now}
		t.rate[key] = b
	}
	b.tokens = min(float64(per), b.tokens+now.Sub(b.last).Minutes()*float64(per))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// promote moves a slot from pre-auth to authenticated.
func (s slot) promote() {
	if s.remote != nil {
		s.remote.Promote(s.id)
		return
	}
	if !s.keyed {
		return
	}
	s.t.mu.Lock()
	if c := s.t.addrs[s.key]; c != nil && c.preauth > 0 {
		c.preauth--
	}
	s.t.mu.Unlock()
}

// release gives the slot back; preauth says whether it was still pre-auth.
func (s slot) release(preauth bool) {
	if s.remote != nil {
		s.remote.Release(s.id, preauth)
		return
	}
	if s.t == nil {
		return
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.total--
	if !s.keyed {
		return
	}
	c := s.t.addrs[s.key]
	if c == nil {
		return
	}
	c.conns--
	if preauth {
		c.preauth--
	}
	if c.conns <= 0 {
		delete(s.t.addrs, s.key)
	}
}

// Count returns the live connections of the service and, for address a,
// its connections and pre-auth connections.
func (t *Table) Count(a netip.Addr) (total, conns, preauth int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	total = t.total
	if key, ok := Key(a); ok {
		if c := t.addrs[key]; c != nil {
			conns, preauth = c.conns, c.preauth
		}
	}
	return total, conns, preauth
}
