package message

import (
	"bytes"
	"io"
)

// crlfBufSize is the size of the input buffer of a CRLF reader.
const crlfBufSize = 32 << 10

// maxEmptyReads is how many consecutive (0, nil) reads from the underlying
// reader are tolerated before reporting io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// NewCRLFReader returns a reader that normalises line endings: a bare LF
// becomes CRLF, a bare CR becomes CRLF, and CRLF is passed through
// unchanged. All other bytes, including NUL and 8-bit bytes, are passed
// through. It streams: memory use is a fixed buffer, whatever the length of
// the input or its lines.
//
// The store writes this normalised form, and every offset in a Part refers to
// it.
func NewCRLFReader(r io.Reader) io.Reader {
	return &crlfReader{r: r, buf: make([]byte, crlfBufSize)}
}

type crlfReader struct {
	r      io.Reader
	buf    []byte
	lo, hi int   // unconsumed input is buf[lo:hi]
	skipLF bool  // the previous input byte was CR, already emitted as CRLF
	carry  bool  // an LF is owed to the caller (p filled after the CR)
	err    error // sticky error from r
}

// Read implements io.Reader.
func (c *crlfReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := 0
	if c.carry {
		p[0] = '\n'
		n = 1
		c.carry = false
	}
	for n < len(p) {
		if c.lo == c.hi {
			if n > 0 {
				return n, nil
			}
			if c.err != nil {
				return 0, c.err
			}
			c.fill()
			continue
		}
		in := c.buf[c.lo:c.hi]
		if c.skipLF && in[0] == '\n' {
			// Second half of a CRLF whose CR was already emitted as CRLF.
			c.skipLF = false
			c.lo++
			continue
		}
		c.skipLF = false
		if i := bytes.IndexAny(in, "\r\n"); i != 0 {
			if i < 0 {
				i = len(in)
			}
			m := copy(p[n:], in[:i])
			n += m
			c.lo += m
			continue
		}
		// in[0] is CR or LF: emit CRLF. A CR swallows a directly following LF.
		c.skipLF = in[0] == '\r'
		c.lo++
		p[n] = '\r'
		n++
		if n < len(p) {
			p[n] = '\n'
			n++
		} else {
			c.carry = true
		}
	}
	return n, nil
}

// fill reads more input into the empty buffer, recording any error.
func (c *crlfReader) fill() {
	c.lo, c.hi = 0, 0
	for i := 0; i < maxEmptyReads; i++ {
		n, err := c.r.Read(c.buf)
		c.hi = n
		if err != nil {
			c.err = err
		}
		if n > 0 || err != nil {
			return
		}
	}
	c.err = io.ErrNoProgress
}
