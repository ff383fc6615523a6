package imapwire

import (
	"bufio"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// IMAPURL is an IMAP URL to one message or message part, in the relative
// forms CATENATE takes (RFC 4469 §3; RFC 5092 §6, §7): either an absolute
// path "/mailbox[;UIDVALIDITY=v]/;UID=u[/;SECTION=s][/;PARTIAL=o[.n]]",
// resolved against "imap://user@server/", or, in the selected state, a
// path ";UID=u[/;SECTION=s][/;PARTIAL=o[.n]]" relative to the selected
// mailbox.
type IMAPURL struct {
	Mailbox     string // %-decoded UTF-8; "" when relative to the selected mailbox
	UIDValidity uint32 // 0 when absent
	UID         uint32
	Section     *Section // nil: the whole message
	Partial     *Partial // nil: all of it
}

// ErrBadURL is returned (wrapped) by ParseIMAPURL for a URL it does not
// accept: malformed, absolute (with a scheme or a server: outside RFC
// 4469's scope, §3 note), a message list rather than a message, or with
// URLAUTH (RFC 4467), which Postern does not implement.
var ErrBadURL = errors.New("imapwire: unsupported or malformed IMAP URL")

func badURL(why string) error { return &urlError{why} }

type urlError struct{ why string }

func (e *urlError) Error() string { return "imapwire: IMAP URL: " + e.why }
func (e *urlError) Unwrap() error { return ErrBadURL }

// ParseIMAPURL parses a relative IMAP URL to a message or message part.
// Keys (UID, SECTION…) are case-insensitive (RFC 5092 §6).
func ParseIMAPURL(s string) (IMAPURL, error) {
	var u IMAPURL
	var rest string
	switch {
	case strings.HasPrefix(s, "//") || strings.Contains(strings.SplitN(s, "/", 2)[0], ":"):
		return u, badURL("not a relative URL to this session's mail")
	case strings.HasPrefix(s, "/"):
		i := indexFold(s, "/;UID=")
		if i < 1 {
			return u, badURL("no mailbox and UID")
		}
		if err := u.parseMailboxRef(s[1:i]); err != nil {
			return u, err
		}
		rest = s[i+1:]
	case hasPrefixFold(s, ";UID="):
		rest = s
	default:
		return u, badURL("not a message URL")
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		key, val, ok := strings.Cut(seg, "=")
		if !ok || !strings.HasPrefix(key, ";") {
			return u, badURL("malformed segment")
		}
		var err error
		switch k := strings.ToUpper(key[1:]); {
		case k == "UID" && i == 0:
			u.UID, err = urlNumber(val, true)
		case k == "SECTION" && i == 1:
			err = u.parseSection(val)
		case k == "PARTIAL" && i > 0 && u.Partial == nil && i == len(segs)-1:
			err = u.parsePartial(val)
		default:
			err = badURL("unexpected " + k)
		}
		if err != nil {
			return u, err
		}
	}
	return u, nil
}

// parseMailboxRef parses enc-mailbox [";UIDVALIDITY=" nz-number].
func (u *IMAPURL) parseMailboxRef(ref string) error {
	enc := ref
	if i := indexFold(ref, ";UIDVALIDITY="); i >= 0 {
		enc = ref[:i]
		v, err := urlNumber(ref[i+len(";UIDVALIDITY="):], true)
		if err != nil {
			return err
		}
		u.UIDValidity = v
	}
	name, err := urlUnescape(enc)
	if err != nil || name == "" || strings.Contains(enc, ";") {
		return badURL("bad mailbox")
	}
	u.Mailbox = name
	return nil
}

// parseSection parses enc-section: a %-encoded section-spec of FETCH
// (RFC 5092 §6, RFC 9051 §6.4.5).
func (u *IMAPURL) parseSection(enc string) error {
	text, err := urlUnescape(enc)
	if err != nil || text == "" {
		return badURL("bad section")
	}
	dec := NewDecoder(bufio.NewReader(strings.NewReader("["+text+"]")), Options{})
	var sec Section
	if !dec.expectSection(&sec) || dec.Err() != nil {
		return badURL("bad section")
	}
	if _, err := dec.r.ReadByte(); err == nil {
		return badURL("bad section")
	}
	u.Section = &sec
	return nil
}

// parsePartial parses partial-range = number ["." nz-number] (RFC 5092 §6).
func (u *IMAPURL) parsePartial(val string) error {
	off, count, hasCount := strings.Cut(val, ".")
	o, err := urlNumber(off, false)
	if err != nil {
		return err
	}
	p := &Partial{Offset: int64(o)}
	if hasCount {
		n, err := urlNumber(count, true)
		if err != nil {
			return err
		}
		p.Count = int64(n)
	}
	u.Partial = p
	return nil
}

// urlNumber parses a number (nz-number when nonZero) of at most 32 bits.
func urlNumber(s string, nonZero bool) (uint32, error) {
	if s == "" || len(s) > 10 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, badURL("bad number")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || (nonZero && n == 0) {
		return 0, badURL("bad number")
	}
	return uint32(n), nil
}

// urlUnescape %-decodes s, refusing control characters.
func urlUnescape(s string) (string, error) {
	out, err := url.PathUnescape(s)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(out); i++ {
		if out[i] < 0x20 || out[i] == 0x7f {
			return "", badURL("control character")
		}
	}
	return out, nil
}

// indexFold finds sub (upper case ASCII) in s, ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// URLRespText returns url as the url-resp-text of a BADURL response code
// (RFC 4469 §5: TEXT-CHARs but "]"): control characters, "]" and octets
// beyond ASCII are %-encoded, as the URL syntax allows (RFC 5092 §6).
func URLRespText(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c < 0x20 || c == ']' || c >= 0x7f {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return `""` // 1*: an empty URL shown as a pair of quotes
	}
	return b.String()
}
