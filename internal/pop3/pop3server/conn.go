package pop3server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// greetingTimeFormat is the original's "up since" format.
const greetingTimeFormat = "2006-01-02 15:04:05"

// maxBadCommands is how many unknown, malformed or out-of-state commands a
// connection may send before it is closed.
const maxBadCommands = 10

// conn is one POP3 connection. One goroutine (serve) owns it.
type conn struct {
	// Immutable after newConn.
	s      *Server
	cid    uint64
	remote netip.Addr // the zero Addr for non-IP transports
	host   string     // remote host without port, for logs and events
	log    *slog.Logger
	trace  *observe.ConnTrace
	stamp  string // the APOP timestamp of the greeting
	ctx    context.Context
	cancel context.CancelFunc

	// Transport.
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	tls bool

	// Protocol state.
	state    state
	user     string // the name of a USER waiting for PASS
	account  store.Account
	session  store.Session
	release  func() // releases the maildrop lock
	drop     *maildrop
	failures int // failed logins
	badCmds  int // unknown, malformed and out-of-state commands
	nCmds    int // commands dispatched
	closing  bool
	how      observe.Disconnect
	counted  bool // counted in Stats (ConnOpened)
	threaded bool // logged in and counted against MaxSessions
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, state: stateAuthorization, how: observe.DisconnectAbnormal}
	c.host = nc.RemoteAddr().String()
	if ap, err := netip.ParseAddrPort(c.host); err == nil {
		c.remote = ap.Addr().Unmap()
		c.host = c.remote.String()
	}
	_, c.tls = nc.(*tls.Conn)
	c.cid = s.conns.Add("pop3", c.host, s.opts.Clock())
	c.log = s.log.With(slog.String("proto", "pop3"), slog.Uint64("cid", c.cid), slog.String("remote", c.host))
	c.trace = s.opts.Tracer.Conn(c.cid, c.host, c.log)
	c.stamp = s.timestamp(c.cid)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.br = bufio.NewReader(nc)
	c.bw = bufio.NewWriter(deadlineWriter{c})
	return c
}

// deadlineWriter writes to the connection's current transport (which STLS
// replaces), renewing the write deadline before each write so that only
// a client that stops reading for writeTimeout is dropped, however long
// the message.
type deadlineWriter struct{ c *conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.c.nc.Write(p)
}

// sessionWriteBuffer is the write buffer of a logged-in session: most
// messages fit, so a RETR (status line, message, terminator) leaves in one
// write, which the 4 KiB buffer of the AUTHORIZATION state would split in
// several. Only authenticated sessions hold it.
const sessionWriteBuffer = 64 << 10

// growWriter moves to the session's write buffer after login. The login
// reply is not written yet; a command line sent ahead of it (RFC 2449
// PIPELINING) may be, so the old buffer is flushed first. Its error, if
// any, comes back from the new writer's flush: the connection is the same.
func (c *conn) growWriter() {
	c.bw.Flush()
	c.bw = bufio.NewWriterSize(deadlineWriter{c}, sessionWriteBuffer)
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer c.finish()
	defer func() {
		if x := recover(); x != nil {
			metricPanics.Inc()
			c.log.Error("pop3 connection panic", slog.Any("panic", x), slog.String("stack", string(debug.Stack())))
			c.how = observe.DisconnectAbnormal
			c.writeLine("-ERR [" + codeSysTemp + "] " + internalText)
			c.flush()
		}
	}()
	listener := "pop3"
	if c.tls {
		listener = "pop3s"
	}
	metricConnections.WithLabelValues(listener, strconv.FormatBool(c.tls)).Inc()
	// Logged once per connection, before anything can fail, so that every
	// "connection closed" has its "connection opened" (at INFORMATIONAL,
	// like SMTP's: Log-Level says that level shows connections).
	c.log.Info("connection opened", slog.Bool("tls", c.tls))
	c.counted = true
	c.s.stats.ConnOpened()
	c.setSndbuf()
	if tc, ok := c.nc.(*tls.Conn); ok {
		c.nc.SetDeadline(time.Now().Add(preAuthTimeout))
		if err := tc.HandshakeContext(c.ctx); err != nil {
			c.log.Info("pop3 tls handshake failed", slog.Any("err", err))
			return
		}
	}
	c.writeLine("+OK POP server Postern Version " + c.s.opts.Version + ", " + c.s.opts.OS + " at " +
		c.s.opts.Hostname + ", up since " + c.s.opts.Started.Format(greetingTimeFormat) + " " + c.stamp)
	if !c.flush() {
		return
	}
	for !c.closing {
		c.nc.SetReadDeadline(time.Now().Add(c.readTimeout()))
		line, err := readLine(c.br, maxCommandLine)
		if err != nil && !c.readFailed(err) {
			return
		}
		if err == nil {
			c.command(line)
		}
		if c.br.Buffered() == 0 || c.closing {
			if !c.flush() {
				return
			}
		}
	}
}

// readTimeout is the autologout timer of the current state.
func (c *conn) readTimeout() time.Duration {
	idle := c.s.opts.IdleTimeout
	if c.state == stateAuthorization && (idle < 0 || idle > preAuthTimeout) {
		return preAuthTimeout
	}
	if idle < 0 {
		return 100 * 365 * 24 * time.Hour
	}
	return idle
}

// readFailed handles an error from readLine and reports whether the
// connection goes on.
func (c *conn) readFailed(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, errLineTooLong):
		metricBadInput.WithLabelValues("long_line").Inc()
		c.badCmds++
		c.trace.Client([]byte("[over-long line discarded]"))
		if c.badCmds >= maxBadCommands {
			c.writeLine("-ERR line too long; too many bad commands, closing connection")
			c.closing = true
			return true
		}
		c.writeLine("-ERR line too long (at most 255 octets)")
		return true
	case errors.Is(err, errFlood):
		metricBadInput.WithLabelValues("long_line").Inc()
		c.log.Info("pop3 line flood; closing the connection")
		c.writeLine("-ERR line too long; closing connection")
		c.flush()
		return false
	case errors.As(err, &ne) && ne.Timeout():
		c.how = observe.DisconnectTimeout
		c.log.Info("pop3 autologout", slog.String("state", c.state.String()))
		c.writeLine("-ERR autologout; idle for too long")
		c.flush()
		return false
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.log.Log(c.ctx, observe.LevelThread, "pop3 client closed the connection", slog.String("state", c.state.String()))
		return false
	}
	c.log.Info("pop3 read failed", slog.Any("err", err))
	return false
}

// finish releases everything the connection holds. A session that did not
// QUIT commits nothing (RFC 1939 §6).
func (c *conn) finish() {
	c.cancel()
	c.closeMaildrop()
	// The session slot is free before the client can see the close, so
	// a client that reconnects at once is not refused (Maximum-Threads).
	if c.threaded {
		c.s.releaseSession()
	}
	if c.counted {
		c.s.stats.ConnClosed(c.how)
	}
	c.nc.Close()
	c.s.conns.Remove(c.cid)
	c.trace.Close()
	c.log.Info("connection closed", slog.Int("commands", c.nCmds))
}

// setSndbuf applies Options.Sndbuf to TCP connections.
func (c *conn) setSndbuf() {
	if c.s.opts.Sndbuf <= 0 {
		return
	}
	nc := c.nc
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if ac := admission.From(nc); ac != nil {
		nc = ac.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		if err := tcp.SetWriteBuffer(c.s.opts.Sndbuf); err != nil {
			c.log.Warn("pop3 set send buffer failed", slog.Any("err", err))
		}
	}
}

// connInfo describes the connection to the authenticator.
func (c *conn) connInfo() auth.ConnInfo {
	return auth.ConnInfo{Remote: c.remote, Proto: "pop3", TLS: c.tls, Log: c.log, TLSExporter: auth.ConnTLSExporter(c.nc)}
}

// plaintextOK reports whether a password may be sent in the clear on this
// connection: under TLS, from loopback, or when the admin allows it.
func (c *conn) plaintextOK() bool {
	return c.tls || c.remote.IsLoopback() || c.s.opts.AllowPlaintextAuth
}

// Write helpers. Nothing else writes protocol text.

// writeLine writes one protocol line and traces it.
func (c *conn) writeLine(line string) {
	c.trace.Server([]byte(line))
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
}

// ok writes "+OK text".
func (c *conn) ok(text string) {
	if text == "" {
		c.writeLine("+OK")
		return
	}
	c.writeLine("+OK " + text)
}

// multi writes a multi-line response's lines, dot-stuffed, and the
// terminating "." (RFC 1939 §3).
func (c *conn) multi(first string, lines []string) {
	c.ok(first)
	for _, l := range lines {
		if len(l) > 0 && l[0] == '.' {
			l = "." + l
		}
		c.writeLine(l)
	}
	c.writeLine(".")
}

// flush sends what is buffered; false means the connection is dead.
func (c *conn) flush() bool {
	err := c.bw.Flush()
	if err == nil {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.s.stats.BlockedSocket()
		c.log.Info("pop3 write blocked; closing", slog.Any("err", err))
	} else if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.log.Log(c.ctx, observe.LevelThread, "pop3 write failed", slog.Any("err", err))
	}
	c.closing = true
	return false
}
