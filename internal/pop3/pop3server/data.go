package pop3server

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
)

// sendMessage writes a multi-line response body: the view's header prefix
// and the content, byte-stuffed (RFC 1939 §3: a line starting with "."
// gets another), then the terminating ".". Content is stored with CRLF
// line endings (except a literal8 IMAP upload, stored exactly); if it does
// not end with CRLF (a bare LF included), a CRLF is added before the ".",
// so that the terminator is always CRLF "." CRLF. A write failure returns
// errIO.
func (c *conn) sendMessage(prefix []byte, content io.Reader) error {
	sw := &stuffer{w: c.bw, bol: true, trace: c.trace.ServerData}
	sw.Write(prefix)
	buf := c.s.copyBuf()
	defer c.s.bufs.Put(buf)
	if _, err := io.CopyBuffer(sw, content, *buf); err != nil {
		if sw.err == nil {
			// The +OK is out: the only clean way left is to close.
			c.log.LogAttrs(c.ctx, slog.LevelError, "pop3 read message content failed", slog.Any("err", err))
		}
		return errIO
	}
	if sw.wrote && !sw.endsCRLF() {
		c.bw.WriteString("\r\n")
	}
	c.writeLine(".")
	if sw.err != nil {
		return errIO
	}
	return nil
}

// copyBufSize is the size of the buffers message content is read
// through: one read takes in most messages whole.
const copyBufSize = 64 << 10

// copyBuf returns a buffer for reading message content; give it back to
// s.bufs.
func (s *Server) copyBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufSize)
	return &b
}

// stuffer is a writer that doubles a "." at the start of a line.
type stuffer struct {
	w     *bufio.Writer
	bol   bool // the next byte starts a line
	err   error
	trace func([]byte)
	wrote bool    // some content was written
	last  [2]byte // the last two octets written
}

// endsCRLF reports whether the content written so far ends with CRLF.
func (s *stuffer) endsCRLF() bool { return s.last == [2]byte{'\r', '\n'} }

// lineDot is where byte-stuffing applies inside a chunk: a line that
// starts with ".".
const lineDot = "\n."

// Write copies p, inserting a "." before every line that starts with
// one. Runs of lines without such a start go out in one write.
func (s *stuffer) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.trace(p)
	n := len(p)
	if n > 0 {
		s.wrote = true
		if n == 1 {
			s.last = [2]byte{s.last[1], p[0]}
		} else {
			s.last = [2]byte{p[n-2], p[n-1]}
		}
	}
	for len(p) > 0 {
		if s.bol && p[0] == '.' && s.err == nil {
			s.err = s.w.WriteByte('.')
		}
		i := bytes.Index(p, []byte(lineDot))
		if i < 0 {
			s.put(p)
			s.bol = p[len(p)-1] == '\n'
			break
		}
		s.put(p[:i+1])
		p = p[i+1:]
		s.bol = true
	}
	if s.err != nil {
		return 0, errIO
	}
	return n, nil
}

// put writes p unless an earlier write failed.
func (s *stuffer) put(p []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
}
