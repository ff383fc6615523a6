package mail11

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postern/postern/internal/store"
)

// POPOptions are the settings of the POP header set (hp-system §3.1).
type POPOptions struct {
	// Options are the rewriting settings; GatewayNode is ignored, since
	// POP has no Gateway-Node.
	Options
	// SendIDHeaders adds X-POP3-Server and X-POP3-ID
	// (TCPIP$POP_SEND_ID_HEADERS).
	SendIDHeaders bool
	// Server is the X-POP3-Server value: the server's host name and
	// version, e.g. "mail.example.com Postern 1.0".
	Server string
	// ID is the X-POP3-ID value: the message's UID as UIDL shows it.
	ID string
}

// IMAPOptions are the settings of the IMAP header set (hp-system §3.1).
type IMAPOptions struct {
	// Options are the rewriting settings, GatewayNode included.
	Options
	// SendIDHeaders adds X-IMAP4-Server and X-IMAP4-ID (Send-ID-Headers).
	SendIDHeaders bool
	// Server is the X-IMAP4-Server value: host name and version.
	Server string
	// ID is the X-IMAP4-ID value: the message's UID.
	ID string
}

// Limits of the header lines this package writes (RFC 5322 §2.1.1).
const (
	foldWidth   = 78  // lines are folded to at most this many characters where they can be
	maxLineLen  = 998 // the hard limit; a longer unbreakable run is broken by force
	maxPlainRun = 900 // an unstructured word this long is RFC 2047-encoded so it can be folded
)

// dateLayout is the RFC 5322 §3.3 date-time with weekday, 4-digit year and
// numeric zone, e.g. "Wed, 30 May 2001 16:19:53 +0100".
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// POPHeader returns the header block the POP server sends for a message
// with the OpenVMS envelope env (hp-system §3.1, POP table), in this
// order: Date (the arrival date, in RFC 5322 form: [INF] "UNIX format"),
// From (rebuilt, R1–R6 and R8), To and CC (as stored), Subject (as stored,
// but RFC 2047-encoded where it holds non-ASCII), X-VMS-From (the VMS From
// unchanged), and, with SendIDHeaders, X-POP3-Server and X-POP3-ID. Lines
// end in CRLF and the block ends with the blank line. Empty fields are left
// out, except From. Stored text cannot inject a line: control characters
// become spaces, and long lines are folded.
func POPHeader(env *store.VMSEnvelope, opts POPOptions) []byte {
	ro := opts.Options
	ro.GatewayNode = ""
	var h headerWriter
	h.date(env.Date)
	h.field("From", ro.FromAddress(env.From, env.PersonalName))
	h.field("To", clean(env.To))
	h.field("CC", clean(env.CC))
	h.field("Subject", encodeText(env.Subject))
	h.field("X-VMS-From", encodeText(vmsFromLine(env)))
	if opts.SendIDHeaders {
		h.field("X-POP3-Server", encodeText(opts.Server))
		h.field("X-POP3-ID", encodeText(opts.ID))
	}
	return h.end()
}

// IMAPHeader returns the header block the IMAP server sends for a message
// with the OpenVMS envelope env (hp-system §3.1, IMAP table), in this
// order: Date (the arrival date with weekday, 4-digit year and zone), From,
// To and CC (each address rebuilt; recipients that are a user name alone
// take the sender's DECnet route, R3), Subject (non-ASCII RFC
// 2047-encoded), X-VMS-From, and, with SendIDHeaders, X-IMAP4-Server and
// X-IMAP4-ID. The form is that of POPHeader.
func IMAPHeader(env *store.VMSEnvelope, opts IMAPOptions) []byte {
	ro := opts.Options
	var h headerWriter
	h.date(env.Date)
	h.field("From", ro.FromAddress(env.From, env.PersonalName))
	h.field("To", ro.recipients(env.To, env.From))
	h.field("CC", ro.recipients(env.CC, env.From))
	h.field("Subject", encodeText(env.Subject))
	h.field("X-VMS-From", encodeText(vmsFromLine(env)))
	if opts.SendIDHeaders {
		h.field("X-IMAP4-Server", encodeText(opts.Server))
		h.field("X-IMAP4-ID", encodeText(opts.ID))
	}
	return h.end()
}

// recipients rebuilds a VMS address list for IMAP: split at the commas
// outside quotes, each address rewritten, joined by ", ".
func (o Options) recipients(list, from string) string {
	items := splitList(list)
	for i, it := range items {
		items[i] = o.RewriteRecipient(it, from)
	}
	return strings.Join(items, ", ")
}

// vmsFromLine is the X-VMS-From value: the VMS From as VMS MAIL shows it,
// the address followed by the personal name in quotes when there is one
// ([INF]: the original copied "the VMS From field", which in VMS MAIL holds
// both).
func vmsFromLine(env *store.VMSEnvelope) string {
	from := clean(env.From)
	if name := clean(env.PersonalName); name != "" {
		return from + ` "` + name + `"`
	}
	return from
}

// encodeText prepares unstructured text (RFC 5322 §3.2.5) for a header:
// cleaned of control characters, with each run of words that holds
// non-ASCII characters RFC 2047 Q-encoded (B-encoded when mostly
// non-ASCII). An ASCII word that would itself read as an encoded word
// ("=?…?=") or that is too long to fold is encoded too, so the text the
// client decodes is exactly the stored text. Runs of words that need
// encoding and are separated only by white space are encoded together,
// since a decoder drops the white space between adjacent encoded words.
func encodeText(s string) string {
	s = clean(s)
	words := strings.Split(s, " ")
	needs := func(w string) bool {
		return !isASCII(w) || strings.Contains(w, "=?") || len(w) > maxPlainRun
	}
	var out []string
	for i := 0; i < len(words); i++ {
		if !needs(words[i]) {
			out = append(out, words[i])
			continue
		}
		j := i // the last word of the run
		for k := i + 1; k < len(words); k++ {
			if words[k] == "" {
				continue // white space between two words of the run
			}
			if !needs(words[k]) {
				break
			}
			j = k
		}
		out = append(out, encodeWords(strings.Join(words[i:j+1], " ")))
		i = j
	}
	return strings.Join(out, " ")
}

// maxWordLen bounds an encoded word, framing included. RFC 2047 §2 allows
// 75; 60 leaves room for the longest field name written here
// ("X-IMAP4-Server: ") on the first line, so that every line that holds
// encoded words stays within the 76 characters of RFC 2047 §2.
const maxWordLen = 60

// encodeWords RFC 2047-encodes s as UTF-8 encoded words of at most
// maxWordLen characters, separated by spaces, never splitting a
// character: Q encoding, or B when more than half the characters are
// non-ASCII.
func encodeWords(s string) string {
	total, nonASCII := 0, 0
	for _, r := range s {
		total++
		if r >= utf8.RuneSelf {
			nonASCII++
		}
	}
	return encodeWordsAs(s, nonASCII*2 > total)
}

// encodeWordsAs encodes s as Q (b64 false) or B encoded words. The Q form
// is for unstructured text only (RFC 2047 §5(1)); display names use B,
// which is valid in a phrase (§5(3)). (The stdlib's mime encoders cannot be
// given a shorter word length, and leave printable ASCII unencoded.)
func encodeWordsAs(s string, b64 bool) string {
	prefix := "=?utf-8?q?"
	if b64 {
		prefix = "=?utf-8?b?"
	}
	budget := maxWordLen - len(prefix) - len("?=")
	var words []string
	var chunk []byte // the raw bytes of the current word
	size := 0        // their encoded length
	flush := func() {
		if len(chunk) == 0 {
			return
		}
		var enc string
		if b64 {
			enc = base64.StdEncoding.EncodeToString(chunk)
		} else {
			enc = qEncode(chunk)
		}
		words = append(words, prefix+enc+"?=")
		chunk, size = chunk[:0], 0
	}
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		r := s[i : i+n]
		grow := base64.StdEncoding.EncodedLen(len(chunk)+n) - size
		if !b64 {
			grow = len(qEncode([]byte(r)))
		}
		if size+grow > budget {
			flush()
			grow = base64.StdEncoding.EncodedLen(n)
			if !b64 {
				grow = len(qEncode([]byte(r)))
			}
		}
		chunk = append(chunk, r...)
		size += grow
		i += n
	}
	flush()
	return strings.Join(words, " ")
}

// qEncode is the Q encoding of RFC 2047 §4.2: printable ASCII but "=", "?"
// and "_" is written as it is, a space as "_", anything else as =XX.
func qEncode(b []byte) string {
	const hex = "0123456789ABCDEF"
	var out strings.Builder
	for _, c := range b {
		switch {
		case c == ' ':
			out.WriteByte('_')
		case c > ' ' && c < 0x7f && c != '=' && c != '?' && c != '_':
			out.WriteByte(c)
		default:
			out.WriteByte('=')
			out.WriteByte(hex[c>>4])
			out.WriteByte(hex[c&15])
		}
	}
	return out.String()
}

// headerWriter builds a header block.
type headerWriter struct {
	b []byte
}

// date writes the Date field, unless t is the zero time.
func (h *headerWriter) date(t time.Time) {
	if !t.IsZero() {
		h.field("Date", t.Format(dateLayout))
	}
}

// field writes "name: value" folded, unless value is empty. Values are
// built clean (clean, encodeText, Rewrite); one that is not is cleaned
// here all the same, so that no stored text can ever break a line.
func (h *headerWriter) field(name, value string) {
	if !utf8.ValidString(value) || hasControlRune(value) {
		value = clean(value)
	}
	value = strings.TrimRight(value, " ")
	if value == "" {
		return
	}
	h.b = fold(h.b, name+": "+value, len(name)+2)
}

// end returns the block with its closing blank line.
func (h *headerWriter) end() []byte {
	return append(h.b, "\r\n"...)
}

// fold appends line to b as one header field of CRLF-terminated lines
// (RFC 5322 §2.2.3). It breaks before white space (so that unfolding gives
// back exactly the line), at the last space that keeps a line within
// foldWidth, or failing that at the first space after it. A run longer
// than maxLineLen without white space is broken by force with a space
// added (only for absurd stored input: encoded and structured values
// have spaces where they may be broken). Breaks are never made in the
// first skip bytes (the field name), and no line is white space only.
func fold(b []byte, line string, skip int) []byte {
	for len(line) > foldWidth {
		i := breakAt(line, skip)
		if i < 0 {
			if len(line) <= maxLineLen {
				break
			}
			n := maxLineLen
			if strings.TrimLeft(line[:n], " ") == "" {
				// A run of spaces longer than a line (absurd stored
				// input, found by FuzzRewrite): cut here it would leave
				// a line of white space only, which ends the header
				// for many parsers. The run becomes one space.
				line = " " + strings.TrimLeft(line, " ")
				continue
			}
			for n > 1 && !utf8.RuneStart(line[n]) {
				n-- // keep a UTF-8 character on one line
			}
			b = append(b, line[:n]...)
			b = append(b, "\r\n"...)
			line = " " + line[n:]
			skip = 1
			continue
		}
		b = append(b, line[:i]...)
		b = append(b, "\r\n"...)
		line = line[i:]
		skip = 1
	}
	b = append(b, line...)
	return append(b, "\r\n"...)
}

// breakAt returns where to break line: the index of a space after skip
// that follows a non-space (so the line before the break is never white
// space only, and a run of spaces moves whole to the next line), the last
// one within foldWidth if any, else the first one after it, or -1 when no
// break is possible within maxLineLen. The value has no trailing white
// space (field trims it), so something always follows a break.
func breakAt(line string, skip int) int {
	ok := func(i int) bool { return line[i] == ' ' && line[i-1] != ' ' }
	for i := min(foldWidth, len(line)-1); i > skip; i-- {
		if ok(i) {
			return i
		}
	}
	for i := max(foldWidth+1, skip+1); i < len(line) && i <= maxLineLen; i++ {
		if ok(i) {
			return i
		}
	}
	return -1
}
