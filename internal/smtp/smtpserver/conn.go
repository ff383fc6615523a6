package smtpserver

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Wire limits.
const (
	// maxCommandLine bounds a command line with its CRLF: RFC 5321
	// §4.5.3.1.4 allows 512 octets, RFC 4954 §4 AUTH lines up to 12,288.
	maxCommandLine = 12288 + 2
	// maxBadCommands is how many unknown, malformed or out-of-sequence
	// commands a connection may send before it is closed.
	maxBadCommands = 10
	// connBufSize is the size of a connection's read and write buffers.
	connBufSize = 4096
)

// errLongCommand is a command line over maxCommandLine; the rest of the
// line has been read and dropped.
var errLongCommand = errors.New("command line too long")

// conn is one SMTP, submission or LMTP connection. One goroutine (serve)
// owns it; Shutdown only sets stop and a read deadline.
type conn struct {
	// Immutable.
	s    *Server
	raw  net.Conn // the accepted connection, tracked (trackedConn)
	info *connInfo
	log  *slog.Logger

	// Transport: nc is raw or the *tls.Conn over it.
	nc   net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	tls  bool
	stop atomic.Bool // Shutdown asked the connection to end
	tap  *traceTap   // the protocol trace, over the plaintext; nil: none

	// Protocol state.
	helo    string   // the client's EHLO/HELO/LHLO name, sanitised; "" before
	ss      *session // created at the first greeting and after STARTTLS
	authed  bool
	badCmds int
	closing bool

	// Transaction, cleared by reset: what the wire needs beyond the
	// session's own (the session keeps the addresses).
	mail  bool
	rcpts []string
	bdat  *receiver // the message so far, between BDAT chunks
}

func newConn(s *Server, raw net.Conn, info *connInfo, implicitTLS bool) *conn {
	c := &conn{s: s, raw: raw, info: info, log: info.log, nc: raw}
	if tc, ok := raw.(*trackedConn); ok {
		c.tap = tc.tap
	}
	if implicitTLS {
		c.nc = tls.Server(raw, s.opts.TLSConfig)
		c.tls = true
	}
	c.br = bufio.NewReaderSize(c.tap.reader(c.nc), connBufSize)
	c.bw = bufio.NewWriterSize(c.tap.writer(c.nc), connBufSize)
	return c
}

// Conn returns the current network connection (a *tls.Conn under TLS),
// for deadlines and addresses.
func (c *conn) Conn() net.Conn { return c.nc }

// Hostname returns the client's greeting name, sanitised.
func (c *conn) Hostname() string { return c.helo }

// TLSConnectionState returns the TLS state, and whether TLS is on.
func (c *conn) TLSConnectionState() (tls.ConnectionState, bool) {
	if tc, ok := c.nc.(*tls.Conn); ok {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer c.close()
	defer func() {
		if x := recover(); x != nil {
			c.s.metrics.panics.Inc()
			msg := fmt.Sprintf("panic: %v\n%s", x, debug.Stack())
			if c.s.onPanic != nil {
				c.s.onPanic(msg)
			}
			c.log.Error("smtp connection panic", "panic", fmt.Sprint(x), "stack", string(debug.Stack()))
			c.reply(421, 4, 3, 0, "Internal server error; closing")
		}
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		c.nc.SetDeadline(time.Now().Add(c.s.opts.CommandTimeout))
		if err := tc.Handshake(); err != nil {
			c.log.Info("tls handshake failed", "err", err)
			return
		}
	}
	what := "ESMTP"
	if c.s.opts.Mode == ModeLMTP {
		what = "LMTP"
	}
	c.reply(220, -1, 0, 0, c.s.opts.Hostname+" "+what+" Service Ready")
	for !c.closing && c.flush() {
		if c.stop.Load() {
			c.reply(421, 4, 3, 2, c.s.opts.Hostname+" Service shutting down")
			c.flush()
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(c.s.opts.CommandTimeout))
		line, err := c.readLine()
		if err != nil && !errors.Is(err, errLongCommand) {
			c.readFailed(err)
			return
		}
		c.command(line, err)
	}
}

// readLine reads one command line without its CRLF. A longer line than
// maxCommandLine is read to its end and dropped (errLongCommand), so the
// connection stays in step.
func (c *conn) readLine() (string, error) {
	var line []byte
	tooLong := false
	for {
		frag, err := c.br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > maxCommandLine {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return "", err
		}
		if tooLong {
			return "", errLongCommand
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// readFailed ends the connection after a failed read: a timeout is
// answered (RFC 5321 §4.5.3.2 lets the server close an idle connection),
// anything else ends it quietly.
func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case c.stop.Load():
		c.reply(421, 4, 3, 2, c.s.opts.Hostname+" Service shutting down")
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		c.reply(421, 4, 4, 2, c.s.opts.Hostname+" Idle timeout, closing connection")
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	default:
		c.log.Debug("smtp read failed", "err", err)
	}
	c.flush()
}

// reply writes one reply line; class -1 means no enhanced status code
// (the greeting, 334, 354). Several lines are joined with "-".
func (c *conn) reply(code, class, subject, detail int, text ...string) {
	if len(text) == 0 {
		text = []string{""}
	}
	for i, t := range text {
		sep := " "
		if i < len(text)-1 {
			sep = "-"
		}
		if class >= 0 && i == len(text)-1 {
			t = fmt.Sprintf("%d.%d.%d %s", class, subject, detail, t)
		}
		fmt.Fprintf(c.bw, "%d%s%s\r\n", code, sep, t)
	}
}

// replyErr writes the reply for err: an *smtp.SMTPError as it is, anything
// else (a bug) as 451 4.3.0.
func (c *conn) replyErr(err error) {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		c.log.Error("smtp command failed", "err", err)
		se = errInternal
	}
	c.reply(se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
}

// flush sends what is buffered when the client has nothing more pipelined
// (RFC 2920 §3.1 lets replies to a group go together); false means the
// connection is dead.
func (c *conn) flush() bool {
	if c.br.Buffered() > 0 && !c.closing {
		return true
	}
	return c.flushNow()
}

// flushNow sends what is buffered, pipelined input or not: before waiting
// for the client's answer to 334, 354 or 220 (STARTTLS).
func (c *conn) flushNow() bool {
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.bw.Flush(); err != nil {
		c.log.Debug("smtp write failed", "err", err)
		c.closing = true
		return false
	}
	return true
}

// bad counts an unknown, malformed or out-of-sequence command and closes
// the connection after too many.
func (c *conn) bad(code, class, subject, detail int, text string) {
	c.badCmds++
	c.reply(code, class, subject, detail, text)
	if c.badCmds >= maxBadCommands {
		c.reply(421, 4, 7, 0, c.s.opts.Hostname+" Too many bad commands; closing connection")
		c.closing = true
	}
}

// reset ends the transaction (RSET, a new greeting, after DATA or BDAT
// LAST, STARTTLS).
func (c *conn) reset() {
	c.mail, c.rcpts = false, nil
	if c.bdat != nil {
		c.bdat.discard()
		c.bdat = nil
	}
	if c.ss != nil {
		c.ss.Reset()
	}
}

// close ends the session and the connection.
func (c *conn) close() {
	c.reset()
	if c.ss != nil {
		c.ss.Logout()
	}
	c.bw.Flush()
	c.nc.Close()
	c.raw.Close()
}
