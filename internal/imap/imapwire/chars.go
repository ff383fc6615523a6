package imapwire

// A charClass is a set of bytes, indexed by byte value.
type charClass [256]bool

// newClass returns the bytes for which in is true.
func newClass(in func(b byte) bool) charClass {
	var c charClass
	for i := range c {
		c[i] = in(byte(i))
	}
	return c
}

// isAtomChar reports whether b is an ATOM-CHAR (RFC 9051 §9): any CHAR
// (%x01-7F) except atom-specials: "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]".
func isAtomChar(b byte) bool {
	if b <= 0x1f || b >= 0x7f {
		return false
	}
	switch b {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// The classes of bytes the grammar builds tokens from.
var (
	atomChars    = newClass(isAtomChar)
	astringChars = newClass(func(b byte) bool { return isAtomChar(b) || b == ']' })
	tagChars     = newClass(func(b byte) bool { return (isAtomChar(b) || b == ']') && b != '+' })
	listChars    = newClass(func(b byte) bool { return isAtomChar(b) || b == ']' || b == '%' || b == '*' })
	digitChars   = newClass(func(b byte) bool { return b >= '0' && b <= '9' })
	// textChars is TEXT-CHAR plus 8-bit bytes (UTF-8 resp-text in
	// IMAP4rev2); never CR, LF or NUL.
	textChars = newClass(func(b byte) bool { return b != 0 && b != '\r' && b != '\n' })
	// seqChars are the bytes a sequence-set is made of.
	seqChars = newClass(func(b byte) bool {
		return b >= '0' && b <= '9' || b == ':' || b == ',' || b == '*' || b == '$'
	})
)

// IsAtomChar reports whether b may appear in an atom.
func IsAtomChar(b byte) bool { return atomChars[b] }

// isAtom reports whether s is a non-empty atom.
func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !atomChars[s[i]] {
			return false
		}
	}
	return true
}

// isAString reports whether s can be sent as an unquoted astring.
func isAStringAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !astringChars[s[i]] {
			return false
		}
	}
	return true
}
