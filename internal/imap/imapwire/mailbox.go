package imapwire

import (
	"strings"
	"unicode/utf8"
)

// Inbox is the one mailbox name that is case-insensitive (RFC 9051 §5.1).
const Inbox = "INBOX"

// Mailbox decodes a mailbox name (RFC 9051 §9: "INBOX" / astring) to
// UTF-8: from modified UTF-7 unless Options.UTF8 is set. Any spelling of
// INBOX becomes "INBOX". A name that is not valid in the wire encoding is a
// syntax error.
func (dec *Decoder) Mailbox(ptr *string) bool {
	var raw string
	if !dec.AString(&raw) {
		return false
	}
	name, ok := dec.mailboxName(raw)
	if !ok {
		return false
	}
	if strings.EqualFold(name, Inbox) {
		name = Inbox
	}
	*ptr = name
	return true
}

// ExpectMailbox decodes a mailbox name or records an error.
func (dec *Decoder) ExpectMailbox(ptr *string) bool {
	return dec.Expect(dec.Mailbox(ptr), "mailbox name")
}

// ListMailbox decodes a LIST pattern (RFC 9051 §9: list-mailbox, which may
// hold the wildcards "%" and "*") to UTF-8 as Mailbox does, without the
// INBOX rule: the pattern is matched by the caller.
func (dec *Decoder) ListMailbox(ptr *string) bool {
	var raw string
	if !dec.String(&raw) && !dec.token(&raw, &listChars) {
		return false
	}
	name, ok := dec.mailboxName(raw)
	if ok {
		*ptr = name
	}
	return ok
}

// ExpectListMailbox decodes a LIST pattern or records an error.
func (dec *Decoder) ExpectListMailbox(ptr *string) bool {
	return dec.Expect(dec.ListMailbox(ptr), "mailbox pattern")
}

// mailboxName converts a name from the wire encoding to UTF-8. A name
// that is not valid in it is grammatical all the same (an astring), so it
// is a *MailboxNameError, not a syntax error.
func (dec *Decoder) mailboxName(raw string) (string, bool) {
	if dec.opts.UTF8 {
		if !utf8.ValidString(raw) {
			return "", dec.setErr(&MailboxNameError{Name: raw, UTF8: true})
		}
		return raw, true
	}
	name, err := DecodeMUTF7(raw)
	if err != nil {
		return "", dec.setErr(&MailboxNameError{Name: raw})
	}
	return name, true
}
