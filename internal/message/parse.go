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
	readBufSize = 64 << 10
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
	message bool   // the entity is a message: build its Envelope
	digest  bool   // the parent is multipart/digest: default message/rfc822
	depth   int    // nesting depth of the entity
	_       [0]int // keep the struct literal form keyed
}

// parseEntity reads an entity's header and body, starting at the current
// offset, and returns the stop that ended it.
func (ps *parser) parseEntity(p *Part, depth int, o entityOpts) (stop, error) {
	p.HeaderStart = ps.off
	s, ended, err := ps.readHeader()
	if err != nil {
		return stop{}, err
	}
	h := splitFields(ps.hdr)
	p.BodyStart = ps.off
	if ended && s.level >= 0 {
		// The header ran into a delimiter line: it keeps its last line
		// terminator and the body is empty.
		p.BodyStart = s.at
		if s.lfs < ps.lfs-1 || s.at < p.HeaderStart {
			p.BodyStart = p.HeaderStart
		}
		p.BodyStart = max(p.BodyStart, p.HeaderStart)
	}
	applyHeader(p, h, o.digest)
	if o.message {
		p.Envelope = newEnvelope(h)
	}
	lfs := ps.lfs
	if ended {
		ps.emptyChildren(p, depth)
		p.End, p.BodyLines = p.BodyStart, 0
		return s, nil
	}
	switch {
	case p.Type == "multipart":
		return ps.parseMultipart(p, depth, lfs)
	case p.Message() == nil && isMessageType(p) && ps.canDescend(p, depth):
		return ps.parseEmbedded(p, depth, lfs)
	}
	s, err = ps.skipBody()
	endPart(p, s, lfs)
	return s, err
}
