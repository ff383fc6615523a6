package smtpserver

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/observe"
)

// Refusal returns the reply admission gives a client it refuses: 421, the
// service is not available for now (RFC 5321 §3.8, §4.2.3), with 4.7.0
// (RFC 3463: a security or policy status) for per-address caps and the
// Service-Limit (a policy the operator set; issue 16 asks for 421 4.7.0),
// and 4.3.2 (system not accepting network messages) when the process is
// out of descriptors.
func Refusal(hostname string) func(admission.Reason) string {
	return func(why admission.Reason) string {
		switch why {
		case admission.ReasonBusy:
			return "421 4.3.2 " + hostname + " Server busy; try again later\r\n"
		case admission.ReasonService:
			return "421 4.7.0 " + hostname + " Too many connections; try again later\r\n"
		}
		return "421 4.7.0 " + hostname + " Too many connections from your address; try again later\r\n"
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(ta.IP)
		return a.Unmap()
	}
	return netip.Addr{}
}

// connInfo is what a session knows about its connection.
type connInfo struct {
	cid      uint64
	remote   netip.Addr // invalid on a Unix socket
	loopback bool       // loopback address or Unix socket: trusted for plaintext AUTH
	log      *slog.Logger
	since    time.Time
}

// trackedConn is a connection with its bookkeeping: it unregisters itself
// once, when closed.
type trackedConn struct {
	net.Conn
	s    *Server
	info *connInfo
	tap  *traceTap // nil without a Tracer; fed by conn above TLS, closed here

	closeOnce sync.Once
	timedOut  atomic.Bool
	failed    atomic.Bool
}

func (s *Server) track(c net.Conn, remote netip.Addr, label string, implicitTLS bool) *trackedConn {
	remoteStr := c.RemoteAddr().String()
	if !remote.IsValid() {
		remoteStr = "local"
	}
	var cid uint64
	if s.opts.Conns != nil {
		cid = s.opts.Conns.Add(s.proto, remoteStr, s.opts.Clock())
	} else {
		cid = s.nextCID.Add(1)
	}
	if s.opts.Stats != nil {
		s.opts.Stats.ConnOpened()
	}
	// The tls label is "true" or "false", as IMAP's and POP3's (issue 16).
	s.metrics.connections.WithLabelValues(label, strconv.FormatBool(implicitTLS)).Inc()
	info := &connInfo{
		cid: cid, remote: remote, since: s.opts.Clock(),
		loopback: !remote.IsValid() || remote.IsLoopback(),
		log:      s.opts.Logger.With("proto", s.proto, "listener", label, "cid", cid, "remote", remoteStr),
	}
	info.log.Info("connection opened", "tls", implicitTLS)
	tap := newTraceTap(s.opts.Tracer.Conn(cid, remoteStr, info.log), implicitTLS)
	return &trackedConn{Conn: c, s: s, info: info, tap: tap}
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
			c.timedOut.Store(true)
		} else if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
			c.failed.Store(true)
		}
	}
	return n, err
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		c.tap.close()
		s := c.s
		how := observe.DisconnectNormal
		switch {
		case c.timedOut.Load():
			how = observe.DisconnectTimeout
		case c.failed.Load():
			how = observe.DisconnectAbnormal
		}
		if s.opts.Conns != nil {
			s.opts.Conns.Remove(c.info.cid)
		}
		if s.opts.Stats != nil {
			s.opts.Stats.ConnClosed(how)
		}
		c.info.log.Info("connection closed", "duration", time.Since(c.info.since).Round(time.Millisecond))
	})
	return err
}

// NetConn returns the underlying connection (admission.From looks
// through it).
func (c *trackedConn) NetConn() net.Conn { return c.Conn }
