package imapwire

import "strings"

// The system flags of RFC 9051 §2.3.2, in their canonical spelling, plus
// \Recent of RFC 3501 and the \* of PERMANENTFLAGS.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	FlagRecent   = `\Recent` // IMAP4rev1 only; never settable
	FlagWildcard = `\*`      // flag-perm: clients may create keywords
)

// systemFlags maps the lower-cased system flags to their canonical form.
var systemFlags = map[string]string{
	`\seen`: FlagSeen, `\answered`: FlagAnswered, `\flagged`: FlagFlagged,
	`\deleted`: FlagDeleted, `\draft`: FlagDraft, `\recent`: FlagRecent,
}

// CanonicalFlag returns the canonical spelling of a system flag, compared
// without regard to case (RFC 9051 §2.3.2), and other flags unchanged.
func CanonicalFlag(f string) string {
	if len(f) > 1 && f[0] == '\\' {
		if c, ok := systemFlags[strings.ToLower(f)]; ok {
			return c
		}
	}
	return f
}

// Flag decodes a flag (RFC 9051 §9): a keyword (atom) or "\" atom, which
// covers the system flags and flag-extension. System flags come back in
// canonical spelling.
func (dec *Decoder) Flag(ptr *string) bool {
	bs := dec.Special('\\')
	var atom string
	if !dec.Atom(&atom) {
		if bs {
			return dec.Expect(false, "flag name")
		}
		return false
	}
	if bs {
		atom = CanonicalFlag(`\` + atom)
	}
	*ptr = atom
	return true
}

// FlagPerm decodes a flag-perm (RFC 9051 §9): a flag or \*, as in
// PERMANENTFLAGS.
func (dec *Decoder) FlagPerm(ptr *string) bool {
	if b, err := dec.r.Peek(2); dec.ready() && err == nil && b[0] == '\\' && b[1] == '*' {
		dec.count(2)
		dec.noteBytes(b[:2])
		dec.r.Discard(2)
		dec.crlf = false
		*ptr = FlagWildcard
		return dec.err == nil
	}
	return dec.Flag(ptr)
}

// ExpectFlag decodes a flag or records an error.
func (dec *Decoder) ExpectFlag(ptr *string) bool { return dec.Expect(dec.Flag(ptr), "flag") }

// ExpectFlagList decodes a flag-list: "(" [flag *(SP flag)] ")".
func (dec *Decoder) ExpectFlagList(ptr *[]string) bool {
	var flags []string
	ok := dec.ExpectList(func() bool {
		var f string
		if !dec.ExpectFlag(&f) {
			return false
		}
		flags = append(flags, f)
		return true
	})
	if ok {
		*ptr = flags
	}
	return ok
}

// isFlag reports whether f can be written as a flag: an atom, optionally
// after one backslash, or \*.
func isFlag(f string) bool {
	if f == FlagWildcard {
		return true
	}
	return isAtom(strings.TrimPrefix(f, `\`))
}
