package mail11

import (
	"strings"
	"unicode/utf8"
)

// The RFC 5322 address syntax the rewriting rules produce and check. UTF-8
// beyond ASCII is accepted where RFC 6532 §3.2 allows it (atext, qtext,
// dtext), since VMS text imported in 8-bit form has been made UTF-8.

// isAtext reports whether c is an RFC 5322 §3.2.3 atext character, or the
// first byte of a non-ASCII UTF-8 character (RFC 6532 §3.2).
func isAtext(c byte) bool {
	if isAlnum(c) || c >= 0x80 {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isDotAtom reports whether s is an RFC 5322 §3.2.3 dot-atom-text: atoms of
// atext joined by single dots, in valid UTF-8.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") || !validText(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	return true
}

// isQuotedString reports whether s is exactly one RFC 5322 §3.2.4
// quoted-string without folding: DQUOTE, qtext / WSP / quoted-pair, DQUOTE.
func isQuotedString(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' || !validText(s) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
			if i == len(s)-1 || s[i] < ' ' && s[i] != '\t' || s[i] == 0x7f {
				return false // a quoted-pair needs a VCHAR or WSP
			}
		case c == '"', c < ' ' && c != '\t', c == 0x7f:
			return false
		}
	}
	return true
}

// isDomain reports whether s is an RFC 5322 §3.4.1 domain: a dot-atom or
// a domain literal.
func isDomain(s string) bool {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		for i := 1; i < len(s)-1; i++ {
			if c := s[i]; c <= ' ' || c == '[' || c == ']' || c == '\\' || c == 0x7f {
				return false
			}
		}
		return validText(s)
	}
	return isDotAtom(s)
}

// isHostName reports whether s can be used as the host of a rebuilt
// address: a dot-atom (domain literals are not host names).
func isHostName(s string) bool { return isDotAtom(s) }

// isAddrSpec reports whether s is an RFC 5322 §3.4.1 addr-spec:
// local-part "@" domain, the local part a dot-atom or a quoted string.
func isAddrSpec(s string) bool {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 {
		return false
	}
	local, domain := s[:i], s[i+1:]
	return (isDotAtom(local) || isQuotedString(local)) && isDomain(domain)
}

// quoteLocal makes s the quoted-string local part of rules GENERIC and R6:
// every double quote gets a backslash before it, the whole is put in double
// quotes. Backslashes are escaped too (see doc.go, [INF] R6), and control
// characters become spaces, so the result is always a valid quoted-string.
func quoteLocal(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// clean makes stored text safe for a header field value: bytes that are
// not valid UTF-8 are read as ISO 8859-1 (the 8-bit character set of VMS
// MAIL text, DEC MCS, agrees with it on the letters), ASCII and C1 control
// characters (including tab, CR and LF) and DEL become spaces, and white
// space at both ends is removed. No header can be injected through the
// result.
func clean(s string) string {
	s = toUTF8(s)
	if !hasControlRune(s) {
		return strings.Trim(s, " ")
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < ' ' || r >= 0x7f && r < 0xa0 {
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.Trim(b.String(), " ")
}

// toUTF8 returns s with every byte that is not part of a valid UTF-8
// sequence read as an ISO 8859-1 character. Text imported from VMS MAIL
// (DEC MCS, which agrees with ISO 8859-1 on the letters) is kept as the
// bytes it was written in; text that is already UTF-8 is unchanged.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = rune(s[i])
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// validText reports whether s is valid UTF-8 without C1 control
// characters: the non-ASCII text RFC 6532 allows in addresses. (ASCII
// controls are checked by each grammar rule.)
func validText(s string) bool {
	if isASCII(s) {
		return true
	}
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}

// hasControlRune reports whether the valid UTF-8 string s holds an ASCII
// or C1 control character or DEL.
func hasControlRune(s string) bool {
	for _, r := range s {
		if r < ' ' || r >= 0x7f && r < 0xa0 {
			return true
		}
	}
	return false
}
