package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A substring index (SQLite FTS5 with the trigram tokenizer, PostgreSQL
// pg_trgm) works on characters of valid UTF-8, while the scan compares
// octets: a body in an unknown charset keeps its 8-bit octets, and NUL
// may occur anywhere. The index forms below make the two agree. A text is
// written into the index with each octet that is not part of a valid
// UTF-8 sequence replaced by the private-use character U+10FF00 plus the
// octet, and NUL by U+10FF01; a needle is looked up only when it is valid
// UTF-8 without NUL or characters from U+10FF00 on (IndexNeedle). Then a
// needle is a substring of the octets exactly when its characters are a
// substring of the index form: its first octet is ASCII or a leading
// octet, so a match starts on a character boundary of the text, and
// every character of the needle is a complete, valid sequence there.
// Separators between the texts of one message are U+10FF00 too, which no
// accepted needle contains, so that no match spans two parts or fields.

// MinNeedle is the shortest needle, in characters, a trigram index
// answers; shorter ones are scanned.
const MinNeedle = 3

// Sep separates the texts of one message (fields, parts) in an index.
const Sep = "\U0010FF00"

const (
	escBase = 0x10FF00 // octet b (≥ 0x80) is written as escBase+b
	escNUL  = 0x10FF01
)

// IndexText returns the index form of text.
func IndexText(text []byte) string {
	var b strings.Builder
	b.Grow(len(text))
	for len(text) > 0 {
		r, n := utf8.DecodeRune(text)
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(escBase + rune(text[0]))
		case r == 0:
			b.WriteRune(escNUL)
		default:
			b.Write(text[:n])
		}
		text = text[n:]
	}
	return b.String()
}

// IndexNeedle reports whether a needle (already folded) can be looked up
// in an index: valid UTF-8, no NUL, no character from U+10FF00 on, and
// at least MinNeedle characters.
func IndexNeedle(needle string) bool {
	if !utf8.ValidString(needle) || utf8.RuneCountInString(needle) < MinNeedle {
		return false
	}
	for _, r := range needle {
		if r == 0 || r >= escBase {
			return false
		}
	}
	return true
}

// minFold returns the smallest rune of r's simple case-folding orbit.
func minFold(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
