package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxAccountNameLength bounds account names. OpenVMS user names had at
// most 12 characters; Postern allows longer ones but keeps them short
// enough to be a local part and a file name.
const MaxAccountNameLength = 64

// ValidateAccountName checks that name can be an account name: 1 to 64
// characters from a-z, 0-9, '.', '_' and '-', starting with a letter or a
// digit, compared case-insensitively. '+' is excluded because it introduces
// a plus-address tag, '@' because names are local parts.
func ValidateAccountName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: account name is empty", ErrInvalidName)
	}
	if len(name) > MaxAccountNameLength {
		return fmt.Errorf("%w: account name is longer than %d characters", ErrInvalidName, MaxAccountNameLength)
	}
	for i, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '.' || r == '_' || r == '-') && i > 0:
		default:
			return fmt.Errorf("%w: account name %q: character %q not allowed (use letters, digits, '.', '_' and '-', starting with a letter or digit)", ErrInvalidName, name, r)
		}
	}
	return nil
}

// MaxMailboxNameLength bounds a mailbox name in octets.
const MaxMailboxNameLength = 1024

// CanonicalMailboxName validates a mailbox name and returns its canonical
// form: "INBOX" in upper case whatever the case given (RFC 9051 §5.1), other
// names unchanged. Names must be valid UTF-8 without control characters,
// must not be empty, begin or end with the separator, or contain an empty
// level.
func CanonicalMailboxName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: mailbox name is empty", ErrInvalidName)
	case len(name) > MaxMailboxNameLength:
		return "", fmt.Errorf("%w: mailbox name is longer than %d octets", ErrInvalidName, MaxMailboxNameLength)
	case !utf8.ValidString(name):
		return "", fmt.Errorf("%w: mailbox name is not valid UTF-8", ErrInvalidName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: mailbox name contains a control character", ErrInvalidName)
		}
	}
	sep := string(HierarchySeparator)
	if strings.HasPrefix(name, sep) || strings.HasSuffix(name, sep) || strings.Contains(name, sep+sep) {
		return "", fmt.Errorf("%w: mailbox name %q has an empty level", ErrInvalidName, name)
	}
	first, rest, found := strings.Cut(name, sep)
	if strings.EqualFold(first, MailboxInbox) {
		if !found {
			return MailboxInbox, nil
		}
		return MailboxInbox + sep + rest, nil
	}
	return name, nil
}
