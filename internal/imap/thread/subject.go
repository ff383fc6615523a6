package thread

import (
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"
)

// BaseSubject returns the base subject of a Subject field value (RFC 5256
// §2.1), in i;unicode-casemap form (RFC 5256 §7), and whether the
// extraction removed a reply or forward marker: a subj-refwd ("Re:",
// "Fwd:"), a "(fwd)" subj-trailer or a "[fwd: …]" wrapper. THREAD=
// REFERENCES merges by subject on that answer (RFC 5256 §3, step 6).
//
// raw is the field's value as it is in the message: folded or not, with
// RFC 2047 encoded words. The steps are RFC 5256 §2.1's, numbered as
// there; "All servers and disconnected clients MUST use exactly this
// algorithm".
func BaseSubject(raw string) (base string, replyOrForward bool) {
	// (1) Encoded words to UTF-8, tabs and continuations to a space,
	// multiple spaces to one. RFC 5256 §7: the text is compared in
	// titlecased canonicalized form, so that is done first and the
	// markers below are matched in upper case ("RE", "FWD").
	// Line breaks go before Casemap, which keeps bytes that are not UTF-8
	// as they are: dropped after it, they could join such bytes into a
	// character that Casemap never saw.
	s := decodeWords(raw)
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	s = collapseSpace(Casemap(s))
	for {
		var fwd bool
		s, fwd = trimTrailers(s) // (2)
		replyOrForward = replyOrForward || fwd
		for { // (5): repeat (3) and (4) until nothing changes
			var refwd bool
			s, refwd = trimLeaders(s) // (3)
			replyOrForward = replyOrForward || refwd
			// (4) A leading subj-blob goes when what follows it is a
			// non-empty subj-base.
			n := blobLen(s)
			if n == 0 || n == len(s) {
				break
			}
			s = s[n:]
		}
		// (6) "[fwd:" … "]" around the whole: unwrap and go back to (2).
		if len(s) >= len("[FWD:]") && strings.HasPrefix(s, "[FWD:") && s[len(s)-1] == ']' {
			s = s[len("[FWD:") : len(s)-1]
			replyOrForward = true
			continue
		}
		return s, replyOrForward // (7)
	}
}

// decodeWords decodes the RFC 2047 encoded words of a header value. A
// value whose words cannot be decoded (an unknown charset, a bad
// encoding) stays as it is: RFC 5051 §2 compares what cannot be converted
// as binary.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d := mime.WordDecoder{CharsetReader: func(name string, r io.Reader) (io.Reader, error) {
		return charset.Reader(strings.ToLower(name), r)
	}}
	if out, err := d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// collapseSpace is step (1)'s whitespace rule: each run of spaces and
// tabs becomes one space (CR and LF, what is left of a continuation, are
// dropped before).
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// trimTrailers is step (2): it removes every trailing subj-trailer,
// "(fwd)" / WSP, and reports whether one was "(fwd)".
func trimTrailers(s string) (string, bool) {
	fwd := false
	for {
		switch {
		case strings.HasSuffix(s, " "):
			s = s[:len(s)-1]
		case strings.HasSuffix(s, "(FWD)"):
			s = s[:len(s)-len("(FWD)")]
			fwd = true
		default:
			return s, fwd
		}
	}
}

// trimLeaders is step (3): it removes every leading subj-leader,
// (*subj-blob subj-refwd) / WSP, and reports whether a subj-refwd was
// among them.
func trimLeaders(s string) (string, bool) {
	refwd := false
	for {
		if strings.HasPrefix(s, " ") {
			s = s[1:]
			continue
		}
		n := leaderLen(s)
		if n == 0 {
			return s, refwd
		}
		s = s[n:]
		refwd = true
	}
}

// leaderLen is the length of a "*subj-blob subj-refwd" at the start of s,
// 0 when there is none. Blobs are tried one more at a time, so that
// "[a]Re:" and "Re:" are both found.
func leaderLen(s string) int {
	pos := 0
	for {
		if n := refwdLen(s[pos:]); n > 0 {
			return pos + n
		}
		n := blobLen(s[pos:])
		if n == 0 {
			return 0
		}
		pos += n
	}
}

// refwdLen is the length of a subj-refwd at the start of s, 0 when there
// is none:
//
//	subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
func refwdLen(s string) int {
	var pos int
	switch {
	case strings.HasPrefix(s, "RE"):
		pos = 2
	case strings.HasPrefix(s, "FWD"):
		pos = 3
	case strings.HasPrefix(s, "FW"):
		pos = 2
	default:
		return 0
	}
	pos += wspLen(s[pos:])
	if strings.HasPrefix(s[pos:], ":") {
		return pos + 1
	}
	if n := blobLen(s[pos:]); n > 0 && strings.HasPrefix(s[pos+n:], ":") {
		return pos + n + 1
	}
	return 0
}

// blobLen is the length of a subj-blob at the start of s, 0 when there is
// none:
//
//	subj-blob = "[" *BLOBCHAR "]" *WSP
//	BLOBCHAR  = %x01-5a / %x5c / %x5e-ff ; any CHAR except '[' and ']'
//
// Bytes of UTF-8 characters are BLOBCHARs, as RFC 5256 §5 allows.
func blobLen(s string) int {
	if !strings.HasPrefix(s, "[") {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case ']':
			return i + 1 + wspLen(s[i+1:])
		case '[', 0:
			return 0
		}
	}
	return 0
}

// wspLen is the length of the run of spaces and tabs at the start of s.
func wspLen(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}
