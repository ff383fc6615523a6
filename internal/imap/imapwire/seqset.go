package imapwire

import (
	"errors"
	"iter"
	"slices"
	"strconv"
	"strings"
)

// Star stands for "*" in a SeqRange: the largest number in use (RFC 9051
// §9, seq-number). Zero is never a valid message number or UID.
const Star uint32 = 0

// A SeqRange is an inclusive range of message sequence numbers or UIDs as
// written on the wire: Start may be above Stop ("5:2" is "2:5"), and either
// end may be Star. A single number has Start == Stop.
type SeqRange struct {
	Start, Stop uint32
}

// resolve replaces Star by max and orders the ends.
func (r SeqRange) resolve(max uint32) SeqRange {
	if r.Start == Star {
		r.Start = max
	}
	if r.Stop == Star {
		r.Stop = max
	}
	if r.Start > r.Stop {
		r.Start, r.Stop = r.Stop, r.Start
	}
	return r
}

// A SeqSet is a sequence-set (RFC 9051 §9) of message sequence numbers or
// UIDs: a list of ranges, plus Saved for the "$" of SEARCHRES (RFC 5182),
// the result of the last SEARCH … RETURN (SAVE), which only the server can
// resolve. The zero SeqSet is empty and is not valid on the wire.
type SeqSet struct {
	Ranges []SeqRange
	Saved  bool
}

// ErrBadSeqSet is returned by ParseSeqSet for a malformed sequence-set.
var ErrBadSeqSet = errors.New("imapwire: invalid sequence set")

// ParseSeqSet parses a sequence-set such as "1:4,7,10:*" or "$".
//
// QUIRK: RFC 9051's grammar allows "$" only as the last element of a set;
// we accept it anywhere ("$,1:3") with the obvious meaning, the union.
func ParseSeqSet(s string) (SeqSet, error) {
	var set SeqSet
	if s == "" {
		return set, ErrBadSeqSet
	}
	for part := range strings.SplitSeq(s, ",") {
		if part == "$" {
			set.Saved = true
			continue
		}
		lo, hi, isRange := strings.Cut(part, ":")
		a, ok := parseSeqNumber(lo)
		if !ok {
			return SeqSet{}, ErrBadSeqSet
		}
		b := a
		if isRange {
			if b, ok = parseSeqNumber(hi); !ok {
				return SeqSet{}, ErrBadSeqSet
			}
		}
		set.Ranges = append(set.Ranges, SeqRange{a, b})
	}
	return set, nil
}

// parseSeqNumber parses seq-number: nz-number or "*".
func parseSeqNumber(s string) (uint32, bool) {
	if s == "*" {
		return Star, true
	}
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil
}

// SeqSetOf returns the set of the given numbers in its shortest form. Zero
// is ignored.
func SeqSetOf(nums ...uint32) SeqSet {
	var set SeqSet
	for _, n := range nums {
		if n != 0 {
			set.Ranges = append(set.Ranges, SeqRange{n, n})
		}
	}
	return set.Normalize()
}

// String returns the set in wire form, "" for an empty set.
func (s SeqSet) String() string {
	var b strings.Builder
	for i, r := range s.Ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		writeSeqNumber(&b, r.Start)
		if r.Stop != r.Start {
			b.WriteByte(':')
			writeSeqNumber(&b, r.Stop)
		}
	}
	if s.Saved {
		if len(s.Ranges) > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
	}
	return b.String()
}

func writeSeqNumber(b *strings.Builder, n uint32) {
	if n == Star {
		b.WriteByte('*')
		return
	}
	b.WriteString(strconv.FormatUint(uint64(n), 10))
}

// IsEmpty reports whether the set has no ranges and no "$".
func (s SeqSet) IsEmpty() bool { return len(s.Ranges) == 0 && !s.Saved }

// Dynamic reports whether the set uses "*", whose value depends on the
// mailbox.
func (s SeqSet) Dynamic() bool {
	for _, r := range s.Ranges {
		if r.Start == Star || r.Stop == Star {
			return true
		}
	}
	return false
}

// Contains reports whether n is in the ranges of the set, "*" standing for
// max (the number of messages, or the highest UID). Saved is not looked
// at: the caller resolves "$" itself.
func (s SeqSet) Contains(n, max uint32) bool {
	if n == 0 {
		return false
	}
	for _, r := range s.Ranges {
		r = r.resolve(max)
		if n >= r.Start && n <= r.Stop {
			return true
		}
	}
	return false
}

// Resolve returns the set with "*" replaced by max and its ranges ordered,
// sorted and merged: each range has Start <= Stop, and ranges neither
// overlap nor touch. A range that resolves to 0 (any "*" when max is 0) is
// dropped. Saved is kept.
func (s SeqSet) Resolve(max uint32) SeqSet {
	out := make([]SeqRange, 0, len(s.Ranges))
	for _, r := range s.Ranges {
		r = r.resolve(max)
		if r.Start == 0 {
			if r.Stop == 0 {
				continue
			}
			r.Start = 1
		}
		out = append(out, r)
	}
	return SeqSet{Ranges: mergeRanges(out), Saved: s.Saved}
}

// Normalize returns the set with the ranges free of "*" ordered, sorted and
// merged; ranges with "*" follow them unchanged, since their value is not
// known. Normalize(SeqSetOf(…)) is what a COPYUID response carries.
func (s SeqSet) Normalize() SeqSet {
	var fixed, dynamic []SeqRange
	for _, r := range s.Ranges {
		if r.Start == Star || r.Stop == Star {
			if !slices.Contains(dynamic, r) {
				dynamic = append(dynamic, r)
			}
			continue
		}
		fixed = append(fixed, r.resolve(0))
	}
	return SeqSet{Ranges: append(mergeRanges(fixed), dynamic...), Saved: s.Saved}
}

// mergeRanges sorts ordered, star-free ranges and merges the ones that
// overlap or touch, in place.
func mergeRanges(rs []SeqRange) []SeqRange {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b SeqRange) int {
		if a.Start != b.Start {
			return cmpUint32(a.Start, b.Start)
		}
		return cmpUint32(a.Stop, b.Stop)
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if uint64(r.Start) <= uint64(last.Stop)+1 {
			last.Stop = max(last.Stop, r.Stop)
			continue
		}
		out = append(out, r)
	}
	return out
}

func cmpUint32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// All yields the numbers of the set in ascending order, each once, "*"
// standing for max. It works range by range and allocates only the
// resolved ranges.
func (s SeqSet) All(max uint32) iter.Seq[uint32] {
	resolved := s.Resolve(max)
	return func(yield func(uint32) bool) {
		for _, r := range resolved.Ranges {
			for n := uint64(r.Start); n <= uint64(r.Stop); n++ {
				if !yield(uint32(n)) {
					return
				}
			}
		}
	}
}

// Count returns how many numbers the set holds, "*" standing for max.
func (s SeqSet) Count(max uint32) uint64 {
	var c uint64
	for _, r := range s.Resolve(max).Ranges {
		c += uint64(r.Stop-r.Start) + 1
	}
	return c
}

// SeqSet decodes a sequence-set.
func (dec *Decoder) SeqSet(ptr *SeqSet) bool {
	c, ok := dec.peek()
	if !ok || !(c >= '0' && c <= '9' || c == '*' || c == '$') {
		return false
	}
	raw := dec.readWhile(&seqChars)
	set, err := ParseSeqSet(string(raw))
	if err != nil {
		return dec.setErr(syntaxErrorf("invalid sequence set %q", raw))
	}
	*ptr = set
	return true
}

// ExpectSeqSet decodes a sequence-set or records an error.
func (dec *Decoder) ExpectSeqSet(ptr *SeqSet) bool {
	return dec.Expect(dec.SeqSet(ptr), "sequence set")
}
