package auth

import (
	"net/netip"
	"time"
)

// ThrottleRecord is one failure record of a Throttle, in a form that can
// be handed to another process: `postern serve` gives a new worker
// generation the table of the worker it takes over from, so that a
// rollover does not forget recent failures (docs/supervisor.md).
type ThrottleRecord struct {
	Addr  netip.Prefix `json:"addr"`
	Pair  bool         `json:"pair,omitempty"` // a pair (Addr, User); else the address's record
	User  string       `json:"user,omitempty"`
	Count int          `json:"count"`
	Last  time.Time    `json:"last"`
	Next  time.Time    `json:"next"`
	Good  time.Time    `json:"good,omitzero"`
}

// Records returns the throttle's failure records, least recently used
// first.
func (t *Throttle) Records() []ThrottleRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []ThrottleRecord
	for el := t.addrs.l.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*lruEntry[netip.Prefix])
		out = append(out, record(e.key, "", false, e.f))
	}
	for el := t.pairs.l.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*lruEntry[pairKey])
		out = append(out, record(e.key.addr, e.key.user, true, e.f))
	}
	return out
}

func record(addr netip.Prefix, user string, pair bool, f failures) ThrottleRecord {
	return ThrottleRecord{Addr: addr, Pair: pair, User: user, Count: f.count, Last: f.last, Next: f.next, Good: f.good}
}

// Restore adds records, in order (the last becomes the most recently
// used), over what the throttle holds. Records with an invalid address are
// skipped.
func (t *Throttle) Restore(rs []ThrottleRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rs {
		if !r.Addr.IsValid() {
			continue
		}
		var f *failures
		if r.Pair {
			f = t.pairs.put(pairKey{addr: r.Addr, user: r.User})
		} else {
			f = t.addrs.put(r.Addr)
		}
		*f = failures{count: r.Count, last: r.Last, next: r.Next, good: r.Good}
	}
}
