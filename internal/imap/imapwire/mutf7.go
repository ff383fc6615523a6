package imapwire

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mutf7Alphabet is the modified base64 of RFC 3501 §5.1.3: RFC 2045 base64
// with "," in place of "/".
const mutf7Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// mutf7Index maps a byte to its 6-bit value, or -1.
var mutf7Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(mutf7Alphabet); i++ {
		t[mutf7Alphabet[i]] = int8(i)
	}
	return t
}()

// ErrBadMUTF7 is returned by DecodeMUTF7 for input that is not the
// canonical modified UTF-7 encoding of a string.
var ErrBadMUTF7 = errors.New("imapwire: invalid modified UTF-7")

// isDirect reports whether r is represented by itself in modified UTF-7:
// printable US-ASCII except "&".
func isDirect(r rune) bool { return r >= 0x20 && r <= 0x7e && r != '&' }

// EncodeMUTF7 encodes a UTF-8 mailbox name in modified UTF-7 (RFC 3501
// §5.1.3). Invalid UTF-8 is encoded as U+FFFD.
func EncodeMUTF7(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '&':
			b.WriteString("&-")
			i += size
		case isDirect(r):
			b.WriteByte(byte(r))
			i += size
		default:
			// Encode the longest run of characters that are not direct.
			j := i
			var units []uint16
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if isDirect(r) || r == '&' {
					break
				}
				units = utf16.AppendRune(units, r)
				j += size
			}
			b.WriteByte('&')
			writeMUTF7Base64(&b, units)
			b.WriteByte('-')
			i = j
		}
	}
	return b.String()
}

// writeMUTF7Base64 writes UTF-16BE units in modified base64, unpadded.
func writeMUTF7Base64(b *strings.Builder, units []uint16) {
	var acc uint32
	bits := 0
	for _, u := range units {
		acc = acc<<16 | uint32(u)
		bits += 16
		for bits >= 6 {
			bits -= 6
			b.WriteByte(mutf7Alphabet[(acc>>bits)&0x3f])
		}
	}
	if bits > 0 {
		b.WriteByte(mutf7Alphabet[(acc<<(6-bits))&0x3f])
	}
}

// DecodeMUTF7 decodes a modified UTF-7 mailbox name to UTF-8. It accepts
// only the canonical encoding, the one EncodeMUTF7 produces, so that one
// name has one spelling: it rejects bytes outside printable US-ASCII, a
// "&" not followed by "-" or base64, an unterminated shift, base64 that
// encodes printable US-ASCII or an unpaired surrogate, non-zero padding
// bits, an empty or adjacent shift sequence, and a trailing partial unit.
func DecodeMUTF7(s string) (string, error) {
	if !strings.Contains(s, "&") {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return "", ErrBadMUTF7
			}
		}
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	prevShift := false // the previous token was a base64 shift
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x20 || c > 0x7e:
			return "", ErrBadMUTF7
		case c != '&':
			b.WriteByte(c)
			i++
			prevShift = false
		case i+1 < len(s) && s[i+1] == '-':
			b.WriteByte('&')
			i += 2
			prevShift = false
		default:
			if prevShift {
				// Two shifts in a row must be one.
				return "", ErrBadMUTF7
			}
			end := strings.IndexByte(s[i+1:], '-')
			if end <= 0 {
				return "", ErrBadMUTF7
			}
			if err := decodeMUTF7Base64(&b, s[i+1:i+1+end]); err != nil {
				return "", err
			}
			i += end + 2
			prevShift = true
		}
	}
	return b.String(), nil
}

// decodeMUTF7Base64 decodes one shift sequence, without "&" and "-".
func decodeMUTF7Base64(b *strings.Builder, enc string) error {
	var acc uint32
	bits := 0
	var units []uint16
	for i := 0; i < len(enc); i++ {
		v := mutf7Index[enc[i]]
		if v < 0 {
			return ErrBadMUTF7
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	// Canonical: fewer than 6 bits left over, and all of them zero.
	if bits >= 6 || acc != 0 || len(units) == 0 {
		return ErrBadMUTF7
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		var r rune
		switch {
		case utf16.IsSurrogate(rune(u)):
			if u >= 0xdc00 || i+1 >= len(units) {
				return ErrBadMUTF7
			}
			r = utf16.DecodeRune(rune(u), rune(units[i+1]))
			if r == utf8.RuneError {
				return ErrBadMUTF7
			}
			i++
		default:
			r = rune(u)
		}
		if isDirect(r) || r == '&' {
			// RFC 3501 §5.1.3: printable US-ASCII represents itself.
			return ErrBadMUTF7
		}
		b.WriteRune(r)
	}
	return nil
}
