package pop3server

import (
	"io"
	"log/slog"
)

// sendMessage writes a multi-line response body: the view's header prefix
// and the content, byte-stuffed (RFC 1939 §3: a line starting with "."
// gets another), then the terminating ".". Content is stored with CRLF
// line endings; if it does not end with one, the CRLF before the "." is
// added as part of the terminator. A write failure returns errIO.
func (c *conn) sendMessage(prefix []byte, content io.Reader) error {
	sw := &stuffer{w: c.bw, bol: true, trace: c.trace.ServerData}
	sw.Write(prefix)
	if _, err := io.Copy(sw, content); err != nil {
		if sw.err == nil {
			// The +OK is out: the only clean way left is to close.
			c.log.LogAttrs(c.ctx, slog.LevelError, "pop3 read message content failed", slog.Any("err", err))
		}
		return errIO
	}
	if !sw.bol {
		c.bw.WriteString("\r\n")
	}
	c.writeLine(".")
	if sw.err != nil {
		return errIO
	}
	return nil
}

// stuffer is a writer that doubles a "." at the start of a line.
type stuffer struct {
	w     io.Writer
	bol   bool // the next byte starts a line
	err   error
	trace func([]byte)
}

func (s *stuffer) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.trace(p)
	n := len(p)
	for len(p) > 0 {
		if s.bol && p[0] == '.' {
			if _, s.err = s.w.Write([]byte{'.'}); s.err != nil {
				return 0, errIO
			}
		}
		i := 0
		for i < len(p) && p[i] != '\n' {
			i++
		}
		if i < len(p) {
			i++ // include the LF
			s.bol = true
		} else {
			s.bol = false
		}
		if _, s.err = s.w.Write(p[:i]); s.err != nil {
			return 0, errIO
		}
		p = p[i:]
	}
	return n, nil
}
