package sieve

import (
	"strconv"
	"strings"
)

// matcher is a match type with its comparator (RFC 5228 §2.7).
type matcher struct {
	typ string // is, contains, matches, value, count
	rel string // gt ge lt le eq ne, for value and count (RFC 5231)
	cmp string // i;octet, i;ascii-casemap, i;ascii-numeric
}

// match reports whether any of values matches any of keys. For :count,
// the number of values is compared instead (RFC 5231 §4.2).
func (m matcher) match(values, keys []string) bool {
	if m.typ == "count" {
		n := strconv.Itoa(len(values))
		for _, k := range keys {
			if m.relational(n, k) {
				return true
			}
		}
		return false
	}
	for _, v := range values {
		for _, k := range keys {
			if m.one(v, k) {
				return true
			}
		}
	}
	return false
}

// matchVars is match for :matches that also returns the match variables
// of the first value and key that match (RFC 5229 §3.2): ${0} the whole
// value, then one per wildcard.
func (m matcher) matchVars(values, keys []string) (bool, []string) {
	if m.typ != "matches" {
		return m.match(values, keys), nil
	}
	for _, v := range values {
		for _, k := range keys {
			if caps, ok := wildcardCapture([]rune(v), []rune(m.fold(v)), []rune(m.fold(k))); ok {
				return true, append([]string{v}, caps...)
			}
		}
	}
	return false, nil
}

func (m matcher) one(v, k string) bool {
	switch m.typ {
	case "contains":
		v, k = m.fold(v), m.fold(k)
		return strings.Contains(v, k)
	case "matches":
		return wildcard(m.fold(v), m.fold(k))
	case "value":
		return m.relational(v, k)
	}
	return m.compare(v, k) == 0
}

// fold applies the comparator's case mapping: i;ascii-casemap maps
// only ASCII letters (RFC 4790 §9.2).
func (m matcher) fold(s string) string {
	if m.cmp != "i;ascii-casemap" {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// compare orders v against k under the comparator.
func (m matcher) compare(v, k string) int {
	if m.cmp == "i;ascii-numeric" {
		return compareNumeric(v, k)
	}
	return strings.Compare(m.fold(v), m.fold(k))
}

func (m matcher) relational(v, k string) bool {
	c := m.compare(v, k)
	switch m.rel {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	}
	return c != 0 // ne
}

// compareNumeric is i;ascii-numeric (RFC 4790 §9.1): the value is the
// leading digits of the string; a string that does not start with a
// digit is positive infinity, equal to any other such string.
func compareNumeric(a, b string) int {
	da, db := leadingDigits(a), leadingDigits(b)
	switch {
	case da == "" && db == "":
		return 0
	case da == "":
		return 1
	case db == "":
		return -1
	}
	da, db = strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
	if len(da) != len(db) {
		if len(da) < len(db) {
			return -1
		}
		return 1
	}
	return strings.Compare(da, db)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

// wildcard matches s against a :matches pattern (RFC 5228 §2.7.1): "*"
// matches any sequence, "?" one character (UTF-8 aware), and a backslash
// quotes the next character. The loop backtracks only to the last "*",
// so it runs in O(len(s)·len(pattern)) whatever the input.
func wildcard(s, pattern string) bool {
	_, ok := wildcardCapture([]rune(s), []rune(s), []rune(pattern))
	return ok
}

// wildcardCapture matches folded (the value as compared) against p and
// returns what each wildcard matched, taken from orig (the value before
// folding, of the same length): the match variables of RFC 5229 §3.2.
// Every "*" but the last matches as little as it can, as in Pigeonhole.
func wildcardCapture(orig, r, p []rune) ([]string, bool) {
	ord := make([]int, len(p)) // wildcard ordinal of each pattern position
	n := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?':
			ord[i] = n
			n++
		}
	}
	start, end := make([]int, n), make([]int, n)
	pi, ri := 0, 0
	starP, starR := -1, 0
	for ri < len(r) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				starP, starR = pi, ri
				start[ord[pi]], end[ord[pi]] = ri, ri
				pi++
				continue
			case c == '?':
				start[ord[pi]], end[ord[pi]] = ri, ri+1
				pi++
				ri++
				continue
			case c == '\\' && pi+1 < len(p):
				if p[pi+1] == r[ri] {
					pi += 2
					ri++
					continue
				}
			case c == r[ri]:
				pi++
				ri++
				continue
			}
		}
		if starP < 0 {
			return nil, false
		}
		starR++
		end[ord[starP]] = starR
		pi, ri = starP+1, starR
	}
	for pi < len(p) && p[pi] == '*' {
		start[ord[pi]], end[ord[pi]] = ri, ri
		pi++
	}
	if pi != len(p) {
		return nil, false
	}
	caps := make([]string, n)
	for i := range caps {
		caps[i] = string(orig[start[i]:end[i]])
	}
	return caps, true
}
