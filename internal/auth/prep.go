package auth

import "github.com/xdg-go/stringprep"

// PreparePassword returns the form of password that this package hashes
// and derives SCRAM keys from: the SASLprep profile of stringprep
// (RFC 4013, which RFC 4616 §2 recommends for PLAIN and RFC 5802 §2.2
// requires of SCRAM clients), so that "é" typed as one code point or as
// "e" plus a combining accent is the same password.
//
// A printable-ASCII password is returned unchanged: SASLprep maps it to
// itself, which is also why SCRAM clients that prepare ASCII passwords agree
// with servers that do not.
//
// QUIRK: a password that SASLprep rejects (control characters, code points
// unassigned in Unicode 3.2 such as most emoji, invalid UTF-8, broken bidi)
// is used as the UTF-8 bytes given instead of being refused. PostgreSQL's
// SCRAM does the same. Because every hashing and verification path here
// applies the same rule, such a password works with PLAIN, LOGIN and
// USER/PASS; with SCRAM it works only for clients that make the same
// fallback (a strict client refuses to prepare it).
func PreparePassword(password string) string {
	if isPrintableASCII(password) {
		return password
	}
	p, err := stringprep.SASLprep.Prepare(password)
	if err != nil {
		return password
	}
	return p
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
