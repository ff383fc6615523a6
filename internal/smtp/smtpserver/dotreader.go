package smtpserver

import (
	"bufio"
	"io"
)

// dotReader reads the content of DATA (RFC 5321 §4.5.2) from the
// connection: it removes the dot-stuffing and returns io.EOF at the end
// marker. Only <CR><LF>.<CR><LF> ends the data: a "." after a bare LF or a
// bare CR is content, which the receiver then refuses as a bare line end,
// so "<LF>.<LF>" smuggling cannot end a message early. Unlike
// net/textproto's DotReader it never rewrites line ends: the store keeps
// the octets the client sent.
type dotReader struct {
	br    *bufio.Reader
	state int
	cr    bool // a CR after a line-start "." is pending output
}

// States of the end-marker machine.
const (
	dotBeginLine = iota // at the start of a line (the initial state)
	dotDot              // read "." at the start of a line
	dotDotCR            // read ".\r" at the start of a line
	dotCR               // read "\r"
	dotData             // inside a line
	dotEOF              // read the end marker
)

func newDotReader(br *bufio.Reader) *dotReader { return &dotReader{br: br} }

// Read implements io.Reader. A connection that ends before the marker
// gives io.ErrUnexpectedEOF.
func (r *dotReader) Read(p []byte) (n int, err error) {
	for n < len(p) && r.state != dotEOF {
		if r.cr { // ".\r" followed by something else: the CR is content
			p[n] = '\r'
			n++
			r.cr = false
			continue
		}
		var c byte
		c, err = r.br.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		switch r.state {
		case dotBeginLine:
			if c == '.' {
				r.state = dotDot
				continue // the stuffed dot (or the marker's)
			}
			r.state = r.next(c)
		case dotDot:
			if c == '\r' {
				r.state = dotDotCR
				continue
			}
			r.state = r.next(c)
		case dotDotCR:
			if c == '\n' {
				r.state = dotEOF
				continue
			}
			r.cr = true
			if err := r.br.UnreadByte(); err != nil {
				return n, err
			}
			r.state = dotData
			continue
		case dotCR:
			if c == '\n' {
				r.state = dotBeginLine
			} else {
				r.state = r.next(c)
			}
		default:
			r.state = r.next(c)
		}
		p[n] = c
		n++
	}
	if r.state == dotEOF && !r.cr {
		return n, io.EOF
	}
	return n, nil
}

// next is the state after content byte c inside a line.
func (r *dotReader) next(c byte) int {
	if c == '\r' {
		return dotCR
	}
	return dotData
}
