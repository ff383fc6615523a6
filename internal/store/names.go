package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxAccountNameLength bounds account names, and the name part of a
// NAME@DOMAIN account. OpenVMS user names had at most 12 characters;
// Postern allows longer ones but keeps them short enough to be a local
// part (RFC 5321 §4.5.3.1.1) and a file name.
const MaxAccountNameLength = 64

// MaxAccountDomainLength bounds the domain of a NAME@DOMAIN account
// (RFC 5321 §4.5.3.1.2 allows 255 octets for a domain; a DNS name has at
// most 253 characters in text form).
const MaxAccountDomainLength = 253

// ValidateAccountName checks that name can be an account name: a bare
// name of 1 to 64 characters from a-z, 0-9, '.', '_' and '-', starting
// with a letter or a digit, optionally followed by "@" and a domain
// (issue 22: accounts per domain, alice@example.org and alice@example.net
// being two people). A domain is dot-separated labels of letters, digits
// and '-' (RFC 1035 §2.3.1, neither starting nor ending with '-'). Names
// are compared case-insensitively. '+' is excluded because it introduces a
// plus-address tag.
func ValidateAccountName(name string) error {
	local, domain, full := strings.Cut(name, "@")
	if err := validateAccountLocal(name, local); err != nil {
		return err
	}
	if full {
		return validateAccountDomain(name, domain)
	}
	return nil
}

func validateAccountLocal(name, local string) error {
	if local == "" {
		return fmt.Errorf("%w: account name is empty", ErrInvalidName)
	}
	if len(local) > MaxAccountNameLength {
		return fmt.Errorf("%w: account name is longer than %d characters", ErrInvalidName, MaxAccountNameLength)
	}
	for i, r := range strings.ToLower(local) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '.' || r == '_' || r == '-') && i > 0:
		default:
			return fmt.Errorf("%w: account name %q: character %q not allowed (use letters, digits, '.', '_' and '-', starting with a letter or digit, then @DOMAIN if the account belongs to one domain)", ErrInvalidName, name, r)
		}
	}
	return nil
}

func validateAccountDomain(name, domain string) error {
	if domain == "" || len(domain) > MaxAccountDomainLength {
		return fmt.Errorf("%w: account name %q: the domain after @ must have 1 to %d characters", ErrInvalidName, name, MaxAccountDomainLength)
	}
	for _, label := range strings.Split(strings.ToLower(domain), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%w: account name %q: %q is not a domain name", ErrInvalidName, name, domain)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%w: account name %q: character %q not allowed in the domain", ErrInvalidName, name, r)
			}
		}
	}
	return nil
}

// SplitAccountName returns the name and domain parts of an account name;
// domain is "" for a bare name.
func SplitAccountName(name string) (local, domain string) {
	local, domain, _ = strings.Cut(name, "@")
	return local, domain
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
