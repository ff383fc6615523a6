package thread

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Casemap returns s as "titlecased canonicalized UTF-8", the form in which
// the i;unicode-casemap collation (RFC 5051 §2) compares strings: two
// strings are equal when their Casemap forms are, and order as their
// Casemap forms do, octet by octet.
//
// RFC 5051 §2 builds the form from UnicodeData.txt: each character with a
// titlecase mapping (field 14) is replaced by it, each character with a
// decomposition mapping (field 5, canonical or compatibility, the tag
// ignored) by its decomposition, and both steps repeat until nothing
// changes. Here the titlecase mapping is unicode.ToTitle (Go's simple
// case mappings are UnicodeData.txt's) and the decomposition mapping is
// the one golang.org/x/text/unicode/norm keeps for NFKD, which is field 5
// applied recursively. Three consequences, all as RFC 5051 says:
//
//   - Hangul syllables stay whole: their decomposition is algorithmic and
//     not in field 5 (NFKD would split them; Dovecot does too).
//   - No canonical reordering of combining marks: the RFC does not ask
//     for it, and each character's own decomposition is already in
//     canonical order.
//   - A string that is not valid UTF-8 is "treated as binary": the bytes
//     that do not decode are kept as they are.
func Casemap(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && !('a' <= s[i] && s[i] <= 'z') {
		i++
	}
	if i == len(s) {
		return s // ASCII without lower-case letters: unchanged
	}
	b := make([]byte, 0, len(s)+len(s)/4)
	b = append(b, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, c) // not UTF-8: binary, kept
			i++
			continue
		}
		b = appendCasemapped(b, r, 0)
		i += n
	}
	return string(b)
}

// maxCasemapDepth bounds the titlecase/decomposition alternation of
// appendCasemapped. No character needs more than two rounds; the bound
// only guards against a table that would loop.
const maxCasemapDepth = 4

// appendCasemapped appends the titlecased canonicalized form of r: its
// titlecase, decomposed, each character of the decomposition mapped again
// (a decomposition may hold lower-case letters: U+FB01 "ﬁ" is "fi").
func appendCasemapped(b []byte, r rune, depth int) []byte {
	t := unicode.ToTitle(r)
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], t)
	d := norm.NFKD.Properties(buf[:n]).Decomposition()
	if len(d) == 0 || depth >= maxCasemapDepth {
		return append(b, buf[:n]...)
	}
	for len(d) > 0 {
		r, size := utf8.DecodeRune(d)
		d = d[size:]
		b = appendCasemapped(b, r, depth+1)
	}
	return b
}

// Compare compares a and b with the i;unicode-casemap collation (RFC 5051
// §2): -1, 0 or +1.
func Compare(a, b string) int {
	return compareStrings(Casemap(a), Casemap(b))
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
