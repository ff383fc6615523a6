package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// ErrHeaderTooLarge is returned by ReadHeader when a header block exceeds the
// caller's limit.
var ErrHeaderTooLarge = errors.New("message: header too large")

// A Field is one header field exactly as it appears in the message.
type Field struct {
	// Name is the field name as written (case preserved, no colon). It is
	// empty for a malformed line that has no field name and colon; such lines
	// are kept so that the header can be reproduced byte for byte.
	Name string
	// Raw is the whole field: name, colon, value, every continuation line and
	// the final line terminator (absent only when the header ends at EOF).
	Raw []byte
}

// RawValue returns the bytes after the colon, including folding and the
// final line terminator. For a malformed line it returns the whole line.
func (f Field) RawValue() []byte {
	if f.Name == "" {
		return f.Raw
	}
	return f.Raw[bytes.IndexByte(f.Raw, ':')+1:]
}

// Value returns the unfolded value (RFC 5322 §2.2.3: line breaks before
// white space removed) with leading and trailing white space trimmed. It does
// not decode RFC 2047 encoded words: see DecodeHeaderText.
func (f Field) Value() string {
	return unfold(f.RawValue())
}

// A Header is the ordered list of fields of one header block. The blank line
// that ends the block is not a field.
type Header []Field

// Get returns the value (see Field.Value) of the first field named name,
// compared case-insensitively, or "" if there is none.
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value()
		}
	}
	return ""
}

// Has reports whether a field named name is present.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns the values of all fields named name, in message order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value())
		}
	}
	return vs
}

// SelectFields returns the bytes IMAP sends for BODY[HEADER.FIELDS (names)]
// (RFC 9051 §6.4.5): the original lines of every field whose name is in
// names, in message order, followed by the blank line that ends a header.
// The blank line is sent even when no field matches.
func (h Header) SelectFields(names []string) []byte {
	return h.filter(names, true)
}

// ExcludeFields returns the bytes IMAP sends for BODY[HEADER.FIELDS.NOT
// (names)]: every field whose name is not in names, malformed lines
// included, followed by the blank line.
func (h Header) ExcludeFields(names []string) []byte {
	return h.filter(names, false)
}

func (h Header) filter(names []string, keep bool) []byte {
	var b []byte
	for _, f := range h {
		if nameIn(f.Name, names) != keep {
			continue
		}
		b = append(b, f.Raw...)
		if !bytes.HasSuffix(f.Raw, []byte("\n")) {
			// The header ended at EOF without a line terminator: the
			// blank line appended below must still be a line of its own.
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

func nameIn(name string, names []string) bool {
	if name == "" {
		return false
	}
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// ReadHeader reads a header block from r up to and including the blank line
// that ends it (or EOF) and splits it into fields. If the block exceeds limit
// bytes (limit <= 0 means 1 MiB), it returns the fields read so far and an
// error wrapping ErrHeaderTooLarge.
//
// Unless r is a *bufio.Reader, ReadHeader may read beyond the end of the
// header block; callers pass a reader of the header range [HeaderStart,
// BodyStart) of a Part, where that does not matter.
func ReadHeader(r io.Reader, limit int) (Header, error) {
	if limit <= 0 {
		limit = maxHeaderBytes
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	var block []byte
	lineStart := true
	for {
		b, err := br.ReadSlice('\n')
		if lineStart && isBlankLine(b) {
			break
		}
		if len(block)+len(b) > limit {
			return splitFields(block), fmt.Errorf("read header: %w (limit %d bytes)", ErrHeaderTooLarge, limit)
		}
		block = append(block, b...)
		lineStart = len(b) > 0 && b[len(b)-1] == '\n'
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return splitFields(block), fmt.Errorf("read header: %w", err)
		}
	}
	return splitFields(block), nil
}

// isBlankLine reports whether b is an empty line: CRLF or a bare LF.
func isBlankLine(b []byte) bool {
	return len(b) == 1 && b[0] == '\n' || len(b) == 2 && b[0] == '\r' && b[1] == '\n'
}

// splitFields splits a header block (without its blank line) into fields.
// A line starting with white space continues the previous field; one at the
// very start of the block has no field to continue and becomes a malformed
// (nameless) entry. The Raw slices alias block.
func splitFields(block []byte) Header {
	var h Header
	for len(block) > 0 {
		end := fieldEnd(block)
		raw := block[:end:end]
		block = block[end:]
		h = append(h, Field{Name: fieldName(raw), Raw: raw})
	}
	return h
}

// fieldEnd returns the length of the field at the start of b: its first line
// and every following line that starts with white space.
func fieldEnd(b []byte) int {
	i := 0
	for {
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return len(b)
		}
		i += nl + 1
		if i == len(b) || !isWSP(b[i]) {
			return i
		}
	}
}

// fieldName returns the name of the field line b, or "" if b does not start
// with a field name followed by a colon (RFC 5322 §3.6.8 ftext, with the
// obsolete white space before the colon of §4.5 allowed).
func fieldName(b []byte) string {
	n := fieldNameLen(b)
	if n == 0 {
		return ""
	}
	return string(b[:n])
}

// fieldNameLen returns the length of the field name at the start of b if it
// is followed by optional white space and a colon, and 0 otherwise.
func fieldNameLen(b []byte) int {
	n := 0
	for n < len(b) && b[n] > ' ' && b[n] < 0x7f && b[n] != ':' {
		n++
	}
	if n == 0 {
		return 0
	}
	i := n
	for i < len(b) && isWSP(b[i]) {
		i++
	}
	if i == len(b) || b[i] != ':' {
		return 0
	}
	return n
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// unfold removes line terminators from a raw field value and trims white
// space at both ends. Bare CRs that are not part of CRLF are kept.
func unfold(b []byte) string {
	if bytes.IndexByte(b, '\n') < 0 {
		return string(bytes.Trim(b, " \t\r"))
	}
	return string(AppendUnfolded(make([]byte, 0, len(b)), b))
}

// AppendUnfolded appends to dst the unfolded value of a raw field value,
// the same bytes Field.Value returns for it, without allocating when dst
// has room (SEARCH reuses one buffer for every field).
func AppendUnfolded(dst, raw []byte) []byte {
	start := len(dst)
	for len(raw) > 0 {
		nl := bytes.IndexByte(raw, '\n')
		if nl < 0 {
			dst = append(dst, raw...)
			break
		}
		line := raw[:nl]
		if nl > 0 && line[nl-1] == '\r' {
			line = line[:nl-1]
		}
		dst = append(dst, line...)
		raw = raw[nl+1:]
	}
	n := copy(dst[start:], bytes.Trim(dst[start:], " \t\r"))
	return dst[:start+n]
}

// DecodeHeaderText decodes the RFC 2047 encoded words in an unstructured
// header value (such as Subject) to UTF-8, using go-message's charset
// tables. If the value cannot be decoded (unknown charset, malformed word),
// it is returned undecoded. Bytes that are not valid UTF-8 (raw 8-bit
// headers in a legacy charset) are replaced by U+FFFD so the result is
// always valid UTF-8.
func DecodeHeaderText(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = unfold([]byte(s))
	}
	if strings.Contains(s, "=?") {
		dec := mime.WordDecoder{CharsetReader: charsetReader}
		if d, err := dec.DecodeHeader(s); err == nil {
			s = d
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// charsetReader converts from a named charset to UTF-8 with go-message's
// charset tables.
func charsetReader(name string, r io.Reader) (io.Reader, error) {
	return charset.Reader(strings.ToLower(name), r)
}
