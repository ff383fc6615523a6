package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMaxQuoted is the longest string the encoder quotes when
// EncoderOptions.MaxQuoted is zero; longer strings go out as literals.
const DefaultMaxQuoted = 1024

// EncoderOptions configures an Encoder.
type EncoderOptions struct {
	// UTF8 is set once the client enabled IMAP4rev2 or UTF8=ACCEPT:
	// mailbox names go out in UTF-8 instead of modified UTF-7, and quoted
	// strings may carry UTF-8. See SetUTF8.
	UTF8 bool
	// MaxQuoted bounds the length of quoted strings. Zero means
	// DefaultMaxQuoted.
	MaxQuoted int
	// Tracer, when not nil, sees every line and every literal's data the
	// encoder writes, for a protocol trace.
	Tracer Tracer
}

// MaxTracedLine bounds the part of a line an Encoder keeps for its
// Tracer; the rest of a longer line is not traced.
const MaxTracedLine = 4096

// A Tracer observes what an Encoder writes, with protocol text and
// message data apart, so a trace can summarise or redact the data.
type Tracer interface {
	// Line is called at the end of each line with its text, without the
	// CRLF, cut at MaxTracedLine bytes. The slice is reused afterwards.
	Line(line []byte)
	// Data is called with the data of literals as it is written.
	Data(p []byte)
}

// An Encoder writes IMAP responses to a *bufio.Writer. Like the Decoder it
// keeps the first error (see Err): every method after it does nothing, so
// a response is written as one chain ended by CRLF, which returns the
// error. The encoder never flushes by itself, except where noted.
type Encoder struct {
	w    *bufio.Writer
	opts EncoderOptions
	err  error
	num  []byte
	line []byte // the line so far, kept only with a Tracer
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w *bufio.Writer, opts EncoderOptions) *Encoder {
	if opts.MaxQuoted <= 0 {
		opts.MaxQuoted = DefaultMaxQuoted
	}
	return &Encoder{w: w, opts: opts}
}

// SetUTF8 switches mailbox names and quoted strings to UTF-8 (true) or to
// modified UTF-7 and 7-bit quoted strings (false).
func (enc *Encoder) SetUTF8(on bool) { enc.opts.UTF8 = on }

// SetWriter makes the encoder write to w from now on and returns the
// writer it wrote to before, for a caller that puts a larger buffer in
// front of the connection's for a while. Flushing w is the caller's.
func (enc *Encoder) SetWriter(w *bufio.Writer) *bufio.Writer {
	old := enc.w
	enc.w = w
	return old
}

// Err returns the first error the encoder met.
func (enc *Encoder) Err() error { return enc.err }

// setErr records err unless an error is already recorded.
func (enc *Encoder) setErr(err error) {
	if enc.err == nil {
		enc.err = err
	}
}

// ErrEncode is wrapped by the errors the encoder returns for values that
// cannot be written: an atom with specials, a string with NUL, a bad flag.
var ErrEncode = errors.New("imapwire: cannot encode")

func encodeErrorf(what string) error { return errors.Join(ErrEncode, errors.New(what)) }

// raw writes s unchecked.
func (enc *Encoder) raw(s string) *Encoder {
	if enc.err == nil {
		enc.traced(s)
		if _, err := enc.w.WriteString(s); err != nil {
			enc.setErr(err)
		}
	}
	return enc
}

// rawByte writes b unchecked.
func (enc *Encoder) rawByte(b byte) *Encoder {
	if enc.err == nil {
		if enc.opts.Tracer != nil && len(enc.line) < MaxTracedLine {
			enc.line = append(enc.line, b)
		}
		if err := enc.w.WriteByte(b); err != nil {
			enc.setErr(err)
		}
	}
	return enc
}

// traced adds s to the line kept for the Tracer.
func (enc *Encoder) traced(s string) {
	if enc.opts.Tracer != nil && len(enc.line) < MaxTracedLine {
		enc.line = append(enc.line, s[:min(len(s), MaxTracedLine-len(enc.line))]...)
	}
}

// lineEnd writes CRLF and hands the line to the Tracer.
func (enc *Encoder) lineEnd() *Encoder {
	if enc.err == nil {
		if _, err := enc.w.WriteString("\r\n"); err != nil {
			enc.setErr(err)
		}
	}
	if enc.opts.Tracer != nil {
		enc.opts.Tracer.Line(enc.line)
		enc.line = enc.line[:0]
	}
	return enc
}

// Untagged starts an untagged response: "* ".
func (enc *Encoder) Untagged() *Encoder { return enc.raw("* ") }

// Tagged starts a tagged response: the tag and SP.
func (enc *Encoder) Tagged(tag string) *Encoder {
	if tag == "" {
		enc.setErr(encodeErrorf("empty tag"))
	}
	return enc.raw(tag).SP()
}

// Continuation writes a whole continuation request, "+ text" CRLF, and
// flushes it: the client is waiting for it.
func (enc *Encoder) Continuation(text string) error {
	enc.raw("+ ").Text(text).CRLF()
	return enc.Flush()
}

// SP writes a space.
func (enc *Encoder) SP() *Encoder { return enc.rawByte(' ') }

// Special writes a delimiter such as '(' or ']'.
func (enc *Encoder) Special(b byte) *Encoder { return enc.rawByte(b) }

// CRLF ends the response and returns the first error met while writing it.
func (enc *Encoder) CRLF() error {
	enc.lineEnd()
	return enc.err
}

// Flush flushes the underlying writer.
func (enc *Encoder) Flush() error {
	if enc.err == nil {
		enc.setErr(enc.w.Flush())
	}
	return enc.err
}

// Atom writes an atom, recording an error if s is not one.
func (enc *Encoder) Atom(s string) *Encoder {
	if !isAtom(s) {
		enc.setErr(encodeErrorf("not an atom: " + strconv.Quote(s)))
		return enc
	}
	return enc.raw(s)
}

// Number writes a number.
func (enc *Encoder) Number(n uint32) *Encoder { return enc.ModSeq(uint64(n)) }

// Number64 writes a number64; a negative n is an error.
func (enc *Encoder) Number64(n int64) *Encoder {
	if n < 0 {
		enc.setErr(encodeErrorf("negative number"))
		return enc
	}
	return enc.ModSeq(uint64(n))
}

// ModSeq writes an unsigned 64-bit number, such as a mod-sequence.
func (enc *Encoder) ModSeq(n uint64) *Encoder {
	enc.num = strconv.AppendUint(enc.num[:0], n, 10)
	if enc.err == nil {
		if enc.opts.Tracer != nil && len(enc.line) < MaxTracedLine {
			enc.line = append(enc.line, enc.num...)
		}
		if _, err := enc.w.Write(enc.num); err != nil {
			enc.setErr(err)
		}
	}
	return enc
}

// NIL writes NIL.
func (enc *Encoder) NIL() *Encoder { return enc.raw("NIL") }

// canQuote reports whether s can be written as a quoted string.
func (enc *Encoder) canQuote(s string) bool {
	if len(s) > enc.opts.MaxQuoted {
		return false
	}
	eightBit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0 || c == '\r' || c == '\n':
			return false
		case c >= 0x80:
			eightBit = true
		}
	}
	// IMAP4rev1 quoted strings are 7-bit (RFC 3501 §9); IMAP4rev2 allows
	// UTF-8 (RFC 9051 §9, QUOTED-CHAR).
	return !eightBit || enc.opts.UTF8 && utf8.ValidString(s)
}

// Quoted writes s as a quoted string, recording an error if it cannot be.
func (enc *Encoder) Quoted(s string) *Encoder {
	if strings.ContainsAny(s, "\x00\r\n") {
		enc.setErr(encodeErrorf("CR, LF or NUL in quoted string"))
		return enc
	}
	enc.rawByte('"')
	for len(s) > 0 && enc.err == nil {
		i := strings.IndexAny(s, `"\`)
		if i < 0 {
			enc.raw(s)
			break
		}
		enc.raw(s[:i]).rawByte('\\').rawByte(s[i])
		s = s[i+1:]
	}
	return enc.rawByte('"')
}

// String writes s as a quoted string when it can, else as a literal: for a
// CR or LF, a NUL, 8-bit data outside UTF-8 mode, or more than MaxQuoted
// bytes. A literal cannot carry NUL either (see Literal).
func (enc *Encoder) String(s string) *Encoder {
	if enc.canQuote(s) {
		return enc.Quoted(s)
	}
	return enc.Literal(s)
}

// AString writes s as an atom when it is one, else as String does.
func (enc *Encoder) AString(s string) *Encoder {
	if isAStringAtom(s) && !strings.EqualFold(s, "NIL") {
		return enc.raw(s)
	}
	return enc.String(s)
}

// NString writes NIL for a nil s, else the string.
func (enc *Encoder) NString(s *string) *Encoder {
	if s == nil {
		return enc.NIL()
	}
	return enc.String(*s)
}

// NULSubstitute is the octet an Encoder sends in a literal in place of
// each NUL of the data: a literal is made of CHAR8 (%x01-ff, RFC 9051 §4.3
// and §9), and replacing octet for octet keeps every size and offset the
// client was told (RFC822.SIZE, BODYSTRUCTURE, partial fetches). Dovecot
// does the same. Literal8 sends NUL unchanged (RFC 3516 §4.1).
const NULSubstitute = 0x80

// Literal writes s as a literal, {n} CRLF and the data, each NUL replaced
// by NULSubstitute.
func (enc *Encoder) Literal(s string) *Encoder {
	enc.literalHeader(int64(len(s)), false)
	if strings.IndexByte(s, 0) >= 0 {
		b := []byte(s)
		replaceNUL(b)
		s = string(b)
	}
	return enc.data(s)
}

// Literal8 writes s as a literal8, ~{n} CRLF and the data (RFC 3516).
func (enc *Encoder) Literal8(s string) *Encoder {
	return enc.literalHeader(int64(len(s)), true).data(s)
}

// data writes literal data and shows it to the Tracer as such.
func (enc *Encoder) data(s string) *Encoder {
	if enc.err != nil {
		return enc
	}
	if _, err := enc.w.WriteString(s); err != nil {
		enc.setErr(err)
	}
	if enc.opts.Tracer != nil && len(s) > 0 {
		enc.opts.Tracer.Data([]byte(s))
	}
	return enc
}

// literalHeader writes {n} CRLF or ~{n} CRLF.
func (enc *Encoder) literalHeader(n int64, binary bool) *Encoder {
	if binary {
		enc.rawByte('~')
	}
	return enc.rawByte('{').Number64(n).rawByte('}').lineEnd()
}

// WriteLiteralFrom writes a literal of n bytes copied from r, without
// holding them in memory, each NUL replaced by NULSubstitute. Reading
// fewer than n bytes is an error: the response is then broken and the
// connection must be closed.
func (enc *Encoder) WriteLiteralFrom(r io.Reader, n int64) error {
	return enc.literalFrom(r, n, false)
}

// WriteLiteral8From writes a literal8 of n bytes copied from r (RFC 3516
// BINARY[…] data), NUL included.
func (enc *Encoder) WriteLiteral8From(r io.Reader, n int64) error {
	return enc.literalFrom(r, n, true)
}

func (enc *Encoder) literalFrom(r io.Reader, n int64, binary bool) error {
	if n < 0 {
		enc.setErr(encodeErrorf("negative literal size"))
	}
	enc.literalHeader(n, binary)
	if enc.err != nil {
		return enc.err
	}
	dw := dataWriter{enc: enc, mapNUL: !binary}
	copied, err := io.CopyN(writeOnly{&dw}, r, n)
	if err == nil {
		err = dw.err
	}
	if err == io.EOF && copied < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		enc.setErr(err)
	}
	return enc.err
}

// dataWriter passes literal data to the encoder's writer and Tracer,
// replacing NUL when mapNUL is set. It keeps the write error apart, so
// that a failure of the reader and one of the writer are told apart.
type dataWriter struct {
	enc    *Encoder
	mapNUL bool
	err    error
}

func (dw *dataWriter) Write(p []byte) (int, error) {
	if dw.mapNUL {
		// p belongs to io.Copy's buffer, which is refilled anyway.
		replaceNUL(p)
	}
	n, err := dw.enc.w.Write(p)
	if dw.enc.opts.Tracer != nil && n > 0 {
		dw.enc.opts.Tracer.Data(p[:n])
	}
	if err != nil {
		dw.err = err
	}
	return n, err
}

// writeOnly hides every method of a writer but Write, so that io.CopyN
// copies through its own buffer, which dataWriter may change.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// replaceNUL replaces each NUL of b with NULSubstitute.
func replaceNUL(b []byte) {
	for i := bytes.IndexByte(b, 0); i >= 0; i = bytes.IndexByte(b, 0) {
		b[i] = NULSubstitute
	}
}

// List writes a parenthesised list of n elements, item writing each one;
// List adds the spaces.
func (enc *Encoder) List(n int, item func(i int)) *Encoder {
	enc.rawByte('(')
	for i := 0; i < n && enc.err == nil; i++ {
		if i > 0 {
			enc.SP()
		}
		item(i)
	}
	return enc.rawByte(')')
}

// Flag writes a flag: a keyword, a "\" atom or \*.
func (enc *Encoder) Flag(f string) *Encoder {
	if !isFlag(f) {
		enc.setErr(encodeErrorf("not a flag: " + strconv.Quote(f)))
		return enc
	}
	return enc.raw(f)
}

// Flags writes a parenthesised list of flags.
func (enc *Encoder) Flags(flags []string) *Encoder {
	return enc.List(len(flags), func(i int) { enc.Flag(flags[i]) })
}

// SeqSet writes a sequence-set; an empty set is an error.
func (enc *Encoder) SeqSet(s SeqSet) *Encoder {
	if s.IsEmpty() {
		enc.setErr(encodeErrorf("empty sequence set"))
		return enc
	}
	return enc.raw(s.String())
}

// Mailbox writes a mailbox name given in UTF-8: as it is in UTF-8 mode,
// else in modified UTF-7; as an atom when it can be, else as a string.
// INBOX in any case is written "INBOX".
func (enc *Encoder) Mailbox(name string) *Encoder {
	if strings.EqualFold(name, Inbox) {
		return enc.raw(Inbox)
	}
	if !enc.opts.UTF8 {
		name = EncodeMUTF7(name)
	}
	return enc.AString(name)
}

// DateTime writes t as a quoted date-time.
func (enc *Encoder) DateTime(t time.Time) *Encoder {
	return enc.rawByte('"').raw(FormatDateTime(t)).rawByte('"')
}

// Text writes resp-text or other human-readable text, with CR, LF and NUL
// replaced by spaces, so that it cannot end the line early.
func (enc *Encoder) Text(s string) *Encoder {
	if strings.ContainsAny(s, "\x00\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == 0 || r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, s)
	}
	return enc.raw(s)
}

// Code writes a response code and the space after it: "[" name
// [SP args] "] ". args, when not nil, writes the arguments.
func (enc *Encoder) Code(name string, args func(*Encoder)) *Encoder {
	enc.rawByte('[').Atom(name)
	if args != nil {
		enc.SP()
		args(enc)
	}
	return enc.raw("] ")
}
