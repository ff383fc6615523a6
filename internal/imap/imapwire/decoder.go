package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// DefaultMaxLineLength is the limit on the bytes of one command the decoder
// holds in memory when Options.MaxLineLength is zero.
const DefaultMaxLineLength = 64 * 1024

// maxLiteralMinus is the largest non-synchronising literal a LITERAL- server
// accepts (RFC 7888 §4).
const maxLiteralMinus = 4096

// MaxNesting bounds the depth of nesting in one command, so hostile input
// cannot exhaust the stack: each parenthesised list counts one level, and
// so does each NOT and each operand of OR in a SEARCH key.
const MaxNesting = 64

// NonSyncMode says which non-synchronising literals a server accepts: it
// follows the capability the server advertises.
type NonSyncMode uint8

const (
	// NonSyncPlus accepts {n+} of any size (LITERAL+, RFC 7888 §3).
	NonSyncPlus NonSyncMode = iota
	// NonSyncMinus accepts {n+} up to 4096 bytes (LITERAL-, RFC 7888 §4);
	// a larger one fails with a *LiteralTooBigError.
	NonSyncMinus
	// NonSyncNone rejects every {n+} as a syntax error, for a server that
	// advertises neither extension.
	NonSyncNone
)

// LiteralInfo describes a literal whose header has been read and whose data
// has not.
type LiteralInfo struct {
	Size    int64 // declared number of bytes
	NonSync bool  // {n+}: the client sends the data without waiting
	Binary  bool  // literal8 ~{n} (RFC 3516): the data may contain NUL
}

// Options configures a Decoder. The zero value is usable: 64 KiB lines,
// LITERAL+, modified UTF-7 mailbox names, every literal accepted.
type Options struct {
	// MaxLineLength bounds what the decoder holds in memory for one command:
	// its text, across literal continuations, plus the literals it reads
	// into strings (astring, string, nstring). Literals handed to the caller
	// through LiteralReader do not count. Zero means DefaultMaxLineLength.
	MaxLineLength int

	// NonSync selects LITERAL+ (the zero value), LITERAL- or neither.
	NonSync NonSyncMode

	// OnLiteral is called when the decoder meets a literal it would read
	// into a string, after the size checks and before reading any data.
	// A server uses it to send the continuation request "+ …" for a
	// synchronising literal, and flush, before returning nil. An error
	// refuses the literal and is recorded wrapped in a
	// *LiteralRefusedError. Nil accepts every literal without writing
	// anything, which suits tests and the client side.
	OnLiteral func(LiteralInfo) error

	// MaxDiscard bounds the non-synchronising literal DiscardLine skips
	// after a failed command; a larger one makes it fail, and the server
	// closes the connection instead. Zero means DefaultMaxDiscard.
	MaxDiscard int64

	// UTF8 makes mailbox names UTF-8 on the wire (IMAP4rev2 or
	// UTF8=ACCEPT enabled); otherwise they are modified UTF-7 and are
	// decoded to UTF-8 (RFC 3501 §5.1.3). See SetUTF8.
	UTF8 bool
}

// A Decoder reads IMAP commands (or responses) from a *bufio.Reader.
//
// It keeps the first error it meets (a sticky error, see Err); every later
// call does nothing and reports failure, so a command's arguments are parsed
// as one chain of calls followed by a single check of Err.
//
// Its methods come in two families:
//
//   - Methods named after a grammar element (SP, Atom, Number, AString…)
//     try to decode it and return false without recording an error when
//     the input holds something else, so the caller can try another
//     alternative. Input/output errors and limit errors are recorded all
//     the same.
//   - Expect methods (ExpectSP, ExpectAtom…) do the same but record a
//     *SyntaxError when the element is not there.
//
// A Decoder never reads a literal's data without the caller's consent and
// never allocates in proportion to a size declared by the peer: see
// Options.OnLiteral, LiteralHeader and LiteralReader.
type Decoder struct {
	r    *bufio.Reader
	opts Options

	err     error
	n       int   // bytes of the current command counted toward the limit
	crlf    bool  // the last bytes consumed were a CRLF: a line ended
	litLeft int64 // unread bytes of a literal handed to the caller
	pending bool  // a literal header was read and its data was not
	litInfo LiteralInfo
	depth   int // list and search-key nesting
	buf     []byte
	// tail holds the last bytes consumed on the current line, so that
	// DiscardLine can tell a line that ends with a literal header even
	// when a token swallowed it (an unterminated quoted string).
	tail []byte
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r *bufio.Reader, opts Options) *Decoder {
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = DefaultMaxLineLength
	}
	return &Decoder{r: r, opts: opts, crlf: true}
}

// SetUTF8 switches mailbox names between modified UTF-7 (false) and UTF-8
// (true), as after "ENABLE IMAP4rev2" or "ENABLE UTF8=ACCEPT".
func (dec *Decoder) SetUTF8(on bool) { dec.opts.UTF8 = on }

// UTF8 reports whether mailbox names are decoded as UTF-8.
func (dec *Decoder) UTF8() bool { return dec.opts.UTF8 }

// Err returns the first error the decoder recorded, or nil.
func (dec *Decoder) Err() error { return dec.err }

// setErr records err unless an error is already recorded. It returns false
// so callers can write "return dec.setErr(…)".
func (dec *Decoder) setErr(err error) bool {
	if dec.err == nil {
		dec.err = err
	}
	return false
}

// Expect records a *SyntaxError saying "expected what" when ok is false. It
// returns ok, so it wraps any method of the first family.
func (dec *Decoder) Expect(ok bool, what string) bool {
	if !ok {
		dec.setErr(syntaxErrorf("expected %s", what))
	}
	return ok
}

// Fail records a *SyntaxError with the given message, for grammar checks
// made by the caller.
func (dec *Decoder) Fail(msg string) { dec.setErr(&SyntaxError{Msg: msg}) }

// ready reports whether the decoder may consume input: no error and no
// literal of the caller's left unread.
func (dec *Decoder) ready() bool {
	if dec.err != nil {
		return false
	}
	if dec.litLeft > 0 || dec.pending {
		return dec.setErr(ErrLiteralPending)
	}
	return true
}

// ioErr records a read error. EOF before the first byte of a command is a
// clean close (io.EOF); anywhere else it is io.ErrUnexpectedEOF.
func (dec *Decoder) ioErr(err error) bool {
	if err == io.EOF && !(dec.n == 0 && dec.crlf) {
		err = io.ErrUnexpectedEOF
	}
	return dec.setErr(err)
}

// peek returns the next byte without consuming it.
func (dec *Decoder) peek() (byte, bool) {
	if !dec.ready() {
		return 0, false
	}
	b, err := dec.r.Peek(1)
	if err != nil {
		return 0, dec.ioErr(err)
	}
	return b[0], true
}

// count charges k bytes against the line limit.
func (dec *Decoder) count(k int) bool {
	dec.n += k
	if dec.n > dec.opts.MaxLineLength {
		return dec.setErr(&LineTooLongError{Limit: dec.opts.MaxLineLength})
	}
	return true
}

// accept consumes the next byte if it is b.
func (dec *Decoder) accept(b byte) bool {
	got, ok := dec.peek()
	if !ok || got != b {
		return false
	}
	if !dec.count(1) {
		return false
	}
	dec.r.Discard(1)
	dec.crlf = false
	dec.noteByte(b)
	return true
}

// noteByte and noteBytes remember consumed line text in dec.tail.
func (dec *Decoder) noteByte(b byte) {
	if len(dec.tail) >= maxLiteralHeader {
		dec.tail = append(dec.tail[:0], dec.tail[1:]...)
	}
	dec.tail = append(dec.tail, b)
}

func (dec *Decoder) noteBytes(p []byte) {
	if len(p) >= maxLiteralHeader {
		p = p[len(p)-maxLiteralHeader:]
	}
	if over := len(dec.tail) + len(p) - maxLiteralHeader; over > 0 {
		dec.tail = append(dec.tail[:0], dec.tail[over:]...)
	}
	dec.tail = append(dec.tail, p...)
}

// readWhile consumes the longest run of bytes in class and returns it in a
// scratch buffer valid until the next call.
func (dec *Decoder) readWhile(class *charClass) []byte {
	dec.buf = dec.buf[:0]
	for dec.ready() {
		if dec.r.Buffered() == 0 {
			if _, err := dec.r.Peek(1); err != nil {
				if len(dec.buf) == 0 {
					dec.ioErr(err)
				}
				// A token ended by EOF: the next call reports the EOF.
				return dec.buf
			}
		}
		chunk, _ := dec.r.Peek(dec.r.Buffered())
		i := 0
		for i < len(chunk) && class[chunk[i]] {
			i++
		}
		if i > 0 {
			if !dec.count(i) {
				return nil
			}
			dec.buf = append(dec.buf, chunk[:i]...)
			dec.noteBytes(chunk[:i])
			dec.r.Discard(i)
			dec.crlf = false
		}
		if i < len(chunk) {
			break
		}
	}
	return dec.buf
}

// SP consumes a single space.
func (dec *Decoder) SP() bool { return dec.accept(' ') }

// ExpectSP consumes a single space or records an error.
func (dec *Decoder) ExpectSP() bool { return dec.Expect(dec.SP(), "SP") }

// CRLF consumes the CRLF that ends a command or response, and resets the
// line-length count for the next one.
func (dec *Decoder) CRLF() bool {
	if !dec.ready() {
		return false
	}
	b, err := dec.r.Peek(2)
	if len(b) < 2 || b[0] != '\r' || b[1] != '\n' {
		if err != nil && len(b) < 2 && (len(b) == 0 || b[0] == '\r') {
			dec.ioErr(err)
		}
		return false
	}
	dec.r.Discard(2)
	dec.n = 0
	dec.depth = 0
	dec.crlf = true
	dec.tail = dec.tail[:0]
	return true
}

// ExpectCRLF consumes the CRLF that ends a command or records an error.
func (dec *Decoder) ExpectCRLF() bool { return dec.Expect(dec.CRLF(), "CRLF") }

// Special consumes the byte b, a delimiter such as '(' or '['.
func (dec *Decoder) Special(b byte) bool { return dec.accept(b) }

// ExpectSpecial consumes the byte b or records an error.
func (dec *Decoder) ExpectSpecial(b byte) bool {
	return dec.Expect(dec.accept(b), strconv.QuoteRune(rune(b)))
}

// Peek reports whether the next byte is b, without consuming it.
func (dec *Decoder) Peek(b byte) bool {
	got, ok := dec.peek()
	return ok && got == b
}

// Atom decodes an atom (RFC 9051 §9: 1*ATOM-CHAR).
func (dec *Decoder) Atom(ptr *string) bool { return dec.token(ptr, &atomChars) }

// ExpectAtom decodes an atom or records an error.
func (dec *Decoder) ExpectAtom(ptr *string) bool { return dec.Expect(dec.Atom(ptr), "atom") }

// Tag decodes a command tag: 1*<any ASTRING-CHAR except "+">.
func (dec *Decoder) Tag(ptr *string) bool { return dec.token(ptr, &tagChars) }

// ExpectTag decodes a tag or records an error.
func (dec *Decoder) ExpectTag(ptr *string) bool { return dec.Expect(dec.Tag(ptr), "tag") }

// token decodes one or more bytes of class into *ptr.
func (dec *Decoder) token(ptr *string, class *charClass) bool {
	b := dec.readWhile(class)
	if len(b) == 0 {
		return false
	}
	*ptr = string(b)
	return true
}

// Keyword consumes the atom kw, compared without regard to case, only when
// a whole atom matches: "NIL" does not match the start of "NILS".
func (dec *Decoder) Keyword(kw string) bool {
	if !dec.ready() {
		return false
	}
	// Compare byte by byte: peeking len(kw)+1 bytes at once would block
	// on a complete line shorter than that ("a SEARCH ALL" peeked for
	// "RETURN"), waiting for bytes the client never sends. A mismatch
	// stops the peeking; a full match is followed at least by CRLF.
	for i := 1; i <= len(kw); i++ {
		b, err := dec.r.Peek(i)
		if len(b) < i {
			if err != nil && i == 1 {
				dec.ioErr(err)
			}
			return false
		}
		if !strings.EqualFold(string(b[i-1:i]), kw[i-1:i]) {
			return false
		}
	}
	if b, _ := dec.r.Peek(len(kw) + 1); len(b) > len(kw) && atomChars[b[len(kw)]] {
		return false
	}
	if !dec.count(len(kw)) {
		return false
	}
	b, _ := dec.r.Peek(len(kw))
	dec.noteBytes(b)
	dec.r.Discard(len(kw))
	dec.crlf = false
	return true
}

// ExpectKeyword consumes the atom kw or records an error.
func (dec *Decoder) ExpectKeyword(kw string) bool { return dec.Expect(dec.Keyword(kw), kw) }

// NIL consumes the atom NIL.
func (dec *Decoder) NIL() bool { return dec.Keyword("NIL") }

// Number decodes a number (RFC 9051 §9: 1*DIGIT, unsigned 32-bit).
func (dec *Decoder) Number(ptr *uint32) bool {
	v, ok := dec.digits(1<<32-1, false)
	if ok {
		*ptr = uint32(v)
	}
	return ok
}

// ExpectNumber decodes a number or records an error.
func (dec *Decoder) ExpectNumber(ptr *uint32) bool { return dec.Expect(dec.Number(ptr), "number") }

// NzNumber decodes an nz-number: a non-zero number without leading zeros.
func (dec *Decoder) NzNumber(ptr *uint32) bool {
	v, ok := dec.digits(1<<32-1, true)
	if ok {
		*ptr = uint32(v)
	}
	return ok
}

// ExpectNzNumber decodes an nz-number or records an error.
func (dec *Decoder) ExpectNzNumber(ptr *uint32) bool {
	return dec.Expect(dec.NzNumber(ptr), "non-zero number")
}

// Number64 decodes a number64 (RFC 9051 §9: 63-bit unsigned).
func (dec *Decoder) Number64(ptr *int64) bool {
	v, ok := dec.digits(1<<63-1, false)
	if ok {
		*ptr = int64(v)
	}
	return ok
}

// ExpectNumber64 decodes a number64 or records an error.
func (dec *Decoder) ExpectNumber64(ptr *int64) bool {
	return dec.Expect(dec.Number64(ptr), "number")
}

// ExpectModSeq decodes a mod-sequence-valzer (RFC 7162 §7: "0" or a
// mod-sequence-value, at most 2^63-1), the argument of UNCHANGEDSINCE and
// of the MODSEQ search key. A larger value is a syntax error.
func (dec *Decoder) ExpectModSeq(ptr *uint64) bool {
	v, ok := dec.digits(1<<63-1, false)
	if ok {
		*ptr = v
	}
	return dec.Expect(ok, "mod-sequence value")
}

// ExpectNzModSeq decodes a mod-sequence-value (RFC 7162 §7: a positive
// 63-bit number, 1 <= n <= 2^63-1), the argument of CHANGEDSINCE. Zero and
// larger values are syntax errors.
func (dec *Decoder) ExpectNzModSeq(ptr *uint64) bool {
	var v uint64
	if !dec.ExpectModSeq(&v) {
		return false
	}
	if v == 0 {
		return dec.setErr(syntaxErrorf("mod-sequence value must not be zero"))
	}
	*ptr = v
	return true
}

// digits decodes a run of digits no greater than max. A value that does
// not fit is a syntax error, not a mismatch.
func (dec *Decoder) digits(max uint64, nonZero bool) (uint64, bool) {
	b := dec.readWhile(&digitChars)
	if len(b) == 0 {
		return 0, false
	}
	if nonZero && b[0] == '0' {
		return 0, dec.setErr(syntaxErrorf("expected non-zero number, got %q", b))
	}
	var v uint64
	for _, c := range b {
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, dec.setErr(syntaxErrorf("number %q out of range", b))
		}
		v = v*10 + d
	}
	return v, true
}

// Text decodes the rest of the line up to, not including, CRLF: TEXT-CHAR
// of resp-text, or a line of an AUTHENTICATE exchange.
func (dec *Decoder) Text(ptr *string) bool { return dec.token(ptr, &textChars) }

// ExpectText decodes non-empty text or records an error.
func (dec *Decoder) ExpectText(ptr *string) bool { return dec.Expect(dec.Text(ptr), "text") }

// DefaultMaxDiscard is the largest non-synchronising literal
// DiscardLine skips when Options.MaxDiscard is zero.
const DefaultMaxDiscard = 1 << 20

// DiscardLine prepares the decoder for the next command after a non-fatal
// error (see IsFatal), keeping the command stream in step: the octets of
// a literal are never read as commands (RFC 9051 §4.3, §7.5).
//
// It skips any unread literal data the caller accepted, then the rest of
// the command, without buffering it: the rest of the line and, when that
// line ends with the header of a non-synchronising literal ("{n+}" or
// "~{n+}", which the client sends without waiting), the literal's data
// and the line after it, and so on. A line ending with a synchronising
// literal's header ends the command: the client waits for a continuation
// request that does not come. Then it clears the recorded error and the
// counters.
//
// A non-synchronising literal larger than Options.MaxDiscard is not read:
// DiscardLine returns a *DiscardLimitError and the caller closes the
// connection. If the error happened just after a line ended (a refused
// synchronising literal), nothing is skipped. A read error is returned and
// stays recorded.
func (dec *Decoder) DiscardLine() error {
	if dec.err != nil && !isProtocolError(dec.err) {
		return dec.err
	}
	if dec.pending && dec.litInfo.NonSync {
		// The client sent the data without waiting: skip it.
		dec.litLeft = dec.litInfo.Size
	}
	dec.pending = false
	err := dec.discardCommand()
	if dec.litLeft > dec.maxDiscard() {
		err = &DiscardLimitError{Size: dec.litLeft, Limit: dec.maxDiscard()}
	}
	dec.err, dec.n, dec.depth = err, 0, 0
	return err
}

// discardCommand skips literal data and lines up to the end of the
// command, as DiscardLine describes.
func (dec *Decoder) discardCommand() error {
	tail := dec.tail // the end of the line being skipped
	defer func() { dec.tail = tail[:0] }()
	for {
		if dec.litLeft > dec.maxDiscard() {
			return nil // DiscardLine reports it
		}
		if dec.litLeft > 0 {
			_, err := io.CopyN(io.Discard, dec.r, dec.litLeft)
			dec.litLeft, dec.crlf = 0, false
			if err != nil {
				return err
			}
		}
		if dec.crlf {
			return nil
		}
		chunk, err := dec.r.ReadSlice('\n')
		tail = append(tail, chunk...)
		if len(tail) > maxLiteralHeader {
			tail = append(tail[:0], tail[len(tail)-maxLiteralHeader:]...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return err
		}
		info, ok := LiteralAtLineEnd(tail)
		tail = tail[:0]
		if ok && info.NonSync {
			dec.litLeft = info.Size
			continue
		}
		dec.crlf = true
	}
}

// maxDiscard is Options.MaxDiscard or its default.
func (dec *Decoder) maxDiscard() int64 {
	if dec.opts.MaxDiscard > 0 {
		return dec.opts.MaxDiscard
	}
	return DefaultMaxDiscard
}

// maxLiteralHeader bounds the text LiteralAtLineEnd looks at: "~{" and a
// number64 of 19 digits, "+}" and CRLF.
const maxLiteralHeader = 32

// LiteralAtLineEnd reports whether line, with or without its CRLF (or
// bare LF), ends with a literal header: "{" number64 ["+"] "}", or the
// literal8 form with "~". DiscardLine uses it, and so does a trace that
// watches the raw input for the literals that carry credentials.
func LiteralAtLineEnd(line []byte) (LiteralInfo, bool) {
	var info LiteralInfo
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	body, ok := bytes.CutSuffix(line, []byte("}"))
	if !ok {
		return info, false
	}
	if body, info.NonSync = bytes.CutSuffix(body, []byte("+")); true {
		i := bytes.LastIndexByte(body, '{')
		if i < 0 || i == len(body)-1 {
			return info, false
		}
		for _, c := range body[i+1:] {
			if c < '0' || c > '9' {
				return info, false
			}
		}
		n, err := strconv.ParseInt(string(body[i+1:]), 10, 64)
		if err != nil {
			return info, false
		}
		info.Size, info.Binary = n, i > 0 && body[i-1] == '~'
	}
	return info, true
}

// isProtocolError reports whether err is one of the decoder's own errors
// rather than a failure of the underlying reader.
func isProtocolError(err error) bool {
	var (
		de *DiscardLimitError
		se *SyntaxError
		ne *MailboxNameError
		lt *LineTooLongError
		tb *LiteralTooBigError
		lr *LiteralRefusedError
	)
	return errors.As(err, &se) || errors.As(err, &ne) || errors.As(err, &de) || errors.As(err, &lt) || errors.As(err, &tb) ||
		errors.As(err, &lr) || err == ErrLiteralPending
}
