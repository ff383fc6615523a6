package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// conn is one ManageSieve connection; serve's goroutine owns it.
type conn struct {
	// Immutable.
	s      *Server
	cid    uint64
	remote netip.Addr
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	// Transport.
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	tls bool

	// Protocol state.
	authed   bool
	account  store.Account
	failures int // failed AUTHENTICATEs
	badCmds  int
	closing  bool
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	host := nc.RemoteAddr().String()
	if ap, err := netip.ParseAddrPort(host); err == nil {
		c.remote = ap.Addr().Unmap()
		host = c.remote.String()
	}
	_, c.tls = nc.(*tls.Conn)
	c.cid = s.conns.Add("managesieve", host, s.opts.Clock())
	c.log = s.opts.Logger.With(slog.String("proto", "managesieve"), slog.Uint64("cid", c.cid), slog.String("remote", host))
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.br = bufio.NewReader(nc)
	c.bw = bufio.NewWriter(deadlineWriter{c})
	return c
}

type deadlineWriter struct{ c *conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.c.nc.Write(p)
}

func (c *conn) serve() {
	defer c.finish()
	defer func() {
		if x := recover(); x != nil {
			metricPanics.Inc()
			c.log.Error("managesieve connection panic", slog.Any("panic", x), slog.String("stack", string(debug.Stack())))
			c.bw.WriteString("BYE \"Internal error.\"\r\n")
			c.bw.Flush()
		}
	}()
	metricConnections.WithLabelValues(strconv.FormatBool(c.tls)).Inc()
	c.log.Info("connection opened", slog.Bool("tls", c.tls))
	// RFC 5804 §1.7: the greeting is the capability response.
	c.writeCapabilities()
	c.ok("", "Postern ManageSieve ready.")
	for !c.closing && c.bw.Flush() == nil {
		timeout := preAuthTimeout
		if c.authed {
			timeout = idleTimeout
		}
		c.nc.SetReadDeadline(time.Now().Add(timeout))
		cmd, err := readCommand(c.br, c.s.opts.MaxScriptSize)
		switch {
		case errors.Is(err, errSyntax):
			c.bad(err.Error())
			continue
		case err != nil:
			c.readFailed(err)
			return
		}
		c.dispatch(cmd)
	}
}

func (c *conn) readFailed(err error) {
	var ne net.Error
	if errors.Is(err, errHuge) {
		c.bye("QUOTA/MAXSIZE", "Literal far too big.")
		c.bw.Flush()
		return
	}
	if errors.As(err, &ne) && ne.Timeout() {
		c.bye("", "Idle for too long.")
		c.bw.Flush()
		return
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Info("managesieve read failed", slog.Any("err", err))
	}
}

func (c *conn) finish() {
	c.cancel()
	c.bw.Flush() // a last BYE or LOGOUT's OK
	c.nc.Close()
	c.s.conns.Remove(c.cid)
	c.log.Info("connection closed")
}

// bad answers a malformed or misplaced command; too many end the
// connection.
func (c *conn) bad(msg string) {
	c.badCmds++
	if c.badCmds >= maxBadCommands {
		c.bye("", "Too many bad commands.")
		c.closing = true
		return
	}
	c.no("", msg)
}

// Responses (RFC 5804 §4: response = ("OK" / "NO" / "BYE") [SP "(" code
// ")"] [SP string] CRLF).
func (c *conn) respond(kind, code, text string) {
	c.bw.WriteString(kind)
	if code != "" {
		c.bw.WriteString(" (" + code + ")")
	}
	if text != "" {
		c.bw.WriteString(" " + quote(text))
	}
	c.bw.WriteString("\r\n")
}

func (c *conn) ok(code, text string)  { c.respond("OK", code, text) }
func (c *conn) no(code, text string)  { c.respond("NO", code, text) }
func (c *conn) bye(code, text string) { c.respond("BYE", code, text) }

// plaintextOK reports whether a password may cross this connection: TLS,
// loopback, or AllowPlaintextAuth (the IMAP rule).
func (c *conn) plaintextOK() bool {
	return c.tls || c.s.opts.AllowPlaintextAuth || (c.remote.IsValid() && c.remote.IsLoopback())
}

// mechanisms lists the SASL mechanisms offered now.
func (c *conn) mechanisms() []string {
	mechs := []string{auth.MechSCRAMSHA256}
	if c.plaintextOK() {
		mechs = append(mechs, auth.MechPlain)
	}
	return mechs
}

func (c *conn) connInfo() auth.ConnInfo {
	return auth.ConnInfo{Remote: c.remote, Proto: "managesieve", TLS: c.tls, Log: c.log}
}

// writeCapabilities sends the capability lines (RFC 5804 §1.7).
func (c *conn) writeCapabilities() {
	line := func(name, value string) {
		c.bw.WriteString(quote(name))
		if value != "" || name == "SASL" {
			c.bw.WriteString(" " + quote(value))
		}
		c.bw.WriteString("\r\n")
	}
	line("IMPLEMENTATION", "Postern")
	if c.authed {
		line("SASL", "") // RFC 5804 §1.7: empty once authenticated
	} else {
		line("SASL", strings.Join(c.mechanisms(), " "))
	}
	line("SIEVE", strings.Join(sieveExtensions(), " "))
	if c.s.opts.TLS != nil && !c.tls {
		line("STARTTLS", "")
	}
	line("MAXREDIRECTS", strconv.Itoa(maxRedirects()))
	if c.authed {
		line("OWNER", c.account.Name)
	}
	line("VERSION", "1.0")
}
