package delivery

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrBadAddress means a string is not a mailbox address (RFC 5321 §4.1.2
// Mailbox, or the bare "postmaster" of §4.1.1.3).
var ErrBadAddress = errors.New("malformed address")

// maxLocalPart and maxDomain are the RFC 5321 §4.5.3.1 size limits.
const (
	maxLocalPart = 64
	maxDomain    = 255
)

// Address is an envelope address split into its parts. Domain is
// lower-cased; Local keeps the client's spelling, since only the receiving
// host may interpret it (we compare it case-insensitively ourselves).
type Address struct {
	Local  string
	Domain string // "" only for the bare "postmaster" recipient
}

// String returns local@domain, or the local part alone when there is no
// domain.
func (a Address) String() string {
	if a.Domain == "" {
		return a.Local
	}
	return a.Local + "@" + a.Domain
}

// Base returns the lower-cased local part without its "+detail" suffix
// (plus-addressing: user+tag@ is user@).
func (a Address) Base() string {
	l := strings.ToLower(a.Local)
	if i := strings.IndexByte(l, '+'); i > 0 {
		l = l[:i]
	}
	return l
}

// ParseAddress parses an envelope address as the SMTP layer hands it over
// (angle brackets and source routes already removed, quoted local parts
// unquoted). UTF-8 is allowed in both parts (RFC 6531); control characters,
// spaces outside a local part, and over-long parts are not.
func ParseAddress(s string) (Address, error) {
	if !utf8.ValidString(s) {
		return Address{}, fmt.Errorf("%w: not UTF-8", ErrBadAddress)
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		// RFC 5321 §4.1.1.3: "postmaster" without a domain must be accepted.
		if strings.EqualFold(s, "postmaster") {
			return Address{Local: s}, nil
		}
		return Address{}, fmt.Errorf("%w: no domain in %q", ErrBadAddress, s)
	}
	local, domain := s[:i], strings.ToLower(s[i+1:])
	if local == "" || len(local) > maxLocalPart {
		return Address{}, fmt.Errorf("%w: bad local part length", ErrBadAddress)
	}
	for _, r := range local {
		if r < 0x20 || r == 0x7f {
			return Address{}, fmt.Errorf("%w: control character in local part", ErrBadAddress)
		}
	}
	if err := checkDomain(domain); err != nil {
		return Address{}, err
	}
	return Address{Local: local, Domain: domain}, nil
}

// checkDomain accepts a dot-separated host name (labels of letters, digits,
// hyphens and non-ASCII) or an address literal in brackets.
func checkDomain(d string) error {
	if d == "" || len(d) > maxDomain {
		return fmt.Errorf("%w: bad domain length", ErrBadAddress)
	}
	if d[0] == '[' {
		if d[len(d)-1] != ']' || len(d) < 3 || strings.ContainsAny(d[1:len(d)-1], "[]\\ ") {
			return fmt.Errorf("%w: bad address literal %q", ErrBadAddress, d)
		}
		return nil
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%w: bad domain %q", ErrBadAddress, d)
		}
		for _, r := range label {
			ok := r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 0x80
			if !ok {
				return fmt.Errorf("%w: bad domain %q", ErrBadAddress, d)
			}
		}
	}
	return nil
}
