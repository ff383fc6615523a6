package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits that bound Parse's memory, whatever the input.
const (
	// maxHeaderBytes is how much of one header block is kept for parsing.
	// The rest of a longer block is still scanned (offsets stay exact) but
	// its fields are ignored.
	maxHeaderBytes = 1 << 20
	// maxDepth is the deepest nesting of parts; a multipart or message at
	// this depth is not descended into. Dovecot's default is also 100.
	maxDepth = 100
	// maxParts caps the number of parts in a message (Dovecot: 10000).
	// Once reached, further parts are left inside their parent's body.
	maxParts = 10000
	// maxBoundaryLen bounds the boundary parameter. RFC 2046 §5.1.1 allows
	// 70 characters; longer ones occur and are accepted up to this limit.
	maxBoundaryLen = 200
	// readBufSize is the line buffer; a boundary line must fit in it.
	readBufSize = 16 << 10
)

// ErrMalformed is returned (wrapped, with the reason) by Parse when the
// input is not a message at all. Broken MIME structure is never an error.
var ErrMalformed = errors.New("message: not a message")

// Parse reads a CRLF-normalised message (see NewCRLFReader) to EOF in one
// pass and returns its structure.
//
// It fails with ErrMalformed only if the input is empty or its first line is
// neither a header field nor the blank line of an empty header. Everything
// else degrades the way mail servers degrade it: a bad Content-Type is
// text/plain, a multipart without a usable boundary is text/plain, a missing
// close delimiter ends the multipart at its parent's end, an embedded message
// with a non-identity encoding is opaque. Bare LF line ends are tolerated
// (offsets then refer to the input as given).
//
// Memory is bounded by the limits above and does not depend on the size of
// bodies: bodies are scanned line by line and never kept.
func Parse(r io.Reader) (*Part, error) {
	ps := &parser{br: bufio.NewReaderSize(r, readBufSize), atLineStart: true}
	first, err := ps.br.Peek(readBufSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	if len(first) == 0 {
		return nil, fmt.Errorf("parse message: %w: empty input", ErrMalformed)
	}
	if !isBlankLine(firstLine(first)) && fieldNameLen(first) == 0 {
		return nil, fmt.Errorf("parse message: %w: first line is not a header field", ErrMalformed)
	}
	root := &Part{}
	ps.nparts = 1
	if _, err := ps.parseEntity(root, 0, entityOpts{message: true}); err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	return root, nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

// parser is the state of one Parse call: a line scanner that tracks byte
// offsets and LF counts, and the stack of active boundaries.
type parser struct {
	br          *bufio.Reader
	off         int64 // offset of the next byte to read
	lfs         int64 // LF bytes in [0, off)
	atLineStart bool  // off is at the start of a line
	lastEOL     int   // length of the terminator of the line ending at off
	prevCR      bool  // the last byte read was CR (for a CRLF split by the buffer)
	err         error // sticky read error

	// bounds are the boundaries of the enclosing multiparts that have not
	// seen their close delimiter, outermost first.
	bounds []string
	nparts int
	hdr    []byte // header block being read, reused
}

// fragment is a line, or a piece of a line longer than the buffer. b is
// valid until the next read.
type fragment struct {
	b         []byte
	start     int64
	lineStart bool  // b starts a line
	complete  bool  // b ends its line (terminator or EOF)
	prevEOL   int   // terminator length of the line before, when lineStart
	lfsBefore int64 // LF count before b
}

// next returns the next fragment, or io.EOF.
func (ps *parser) next() (fragment, error) {
	if ps.err != nil {
		return fragment{}, ps.err
	}
	b, err := ps.br.ReadSlice('\n')
	if err != nil && err != bufio.ErrBufferFull {
		ps.err = err
		if len(b) == 0 {
			return fragment{}, err
		}
	}
	f := fragment{b: b, start: ps.off, lineStart: ps.atLineStart, prevEOL: ps.lastEOL, lfsBefore: ps.lfs}
	ps.off += int64(len(b))
	if b[len(b)-1] == '\n' {
		f.complete = true
		ps.lfs++
		ps.atLineStart = true
		ps.lastEOL = 1
		if len(b) >= 2 && b[len(b)-2] == '\r' || len(b) == 1 && ps.prevCR {
			ps.lastEOL = 2
		}
	} else {
		f.complete = ps.err == io.EOF
		ps.atLineStart = false
	}
	ps.prevCR = b[len(b)-1] == '\r'
	return f, nil
}

// stop says where and why a body ended: at a boundary delimiter line of an
// enclosing multipart, or at EOF.
type stop struct {
	level int   // index in parser.bounds of the boundary, or -1 for EOF
	close bool  // the delimiter is a close delimiter ("--b--")
	at    int64 // end of the body: before the CRLF preceding the delimiter
	lfs   int64 // LF count in [0, at)
}

func (ps *parser) eofStop() stop {
	return stop{level: -1, at: ps.off, lfs: ps.lfs}
}

// boundaryStop is the stop for delimiter line f. RFC 2046 §5.1.1: the CRLF
// preceding the delimiter is conceptually attached to it.
func boundaryStop(f fragment, level int, close bool) stop {
	s := stop{level: level, close: close, at: f.start, lfs: f.lfsBefore}
	if f.prevEOL > 0 {
		s.at -= int64(f.prevEOL)
		s.lfs--
	}
	return s
}

// endPart sets p's End and BodyLines from the stop that ended its body. lfs
// is the LF count at BodyStart.
func endPart(p *Part, s stop, lfs int64) {
	if s.at <= p.BodyStart {
		p.End, p.BodyLines = p.BodyStart, 0
		return
	}
	p.End, p.BodyLines = s.at, s.lfs-lfs
}

// delimiter reports whether the complete line b is a delimiter line of an
// active boundary (RFC 2046 §5.1.1: "--" boundary, optionally "--", then
// optional linear white space). The innermost boundary is tried first, so
// nested multiparts that reuse a boundary still parse. Unlike Dovecot, a
// line that merely starts with "--boundary" followed by other characters is
// not a delimiter, as the RFC says.
func (ps *parser) delimiter(b []byte) (level int, close, ok bool) {
	if len(ps.bounds) == 0 || len(b) < 3 || b[0] != '-' || b[1] != '-' {
		return 0, false, false
	}
	core := bytes.TrimRight(b[2:], " \t\r\n")
	for i := len(ps.bounds) - 1; i >= 0; i-- {
		bd := ps.bounds[i]
		if len(core) < len(bd) || string(core[:len(bd)]) != bd {
			continue
		}
		switch rest := core[len(bd):]; {
		case len(rest) == 0:
			return i, false, true
		case len(rest) == 2 && rest[0] == '-' && rest[1] == '-':
			return i, true, true
		}
	}
	return 0, false, false
}

// entityOpts says how to read an entity.
type entityOpts struct {
	message bool // the entity is a message: build its Envelope
	digest  bool // the parent is multipart/digest: default message/rfc822
}

// bodyKind says how a body is scanned.
type bodyKind int

const (
	leafBody      bodyKind = iota // opaque: scanned for delimiters only
	multipartBody                 // split at its boundary into Parts
	messageBody                   // one embedded message
)

// parseEntity reads an entity's header and body, starting at the current
// offset, and returns the stop that ended it.
func (ps *parser) parseEntity(p *Part, depth int, o entityOpts) (stop, error) {
	p.HeaderStart = ps.off
	s, ended, err := ps.readHeader()
	if err != nil {
		return stop{}, err
	}
	h := splitFields(ps.hdr)
	applyHeader(p, h, o.digest)
	if o.message {
		p.Envelope = newEnvelope(h)
	}
	kind := ps.bodyKind(p, depth)
	if ended {
		// The header ran into EOF or a delimiter line: the body is empty.
		// The CRLF before a delimiter belongs to it, so the header stops
		// before that CRLF, and the part ends where its header does.
		p.BodyStart = max(p.HeaderStart, s.at)
		p.End = p.BodyStart
		ps.addEmptyChild(p, kind)
		return s, nil
	}
	p.BodyStart = ps.off
	lfs := ps.lfs
	switch kind {
	case multipartBody:
		return ps.parseMultipart(p, depth, lfs)
	case messageBody:
		return ps.parseEmbedded(p, depth, lfs)
	}
	s, err = ps.skipBody()
	endPart(p, s, lfs)
	return s, err
}

// bodyKind decides how to read p's body, degrading structures that cannot
// or may not be parsed.
func (ps *parser) bodyKind(p *Part, depth int) bodyKind {
	switch {
	case p.Type == "multipart":
		b := boundaryOf(p)
		if b == "" || len(b) > maxBoundaryLen {
			// RFC 2046 §5.1.1 requires the boundary parameter: without
			// it the body cannot be split. Show it as text, like Dovecot.
			p.Type, p.Subtype, p.Params = "text", "plain", nil
			return leafBody
		}
		if depth >= maxDepth || ps.nparts >= maxParts {
			p.Type, p.Subtype, p.Params = "application", "octet-stream", nil
			return leafBody
		}
		return multipartBody
	case isMessageType(p):
		// An encoded message/rfc822 (forbidden by RFC 2046 §5.2.1, but
		// sent) cannot be parsed without decoding: keep it opaque.
		if depth >= maxDepth || ps.nparts >= maxParts || !isIdentityEncoding(p.Encoding) {
			return leafBody
		}
		return messageBody
	}
	return leafBody
}

// boundaryOf returns p's boundary parameter. Trailing spaces are dropped:
// RFC 2046 §5.1.1 does not allow them, and delimiter lines are matched with
// trailing white space removed.
func boundaryOf(p *Part) string {
	return strings.TrimRight(p.Param("boundary"), " \t")
}

func isMessageType(p *Part) bool {
	return p.Type == "message" && (p.Subtype == "rfc822" || p.Subtype == "global")
}

func isIdentityEncoding(enc string) bool {
	return enc == "7BIT" || enc == "8BIT" || enc == "BINARY"
}

// addEmptyChild gives an empty multipart or message part the child it must
// have, at its end.
func (ps *parser) addEmptyChild(p *Part, kind bodyKind) {
	if kind == leafBody {
		return
	}
	ps.nparts++
	c := &Part{HeaderStart: p.End, BodyStart: p.End, End: p.End, Type: "text", Subtype: "plain", Encoding: "7BIT"}
	if kind == messageBody {
		c.HeaderStart = p.BodyStart
		c.Envelope = &Envelope{}
	}
	p.Parts = append(p.Parts, c)
}

// readHeader reads a header block into ps.hdr, up to maxHeaderBytes. It
// consumes the blank line that ends it. ended reports that the header ran
// into EOF or a delimiter line instead, with s saying which.
func (ps *parser) readHeader() (s stop, ended bool, err error) {
	ps.hdr = ps.hdr[:0]
	full := false
	for {
		f, err := ps.next()
		if err == io.EOF {
			return ps.eofStop(), true, nil
		}
		if err != nil {
			return stop{}, false, err
		}
		if f.lineStart && f.complete {
			if isBlankLine(f.b) {
				return stop{}, false, nil
			}
			if level, close, ok := ps.delimiter(f.b); ok {
				return boundaryStop(f, level, close), true, nil
			}
		}
		if full || len(ps.hdr)+len(f.b) > maxHeaderBytes {
			full = true
			continue
		}
		ps.hdr = append(ps.hdr, f.b...)
	}
}

// skipBody scans a body up to the next delimiter line of an active boundary
// or EOF.
func (ps *parser) skipBody() (stop, error) {
	for {
		f, err := ps.next()
		if err == io.EOF {
			return ps.eofStop(), nil
		}
		if err != nil {
			return stop{}, err
		}
		if f.lineStart && f.complete {
			if level, close, ok := ps.delimiter(f.b); ok {
				return boundaryStop(f, level, close), nil
			}
		}
	}
}

// parseMultipart reads a multipart body (RFC 2046 §5.1.1): preamble, parts,
// close delimiter, epilogue. A missing close delimiter ends it where an
// enclosing boundary or EOF is found.
func (ps *parser) parseMultipart(p *Part, depth int, lfs int64) (stop, error) {
	ps.bounds = append(ps.bounds, boundaryOf(p))
	level := len(ps.bounds) - 1
	defer func() { ps.bounds = ps.bounds[:level] }()
	o := entityOpts{digest: p.Subtype == "digest"}

	s, err := ps.skipBody() // preamble
	for err == nil && s.level == level && !s.close {
		if ps.nparts >= maxParts {
			s, err = ps.skipBody()
			continue
		}
		ps.nparts++
		child := &Part{}
		p.Parts = append(p.Parts, child)
		s, err = ps.parseEntity(child, depth+1, o)
	}
	if err == nil && s.level == level {
		ps.bounds = ps.bounds[:level]
		s, err = ps.skipBody() // epilogue
	}
	if err != nil {
		return stop{}, err
	}
	endContainer(p, s, lfs)
	if len(p.Parts) == 0 {
		// QUIRK: BODYSTRUCTURE needs at least one part; Dovecot shows an
		// empty text/plain one, so the structure holds one.
		ps.addEmptyChild(p, multipartBody)
	}
	return s, nil
}

// parseEmbedded reads the body of a message/rfc822 part as a message.
func (ps *parser) parseEmbedded(p *Part, depth int, lfs int64) (stop, error) {
	ps.nparts++
	child := &Part{}
	p.Parts = []*Part{child}
	s, err := ps.parseEntity(child, depth+1, entityOpts{message: true})
	if err != nil {
		return stop{}, err
	}
	endContainer(p, s, lfs)
	return s, nil
}

// endContainer is endPart for a part with children. In one corner case (an
// enclosing delimiter right after an open delimiter) the CRLF that would be
// excluded lies inside the last child; the container then keeps it, so
// children always lie within their parent.
func endContainer(p *Part, s stop, lfs int64) {
	endPart(p, s, lfs)
	if n := len(p.Parts); n > 0 && p.Parts[n-1].End > p.End {
		p.End = p.Parts[n-1].End
		p.BodyLines++
	}
}

// applyHeader sets p's MIME fields from its header.
func applyHeader(p *Part, h Header, digest bool) {
	p.Type, p.Subtype = "text", "plain"
	if digest {
		p.Type, p.Subtype = "message", "rfc822" // RFC 2046 §5.1.5
	}
	if h.Has("Content-Type") {
		if t, st, params, ok := parseContentType(h.Get("Content-Type")); ok {
			p.Type, p.Subtype, p.Params = t, st, params
		} else {
			p.Type, p.Subtype = "text", "plain" // RFC 2045 §5.2
		}
	}
	l := valueLexer{s: h.Get("Content-Transfer-Encoding")}
	l.skipCFWS()
	p.Encoding = strings.ToUpper(l.token())
	if p.Encoding == "" {
		p.Encoding = "7BIT" // RFC 2045 §6.1
	}
	p.ID = h.Get("Content-ID")
	p.Description = h.Get("Content-Description")
	p.MD5 = h.Get("Content-MD5")
	p.Location = h.Get("Content-Location")
	if v := h.Get("Content-Disposition"); v != "" {
		p.Disposition, p.DispositionParams = parseDisposition(v)
	}
	for _, tag := range strings.Split(h.Get("Content-Language"), ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			p.Language = append(p.Language, tag)
		}
	}
}
