package sieve

import "strings"

// eval evaluates a test (RFC 5228 §5).
func (r *run) eval(t test) bool {
	switch t := t.(type) {
	case constTest:
		return bool(t)
	case notTest:
		return !r.eval(t.t)
	case allofTest:
		for _, sub := range t.tests {
			if !r.eval(sub) {
				return false
			}
		}
		return true
	case anyofTest:
		for _, sub := range t.tests {
			if r.eval(sub) {
				return true
			}
		}
		return false
	case existsTest:
		for _, h := range t.headers {
			if !r.in.Header.has(h) {
				return false
			}
		}
		return true
	case sizeTest:
		if t.over {
			return r.in.Size > t.limit
		}
		return r.in.Size < t.limit
	case headerTest:
		var vals []string
		for _, h := range t.headers {
			vals = append(vals, r.in.Header.values(h)...)
		}
		return t.m.match(vals, t.keys)
	case addressTest:
		return t.m.match(r.addressValues(t), t.keys)
	case hasflagTest:
		// RFC 5232 §4: each flag of the internal variable is one value.
		var keys []string
		for _, k := range t.keys {
			keys = append(keys, strings.Fields(k)...)
		}
		return t.m.match(r.flags, keys)
	}
	return false
}

// addressValues collects the address parts an address or envelope test
// compares.
func (r *run) addressValues(t addressTest) []string {
	var addrs []string
	for _, h := range t.headers {
		if !t.envelope {
			addrs = append(addrs, r.in.Header.addresses(h)...)
			continue
		}
		v := r.in.Envelope.To
		if h == "from" {
			v = r.in.Envelope.From
		}
		// RFC 5228 §5.4: the null reverse-path compares as "" with :all
		// and has no local part or domain.
		if v == "" && t.part != "all" {
			continue
		}
		addrs = append(addrs, v)
	}
	var out []string
	for _, a := range addrs {
		if p, ok := addressPart(a, t.part); ok {
			out = append(out, p)
		}
	}
	return out
}
