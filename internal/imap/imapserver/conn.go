package imapserver

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
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// conn is one IMAP connection. One goroutine (serve) owns it; the only
// other goroutines that touch it are Shutdown (wake, through atomics and
// deadlines) and the IDLE line reader, which hands its result over a
// channel.
type conn struct {
	// Immutable after newConn.
	s      *Server
	cid    uint64
	remote netip.Addr // the zero Addr for non-IP transports
	host   string     // remote host without port, for logs and events
	log    *slog.Logger
	trace  *observe.ConnTrace
	ctx    context.Context
	cancel context.CancelFunc

	// Transport. raw is the accepted connection (Shutdown sets deadlines
	// on it); nc is the current one, a *tls.Conn after STARTTLS.
	raw     net.Conn
	nc      net.Conn
	tr      *traceReader
	br      *bufio.Reader
	bw      *bufio.Writer
	dec     *imapwire.Decoder
	enc     *imapwire.Encoder
	tls     bool
	deflate bool        // COMPRESS DEFLATE is active (RFC 4978)
	stop    atomic.Bool // Shutdown asked the connection to end

	// Protocol state.
	state      state
	account    store.Account
	sess       store.Session
	sel        *selected   // the selected mailbox; nil outside stateSelected
	rev2       bool        // ENABLE IMAP4rev2
	utf8       bool        // UTF-8 mailbox names and strings: IMAP4rev2 or UTF8=ACCEPT enabled
	utf8Accept bool        // ENABLE UTF8=ACCEPT
	condStore  bool        // CONDSTORE enabled (RFC 7162 §3.1), for the rest of the connection
	qresync    bool        // ENABLE QRESYNC (RFC 7162 §3.2.3); implies condStore
	uidOnly    bool        // ENABLE UIDONLY (RFC 9586 §3.1): no message numbers (uidonly.go)
	notify     *notifySpec // NOTIFY SET in force (RFC 5465); nil for none

	// Per-command scratch, reset by dispatch.
	resp response
	prog *progress // INPROGRESS state of the running command (progress.go); nil for none

	// Counters.
	nCmds        int
	badCmds      int
	authFailures int // failed logins, against MaxAuthAttempts
	how          observe.Disconnect
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, raw: nc, nc: nc, state: stateNotAuthenticated, how: observe.DisconnectAbnormal}
	c.host = nc.RemoteAddr().String()
	if ap, err := netip.ParseAddrPort(c.host); err == nil {
		c.remote = ap.Addr().Unmap()
		c.host = c.remote.String()
	}
	_, c.tls = nc.(*tls.Conn)
	c.cid = s.conns.Add("imap", c.host, s.opts.Clock())
	c.log = c.baseLogger()
	c.trace = s.opts.Tracer.Conn(c.cid, c.host, c.log)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.setTransport(nc)
	return c
}

// baseLogger is the connection's logger before login.
func (c *conn) baseLogger() *slog.Logger {
	return c.s.log.With(slog.String("proto", "imap"), slog.Uint64("cid", c.cid), slog.String("remote", c.host))
}

// setTransport (re)builds the buffered reader, writer, decoder and encoder
// over nc: at the start and after the STARTTLS handshake.
func (c *conn) setTransport(nc net.Conn) {
	c.nc = nc
	c.setStreams(nc, deadlineWriter{c})
}

// setStreams (re)builds the buffered reader, writer, decoder and encoder
// over r and w: the connection itself, or its DEFLATE streams after
// COMPRESS (cmd_compress.go). The trace sees what r yields, so it always
// shows the protocol in clear.
func (c *conn) setStreams(r io.Reader, w io.Writer) {
	c.tr = &traceReader{r: r, ct: c.trace}
	c.br = bufio.NewReaderSize(c.tr, connReadBuffer)
	c.bw = bufio.NewWriterSize(w, connWriteBuffer)
	c.dec = imapwire.NewDecoder(c.br, imapwire.Options{
		MaxLineLength: c.s.opts.MaxLineLength,
		NonSync:       imapwire.NonSyncPlus,
		OnLiteral:     c.continueLiteral,
		UTF8:          c.utf8,
	})
	c.enc = c.newEncoder(c.bw)
}

// newEncoder returns an encoder writing to w with the connection's
// settings and trace.
func (c *conn) newEncoder(w *bufio.Writer) *imapwire.Encoder {
	opts := imapwire.EncoderOptions{UTF8: c.utf8}
	if c.trace != nil {
		opts.Tracer = encTrace{c.trace}
	}
	return imapwire.NewEncoder(w, opts)
}

// encTrace shows the trace what the encoder writes: lines, and literal
// data as message data.
type encTrace struct{ ct *observe.ConnTrace }

func (t encTrace) Line(b []byte) { t.ct.Server(b) }
func (t encTrace) Data(b []byte) { t.ct.ServerData(b) }

// deadlineWriter renews the write deadline before each write, so only a
// client that stops reading for writeTimeout is dropped.
type deadlineWriter struct{ c *conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.c.nc.Write(p)
}

// wake asks the connection to end at its next read. Called by Shutdown
// from another goroutine.
func (c *conn) wake() {
	c.stop.Store(true)
	c.raw.SetReadDeadline(time.Now())
}

// continueLiteral is the decoder's consent hook for literals read into
// strings: a synchronising literal gets its continuation request.
func (c *conn) continueLiteral(info imapwire.LiteralInfo) error {
	if info.NonSync {
		return nil
	}
	return c.enc.Continuation("Ready for literal data")
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer c.finish()
	defer func() {
		if x := recover(); x != nil {
			metricPanics.Inc()
			c.log.Error("imap connection panic", slog.Any("panic", x), slog.String("stack", string(debug.Stack())))
			c.how = observe.DisconnectAbnormal
			c.enc = c.newEncoder(c.bw) // whatever the panic left half-written
			c.enc.StatusResponse("", "BYE", "", "Internal server error")
			c.bw.Flush()
		}
	}()
	listener := "imap"
	if c.tls {
		listener = "imaps"
	}
	metricConnections.WithLabelValues(listener, strconv.FormatBool(c.tls)).Inc()
	c.s.stats.ConnOpened()
	// Logged once per connection, before anything can fail, so that every
	// "connection closed" has its "connection opened" (at INFORMATIONAL,
	// like SMTP's: Log-Level says that level shows connections).
	c.log.Info("connection opened", slog.Bool("tls", c.tls))
	if tc, ok := c.nc.(*tls.Conn); ok {
		c.nc.SetDeadline(time.Now().Add(preAuthTimeout))
		if err := tc.HandshakeContext(c.ctx); err != nil {
			c.log.Info("imap tls handshake failed", slog.Any("err", err))
			return
		}
		c.nc.SetDeadline(time.Time{})
	}
	c.enc.StatusResponse("", "OK", "CAPABILITY "+c.capabilityString(), "Postern IMAP4rev2 server ready")
	if !c.flush() {
		return
	}
	for c.state != stateLogout {
		if c.stop.Load() {
			c.bye("Server shutting down")
			return
		}
		c.setReadDeadline(c.readTimeout())
		if c.notify != nil {
			if err := c.awaitCommand(); err != nil {
				if !errors.Is(err, errLoggedOut) {
					c.readFailed(err)
				}
				return
			}
		}
		if !c.command() {
			return
		}
		if c.br.Buffered() == 0 || c.state == stateLogout {
			if !c.flush() {
				return
			}
		}
	}
	c.how = observe.DisconnectNormal
}

// readTimeout is the autologout timer of the current state; zero is none.
func (c *conn) readTimeout() time.Duration {
	if c.state == stateNotAuthenticated {
		return preAuthTimeout
	}
	if c.s.opts.IdleTimeout < 0 {
		return 0
	}
	return c.s.opts.IdleTimeout
}

func (c *conn) setReadDeadline(d time.Duration) {
	if c.stop.Load() {
		return // keep the deadline Shutdown set
	}
	if d <= 0 {
		c.nc.SetReadDeadline(time.Time{})
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(d))
}

// readFailed handles an error from reading a command: a timeout is an
// autologout (or the shutdown wake-up), anything else a quiet close.
func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case c.stop.Load():
		c.bye("Server shutting down")
	case errors.As(err, &ne) && ne.Timeout():
		c.how = observe.DisconnectTimeout
		c.log.Info("imap autologout", slog.String("state", c.state.String()))
		c.bye("Autologout; idle for too long")
	case errors.Is(err, io.EOF):
		c.log.Log(c.ctx, observe.LevelThread, "imap client closed the connection")
	default:
		c.log.Info("imap read failed", slog.Any("err", err))
	}
}

// bye sends an untagged BYE and flushes.
func (c *conn) bye(msg string) {
	c.enc.StatusResponse("", "BYE", "", msg)
	c.flush()
}

// flush writes buffered responses; false if the connection broke.
func (c *conn) flush() bool { return c.flushErr() == nil }

func (c *conn) flushErr() error { return c.enc.Flush() }

// finish releases everything the connection holds.
func (c *conn) finish() {
	c.bw.Flush()
	c.cancel()
	if c.sess != nil {
		c.sess.Close()
		c.s.stats.RemoveUser(c.account.Name)
	}
	c.nc.Close()
	c.trace.Close()
	c.s.conns.Remove(c.cid)
	c.s.stats.ConnClosed(c.how)
	c.log.Info("connection closed", slog.Int("commands", c.nCmds))
}

// isLoopback reports whether the client connects from this host.
func (c *conn) isLoopback() bool { return c.remote.IsValid() && c.remote.IsLoopback() }

// plaintextAllowed reports whether passwords may cross this connection.
func (c *conn) plaintextAllowed() bool {
	return c.tls || c.isLoopback() || c.s.opts.AllowPlaintextAuth
}

// bearerAllowed reports whether an OAuth bearer-token mechanism may be
// used: the authenticator offers it, and the connection is TLS or
// loopback whatever Allow-Plaintext-Auth says (issue 22).
func (c *conn) bearerAllowed(mech string) bool {
	return (c.tls || c.isLoopback()) && slices.Contains(c.s.opts.Auth.Mechanisms(), mech)
}

// errConnBroken ends the connection without a response, for a transport
// that cannot carry one (a failed STARTTLS handshake).
var errConnBroken = errors.New("connection broken")

// isIOError reports whether err is a transport failure: the connection is
// gone or timed out, not a protocol problem. A failure of the server's own
// files is not one, even though a syscall.Errno satisfies net.Error: a
// full disk (ENOSPC) while spooling an APPEND is answered NO and the
// session goes on (issue 12), so only the connection's errors count.
func isIOError(err error) bool {
	var oe *net.OpError
	return errors.Is(err, errConnBroken) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &oe)
}
