package imapwire

import (
	"bytes"
	"io"
)

// Quoted decodes a quoted string (RFC 9051 §4.3). The only escapes are \"
// and \\. Bytes above 0x7F are accepted as they are: IMAP4rev2 allows UTF-8
// there, and SEARCH strings in another CHARSET arrive as raw bytes.
func (dec *Decoder) Quoted(ptr *string) bool {
	if !dec.accept('"') {
		return false
	}
	out := dec.buf[:0]
	for {
		b, err := dec.r.ReadByte()
		if err != nil {
			return dec.ioErr(err)
		}
		switch b {
		case '"':
			dec.buf = out
			*ptr = string(out)
			dec.noteByte(b)
			return dec.count(1)
		case '\\':
			dec.noteByte(b)
			if b, err = dec.r.ReadByte(); err != nil {
				return dec.ioErr(err)
			}
			if b != '"' && b != '\\' {
				dec.r.UnreadByte()
				return dec.setErr(syntaxErrorf("invalid escape in quoted string"))
			}
			if !dec.count(1) {
				return false
			}
		case '\r', '\n', 0:
			// Leave CR and LF for DiscardLine to find the end of the line.
			dec.r.UnreadByte()
			return dec.setErr(syntaxErrorf("invalid character %q in quoted string", b))
		}
		dec.noteByte(b)
		if !dec.count(1) {
			return false
		}
		out = append(out, b)
	}
}

// LiteralHeader decodes the header of a literal, "{n}" or "{n+}" and its
// CRLF, and stores it in *info. The data is not read: the caller must next
// either call LiteralReader or give up on the command, after which
// DiscardLine skips the data of a non-synchronising literal. For a
// synchronising literal the caller sends the continuation request before
// reading.
//
// A {n+} fails with a *LiteralTooBigError over 4096 bytes under
// NonSyncMinus, and with a *SyntaxError under NonSyncNone.
func (dec *Decoder) LiteralHeader(info *LiteralInfo) bool {
	if !dec.Peek('{') {
		return false
	}
	return dec.literalHeader(info, false)
}

// ExpectLiteralHeader decodes a literal header or records an error.
func (dec *Decoder) ExpectLiteralHeader(info *LiteralInfo) bool {
	return dec.Expect(dec.LiteralHeader(info), "literal")
}

// Literal8Header decodes the header of a literal8, "~{n}" (RFC 3516 §4.1,
// also accepted as "~{n+}" under LITERAL+), as LiteralHeader does.
func (dec *Decoder) Literal8Header(info *LiteralInfo) bool {
	if !dec.Peek('~') {
		return false
	}
	return dec.literalHeader(info, true)
}

// literalHeader decodes "{" number64 ["+"] "}" CRLF after an optional "~".
func (dec *Decoder) literalHeader(info *LiteralInfo, binary bool) bool {
	if binary && !dec.accept('~') {
		return false
	}
	var size int64
	if !dec.ExpectSpecial('{') || !dec.Expect(dec.Number64(&size), "literal size") {
		return false
	}
	nonSync := dec.accept('+')
	if !dec.ExpectSpecial('}') || !dec.literalCRLF() {
		return false
	}
	*info = LiteralInfo{Size: size, NonSync: nonSync, Binary: binary}
	dec.pending, dec.litInfo = true, *info
	switch {
	case nonSync && dec.opts.NonSync == NonSyncNone:
		return dec.setErr(syntaxErrorf("non-synchronizing literals are not supported"))
	case nonSync && dec.opts.NonSync == NonSyncMinus && size > maxLiteralMinus:
		// RFC 7888 §4: LITERAL- allows {n+} only up to 4096 bytes.
		return dec.setErr(&LiteralTooBigError{Size: size, Limit: maxLiteralMinus, NonSync: true})
	}
	return true
}

// literalCRLF consumes the CRLF of a literal header, which ends a
// line but not the command: the line-length count goes on.
func (dec *Decoder) literalCRLF() bool {
	if !dec.ready() {
		return false
	}
	b, err := dec.r.Peek(2)
	if len(b) < 2 || b[0] != '\r' || b[1] != '\n' {
		if err != nil && (len(b) == 0 || len(b) == 1 && b[0] == '\r') {
			return dec.ioErr(err)
		}
		return dec.setErr(syntaxErrorf("expected CRLF after literal header"))
	}
	if !dec.count(2) {
		return false
	}
	dec.r.Discard(2)
	dec.crlf = true
	dec.tail = dec.tail[:0]
	return true
}

// LiteralReader returns the data of the literal whose header was just
// decoded, as a reader of exactly info.Size bytes. The decoder refuses every
// other call (ErrLiteralPending) until the reader is drained, so the
// caller reads it to EOF, even after deciding to drop the data.
func (dec *Decoder) LiteralReader(info LiteralInfo) io.Reader {
	if dec.err != nil || !dec.pending || dec.litInfo != info {
		dec.setErr(ErrLiteralPending)
		return errReader{dec}
	}
	dec.pending = false
	dec.litLeft = info.Size
	if info.Size > 0 {
		dec.crlf = false
	}
	return &literalReader{dec: dec}
}

// literalReader reads the data of an accepted literal.
type literalReader struct{ dec *Decoder }

func (lr *literalReader) Read(p []byte) (int, error) {
	dec := lr.dec
	if dec.litLeft == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > dec.litLeft {
		p = p[:dec.litLeft]
	}
	n, err := dec.r.Read(p)
	dec.litLeft -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		dec.litLeft = 0
		dec.setErr(err)
	}
	return n, err
}

// errReader returns the decoder's error.
type errReader struct{ dec *Decoder }

func (r errReader) Read([]byte) (int, error) { return 0, r.dec.err }

// literalString reads a literal into a string, for the string grammar
// elements. The declared size must fit the rest of the line budget, so the
// allocation is bounded by Options.MaxLineLength; then Options.OnLiteral
// must consent.
func (dec *Decoder) literalString(ptr *string) bool {
	var info LiteralInfo
	if !dec.literalHeader(&info, false) {
		return false
	}
	if room := int64(dec.opts.MaxLineLength - dec.n); info.Size > room {
		return dec.setErr(&LiteralTooBigError{Size: info.Size, Limit: room, NonSync: info.NonSync})
	}
	if dec.opts.OnLiteral != nil {
		if err := dec.opts.OnLiteral(info); err != nil {
			return dec.setErr(&LiteralRefusedError{Info: info, Err: err})
		}
	}
	dec.pending = false
	data := make([]byte, info.Size)
	if _, err := io.ReadFull(dec.r, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dec.setErr(err)
	}
	dec.count(len(data))
	if len(data) > 0 {
		dec.crlf = false
	}
	if bytes.IndexByte(data, 0) >= 0 {
		// RFC 9051 §4.3: CHAR8 excludes NUL.
		return dec.setErr(syntaxErrorf("NUL in literal"))
	}
	*ptr = string(data)
	return true
}

// String decodes a string: quoted or literal.
func (dec *Decoder) String(ptr *string) bool {
	c, ok := dec.peek()
	switch {
	case !ok:
		return false
	case c == '"':
		return dec.Quoted(ptr)
	case c == '{':
		return dec.literalString(ptr)
	}
	return false
}

// ExpectString decodes a string or records an error.
func (dec *Decoder) ExpectString(ptr *string) bool {
	return dec.Expect(dec.String(ptr), "string")
}

// AString decodes an astring: 1*ASTRING-CHAR or a string.
func (dec *Decoder) AString(ptr *string) bool {
	if dec.String(ptr) {
		return true
	}
	return dec.token(ptr, &astringChars)
}

// ExpectAString decodes an astring or records an error.
func (dec *Decoder) ExpectAString(ptr *string) bool {
	return dec.Expect(dec.AString(ptr), "astring")
}

// ExpectNString decodes an nstring: NIL, stored as a nil *ptr, or a string.
func (dec *Decoder) ExpectNString(ptr **string) bool {
	if dec.NIL() {
		*ptr = nil
		return true
	}
	var s string
	if !dec.ExpectString(&s) {
		return false
	}
	*ptr = &s
	return true
}

// List decodes a parenthesised list whose elements item decodes, the
// elements separated by single spaces. It returns false, recording
// nothing, when the next byte is not "("; an empty list "()" calls item
// zero times. item returns false to stop after recording an error.
func (dec *Decoder) List(item func() bool) bool {
	if !dec.Special('(') {
		return false
	}
	if dec.depth++; dec.depth > MaxNesting {
		return dec.setErr(syntaxErrorf("lists nested too deeply"))
	}
	defer func() { dec.depth-- }()
	if dec.Special(')') {
		return true
	}
	for {
		if !item() {
			return dec.Expect(false, "list element")
		}
		if !dec.SP() {
			break
		}
	}
	return dec.ExpectSpecial(')')
}

// ExpectList decodes a parenthesised list or records an error.
func (dec *Decoder) ExpectList(item func() bool) bool {
	return dec.Expect(dec.List(item), "(")
}
