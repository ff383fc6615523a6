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
		for _, h := range r.xs(t.headers) {
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
		for _, h := range r.xs(t.headers) {
			vals = append(vals, r.in.Header.values(h)...)
		}
		return r.matched(t.m.matchVars(vals, r.xs(t.keys)))
	case addressTest:
		return r.matched(t.m.matchVars(r.addressValues(t), r.xs(t.keys)))
	case stringTest:
		// RFC 5229 §5: with :count, empty strings do not count.
		var vals []string
		for _, s := range r.xs(t.sources) {
			if s != "" || t.m.typ != "count" {
				vals = append(vals, s)
			}
		}
		return r.matched(t.m.matchVars(vals, r.xs(t.keys)))
	case dateTest:
		return r.evalDate(t)
	case bodyTest:
		return r.evalBody(t)
	case hasflagTest:
		// RFC 5232 §4: each flag of the variable is one value.
		var keys []string
		for _, k := range r.xs(t.keys) {
			keys = append(keys, strings.Fields(k)...)
		}
		flags := r.flags
		if t.variables != nil {
			flags = nil
			for _, v := range t.variables {
				flags = append(flags, strings.Fields(r.getVar(v))...)
			}
		}
		return r.matched(t.m.matchVars(flags, keys))
	}
	return false
}

// addressValues collects the address parts an address or envelope test
// compares.
func (r *run) addressValues(t addressTest) []string {
	var addrs []string
	for _, h := range r.xs(t.headers) {
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
