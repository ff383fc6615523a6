package smtpserver

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern/postern/internal/observe"
)

// rejectWriteTimeout bounds the 421 written to a refused connection.
const rejectWriteTimeout = 2 * time.Second

// limiter enforces the per-address connection cap and rate. Addresses are
// keyed by IPv4 address or IPv6 /64, so one host cannot dodge the cap by
// hopping addresses inside its own prefix.
type limiter struct {
	maxConns int
	perMin   int
	clock    func() time.Time

	mu    sync.Mutex
	conns map[netip.Prefix]int
	rate  map[netip.Prefix]*bucket
}

// bucket is a token bucket refilled at perMin tokens a minute.
type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(maxConns, perMin int, clock func() time.Time) *limiter {
	return &limiter{maxConns: maxConns, perMin: perMin, clock: clock,
		conns: map[netip.Prefix]int{}, rate: map[netip.Prefix]*bucket{}}
}

func limitKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// admit takes a connection slot for a, or says why not ("per_ip", "rate").
// Invalid addresses (Unix sockets) are always admitted.
func (l *limiter) admit(a netip.Addr) string {
	if !a.IsValid() || (l.maxConns == 0 && l.perMin == 0) {
		return ""
	}
	k := limitKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxConns > 0 && l.conns[k] >= l.maxConns {
		return "per_ip"
	}
	if l.perMin > 0 {
		now := l.clock()
		b := l.rate[k]
		if b == nil {
			b = &bucket{tokens: float64(l.perMin), last: now}
			l.rate[k] = b
			l.sweep(now)
		}
		b.tokens = min(float64(l.perMin), b.tokens+now.Sub(b.last).Minutes()*float64(l.perMin))
		b.last = now
		if b.tokens < 1 {
			return "rate"
		}
		b.tokens--
	}
	l.conns[k]++
	return ""
}

// sweep forgets full buckets so the map stays bounded by recent clients.
func (l *limiter) sweep(now time.Time) {
	if len(l.rate) < 4096 {
		return
	}
	for k, b := range l.rate {
		if now.Sub(b.last) > time.Minute {
			delete(l.rate, k)
		}
	}
}

func (l *limiter) release(a netip.Addr) {
	if !a.IsValid() || (l.maxConns == 0 && l.perMin == 0) {
		return
	}
	k := limitKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[k]--; l.conns[k] <= 0 {
		delete(l.conns, k)
	}
}

// limitListener applies the limiter, registers each connection with the
// observability sinks and wraps it in a trackedConn.
type limitListener struct {
	net.Listener
	s     *Server
	label string
}

// Accept returns the next admitted connection. QUIRK: app hands us
// implicit-TLS listeners already wrapped by tls.NewListener; such a
// *tls.Conn has not handshaken yet, so we take its raw conn, track that,
// and wrap it in TLS again with the same config, keeping *tls.Conn
// outermost where go-smtp looks for it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		raw, implicitTLS := c, false
		if tc, ok := c.(*tls.Conn); ok && l.s.opts.TLSConfig != nil {
			raw, implicitTLS = tc.NetConn(), true
		}
		remote := remoteAddr(raw)
		if l.s.testRemote.IsValid() {
			remote = l.s.testRemote
		}
		if why := l.s.limiter.admit(remote); why != "" {
			l.s.reject(raw, remote, why)
			continue
		}
		tc := l.s.track(raw, remote, l.label, implicitTLS)
		if implicitTLS {
			return tls.Server(tc, l.s.opts.TLSConfig), nil
		}
		return tc, nil
	}
}

// reject refuses a connection over the limits with 421 (RFC 5321 §3.8).
func (s *Server) reject(c net.Conn, remote netip.Addr, why string) {
	s.metrics.rejected.WithLabelValues(why).Inc()
	s.opts.Logger.Info("connection refused", "proto", s.proto, "remote", remote.String(), "reason", why)
	if s.opts.Events != nil {
		s.opts.Events.Reject(s.proto, remote.String(), "connection limit: "+why)
	}
	c.SetWriteDeadline(time.Now().Add(rejectWriteTimeout))
	if _, isTLS := c.(*tls.Conn); !isTLS {
		c.Write([]byte("421 4.7.0 Too many connections from your address; try again later\r\n"))
	}
	c.Close()
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

// trackedConn is a connection with its bookkeeping: it releases its
// limiter slot and unregisters itself once, when closed.
type trackedConn struct {
	net.Conn
	s    *Server
	info *connInfo

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
	tlsLabel := "no"
	if implicitTLS {
		tlsLabel = "yes"
	}
	s.metrics.connections.WithLabelValues(label, tlsLabel).Inc()
	info := &connInfo{
		cid: cid, remote: remote, since: s.opts.Clock(),
		loopback: !remote.IsValid() || remote.IsLoopback(),
		log:      s.opts.Logger.With("proto", s.proto, "listener", label, "cid", cid, "remote", remoteStr),
	}
	info.log.Info("connection opened", "tls", implicitTLS)
	return &trackedConn{Conn: c, s: s, info: info}
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
		s := c.s
		s.limiter.release(c.info.remote)
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

// connOf finds our trackedConn under a go-smtp connection.
func connOf(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, _ := c.(*trackedConn)
	return t
}
