package imapserver

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/observe"
)

// maxTracedLine bounds the part of a response line kept for the trace.
const maxTracedLine = 4096

// encoder writes responses. It is the private stand-in for an
// imapwire.Encoder (not yet available): every byte of protocol text the
// server sends goes through it, so handlers never format raw protocol
// text. It keeps the first write error; later calls do nothing.
//
// TODO(imapwire): replace with imapwire.Encoder once it lands.
type encoder struct {
	w      *bufio.Writer
	trace  *observe.ConnTrace
	utf8   bool   // strings and mailbox names may carry UTF-8 (IMAP4rev2, UTF8=ACCEPT)
	line   []byte // the line so far, for the trace; kept only with a trace
	err    error
	n      int64    // message data octets written, for metrics
	digits [20]byte // scratch for formatting numbers
}

func (e *encoder) write(s string) *encoder {
	if e.err != nil {
		return e
	}
	if e.trace != nil && len(e.line) < maxTracedLine {
		e.line = append(e.line, s[:min(len(s), maxTracedLine-len(e.line))]...)
	}
	_, e.err = e.w.WriteString(s)
	return e
}

// writeBytes is write for a byte slice.
func (e *encoder) writeBytes(b []byte) *encoder {
	if e.err != nil {
		return e
	}
	if e.trace != nil && len(e.line) < maxTracedLine {
		e.line = append(e.line, b[:min(len(b), maxTracedLine-len(e.line))]...)
	}
	_, e.err = e.w.Write(b)
	return e
}

// raw writes protocol text: atoms, specials, response names.
func (e *encoder) raw(s string) *encoder { return e.write(s) }

// sp writes one space.
func (e *encoder) sp() *encoder { return e.write(" ") }

// num writes a number.
func (e *encoder) num(n uint32) *encoder {
	return e.writeBytes(strconv.AppendUint(e.digits[:0], uint64(n), 10))
}

// num64 writes a number64.
func (e *encoder) num64(n int64) *encoder {
	return e.writeBytes(strconv.AppendInt(e.digits[:0], n, 10))
}

// crlf ends a line and traces it.
func (e *encoder) crlf() *encoder {
	e.write("\r\n")
	e.trace.Server(e.line)
	e.line = e.line[:0]
	return e
}

// quotable reports whether s can be sent as a quoted string.
func (e *encoder) quotable(s string) bool {
	if len(s) > 1000 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !e.utf8) {
			return false
		}
	}
	return true
}

// str writes s as a quoted string or, when it cannot be quoted, a literal.
func (e *encoder) str(s string) *encoder {
	if !e.quotable(s) {
		return e.literal(int64(len(s)), strings.NewReader(s), false)
	}
	if strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 {
		// Nothing to escape: no copy.
		return e.write(`"`).write(s).write(`"`)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return e.write(b.String())
}

// nstr writes s as a string, or NIL when s is empty.
func (e *encoder) nstr(s string) *encoder {
	if s == "" {
		return e.write("NIL")
	}
	return e.str(s)
}

// astr writes s as an atom when it is one, else as a string.
func (e *encoder) astr(s string) *encoder {
	if s != "" && isAtomString(s) {
		return e.write(s)
	}
	return e.str(s)
}

// mailbox writes a mailbox name: UTF-8 when enabled, else modified UTF-7.
func (e *encoder) mailbox(name string) *encoder {
	if !e.utf8 {
		name = imapwire.EncodeMUTF7(name)
	}
	return e.astr(name)
}

// literal writes a literal of size bytes read from r: "{n}" CRLF and the
// data, or "~{n}" for a literal8 (RFC 3516) when binary is set. r must
// yield exactly size bytes; a short read is an error that ends the
// connection (the stream is out of step).
func (e *encoder) literal(size int64, r io.Reader, binary bool) *encoder {
	if binary {
		e.write("~")
	}
	e.write("{" + strconv.FormatInt(size, 10) + "}")
	e.crlf()
	if e.err != nil {
		return e
	}
	n, err := io.CopyN(e.w, traceWriterTo{r, e.trace}, size)
	e.n += n
	if err != nil {
		e.err = err
	}
	return e
}

// traceWriterTo passes data through to the trace as message data.
type traceWriterTo struct {
	r     io.Reader
	trace *observe.ConnTrace
}

func (t traceWriterTo) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.trace.ServerData(p[:n])
	}
	return n, err
}

// flagList writes a parenthesised list of flags.
func (e *encoder) flagList(flags []string) *encoder {
	e.write("(")
	for i, f := range flags {
		if i > 0 {
			e.sp()
		}
		e.write(f)
	}
	return e.write(")")
}

// isAtomString reports whether s consists of ASTRING-CHARs only and can be
// sent as an atom (NIL excepted, which would read as nil).
func isAtomString(s string) bool {
	if strings.EqualFold(s, "NIL") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ']' && !imapwire.IsAtomChar(c) {
			return false
		}
	}
	return true
}

// respText sanitizes free text for resp-text: no CR, LF or NUL.
func respText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
}
