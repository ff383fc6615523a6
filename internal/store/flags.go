package store

import (
	"fmt"
	"slices"
	"strings"
)

// systemFlags lists the system flags a message can carry, in canonical case.
// \Recent is not among them: it is no flag of the message but of a
// session's view of it, which the store keeps as a claim (Session.ClaimRecent).
var systemFlags = []string{FlagAnswered, FlagDeleted, FlagDraft, FlagFlagged, FlagSeen}

// CanonicalFlags validates flags and returns them in the form the store
// keeps: system flags in their canonical case, keywords as first given,
// duplicates (compared case-insensitively, RFC 9051 §2.3.2) removed, sorted
// case-insensitively. A flag beginning with '\' must be one of the system
// flags; a keyword must be an IMAP atom (RFC 9051 §9, flag-keyword).
// ErrInvalidName for anything else. The result is nil for no flags.
func CanonicalFlags(flags Flags) (Flags, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := make(Flags, 0, len(flags))
	for _, f := range flags {
		c, err := canonicalFlag(f)
		if err != nil {
			return nil, err
		}
		if !out.Has(c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, compareFlags)
	return out, nil
}

// Has reports whether fs contains flag, compared case-insensitively.
func (fs Flags) Has(flag string) bool {
	for _, f := range fs {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

func compareFlags(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func canonicalFlag(f string) (string, error) {
	if strings.HasPrefix(f, `\`) {
		for _, s := range systemFlags {
			if strings.EqualFold(f, s) {
				return s, nil
			}
		}
		return "", fmt.Errorf("%w: flag %q is not a settable system flag", ErrInvalidName, f)
	}
	if f == "" {
		return "", fmt.Errorf("%w: empty flag", ErrInvalidName)
	}
	for i := 0; i < len(f); i++ {
		// RFC 9051 §9: ATOM-CHAR is any CHAR except atom-specials.
		c := f[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return "", fmt.Errorf("%w: flag %q contains %q", ErrInvalidName, f, c)
		}
	}
	return f, nil
}
