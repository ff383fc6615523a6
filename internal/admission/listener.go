package admission

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// refuseWriteTimeout bounds the temporary reply written to a refused
// client: a fresh socket's send buffer is empty, so it never waits in
// practice.
const refuseWriteTimeout = time.Second

// busyLogEvery limits the "out of descriptors" warning to one line per
// listener in this period; the metric counts every occurrence.
const busyLogEvery = 10 * time.Second

// Options configure a Listener.
type Options struct {
	// Label names the listener in logs and metrics ("imap", "imaps",
	// "pop3", "submission", "smtp", "lmtp-unix", …): a small fixed set.
	Label string
	// Table holds the service's caps and counts; nil admits everyone.
	Table *Table
	// Reserve is the process's spare descriptors; nil means none.
	Reserve *Reserve
	// Reply returns the protocol's temporary reply, a full line with its
	// CRLF, for a refused client. Nil (implicit-TLS ports) closes refused
	// clients without a word.
	Reply func(Reason) string
	// PreauthLimit caps how long after accept a connection may still be
	// reading without having authenticated; zero means no cap.
	PreauthLimit time.Duration
	// Rebind re-creates the listener after a permanent accept error; nil
	// listens again on the same network address.
	Rebind func() (net.Listener, error)
	// Logger receives refusals (Info), descriptor exhaustion (Warn) and
	// listener failures (Error); nil discards.
	Logger *slog.Logger
	// OnRefuse, if set, is told of each refusal for a per-address reason
	// (per_ip, preauth, rate), for the event log.
	OnRefuse func(remote netip.Addr, why Reason)
	// Memory, if set, refuses every new connection while Over (see
	// MemoryWatch).
	Memory *MemoryWatch
	// OnFailure, if set, is told of each permanent accept error before the
	// listener is re-created, for the event log.
	OnFailure func(err error)
}

// Listener is a net.Listener whose Accept returns only admitted
// connections (*Conn) and whose only error is the one after Close. It
// absorbs temporary errors, uses the Reserve at the descriptor limit and
// re-creates a failed listener; see the package comment.
type Listener struct {
	opts Options
	addr net.Addr
	done chan struct{}

	mu       sync.Mutex
	ln       net.Listener
	closed   bool
	lastBusy time.Time
	// lastFull and fullSince rate-limit the Service-Limit log line: the
	// time of the last line and the refusals since it.
	lastFull  time.Time
	fullSince int

	// sleep waits d or until Close, reporting false after Close; tests
	// replace it.
	sleep func(d time.Duration) bool
}

// NewListener wraps ln.
func NewListener(ln net.Listener, opts Options) *Listener {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Label == "" {
		opts.Label = ln.Addr().Network()
	}
	l := &Listener{opts: opts, addr: ln.Addr(), ln: ln, done: make(chan struct{})}
	if l.opts.Rebind == nil {
		addr := ln.Addr()
		l.opts.Rebind = func() (net.Listener, error) { return net.Listen(addr.Network(), addr.String()) }
	}
	l.sleep = l.sleepOrClose
	return l
}

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.addr }

// Close stops Accept and closes the listening socket.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.done)
	return l.ln.Close()
}

func (l *Listener) current() (net.Listener, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ln, l.closed
}

func (l *Listener) closedErr() error {
	return &net.OpError{Op: "accept", Net: l.addr.Network(), Addr: l.addr, Err: net.ErrClosed}
}

// Accept waits for the next admitted connection.
func (l *Listener) Accept() (net.Conn, error) {
	var temp, restart Backoff
	restart.Min, restart.Max = 100*time.Millisecond, maxRestartWait
	for {
		ln, closed := l.current()
		if closed {
			return nil, l.closedErr()
		}
		nc, err := ln.Accept()
		if err != nil {
			if !l.acceptFailed(ln, err, &temp, &restart) {
				return nil, l.closedErr()
			}
			continue
		}
		temp.Reset()
		restart.Reset()
		if c := l.admit(nc); c != nil {
			return c, nil
		}
	}
}

// acceptFailed handles an accept error and reports whether to go on.
func (l *Listener) acceptFailed(ln net.Listener, err error, temp, restart *Backoff) bool {
	if _, closed := l.current(); closed {
		return false
	}
	kind := Classify(err)
	metricAcceptErrors.WithLabelValues(l.opts.Label, kind.String()).Inc()
	switch kind {
	case KindTemporary:
		return l.sleep(temp.Next())
	case KindDescriptors:
		l.busy(err)
		if l.refuseOne(ln) {
			// Progress: a waiting client heard "busy". Try the next one
			// at once, so a backlog of them is answered, not left to
			// time out while the back-off grows.
			temp.Reset()
			return true
		}
		return l.sleep(temp.Next())
	}
	// KindFailed, or KindClosed although we did not close it: the socket
	// is broken. Count it, say so, and make a new one.
	metricListenerFailures.WithLabelValues(l.opts.Label).Inc()
	l.opts.Logger.Error("listener failed; re-creating it", "listener", l.opts.Label,
		"addr", l.addr.String(), "err", err)
	if l.opts.OnFailure != nil {
		l.opts.OnFailure(err)
	}
	return l.rebind(restart)
}

// rebind replaces the listening socket, retrying with back-off until it
// works or the Listener is closed.
func (l *Listener) rebind(b *Backoff) bool {
	for {
		if !l.sleep(b.Next()) {
			return false
		}
		l.mu.Lock()
		old, closed := l.ln, l.closed
		l.mu.Unlock()
		if closed {
			return false
		}
		old.Close()
		nl, err := l.opts.Rebind()
		if err != nil {
			l.opts.Logger.Error("re-create listener failed", "listener", l.opts.Label, "addr", l.addr.String(), "err", err)
			continue
		}
		l.mu.Lock()
		closed = l.closed
		if !closed {
			l.ln = nl
		}
		l.mu.Unlock()
		if closed {
			nl.Close()
			return false
		}
		l.opts.Logger.Warn("listener re-created", "listener", l.opts.Label, "addr", l.addr.String())
		return true
	}
}

// busy logs descriptor exhaustion or a full service, at most once per
// busyLogEvery.
func (l *Listener) busy(err error) {
	l.mu.Lock()
	now := time.Now()
	quiet := now.Sub(l.lastBusy) >= busyLogEvery
	if quiet {
		l.lastBusy = now
	}
	l.mu.Unlock()
	if quiet {
		l.opts.Logger.Warn("refusing new clients", "listener", l.opts.Label, "err", err)
	}
}

// full logs a refusal at the Service-Limit: the first at once, then at
// most one line per busyLogEvery, saying how many were refused since the
// previous line (a flood must not flood the log; the metric counts each).
func (l *Listener) full() {
	l.mu.Lock()
	l.fullSince++
	now := time.Now()
	n := l.fullSince
	quiet := now.Sub(l.lastFull) >= busyLogEvery
	if quiet {
		l.lastFull, l.fullSince = now, 0
	}
	l.mu.Unlock()
	if quiet {
		limit := 0
		if l.opts.Table != nil {
			limit = l.opts.Table.limits.Service
		}
		l.opts.Logger.Warn("connection refused: service limit reached", "listener", l.opts.Label,
			"service_limit", limit, "refused", n)
	}
}

// refuseOne frees a spare descriptor to take one waiting client and give
// it the temporary reply, so that it hears "busy" instead of hanging. It
// reports whether a client was refused.
func (l *Listener) refuseOne(ln net.Listener) bool {
	r := l.opts.Reserve
	if r == nil || !r.release() {
		return false
	}
	defer r.Refill()
	nc, err := ln.Accept()
	if err != nil {
		return false
	}
	l.refuse(nc, netip.Addr{}, ReasonBusy)
	return true
}

// admit applies the Table to a new connection: an admitted one is wrapped
// in a Conn, a refused one answered and closed (nil).
func (l *Listener) admit(nc net.Conn) *Conn {
	remote := remoteAddr(nc)
	c := &Conn{Conn: nc, preauth: true}
	if l.opts.Memory.Over() {
		l.refuse(nc, remote, ReasonMemory)
		return nil
	}
	if l.opts.Table != nil {
		s, why := l.opts.Table.admit(remote)
		if why != "" {
			l.refuse(nc, remote, why)
			return nil
		}
		c.slot = s
	}
	if l.opts.PreauthLimit > 0 {
		c.deadline = time.Now().Add(l.opts.PreauthLimit)
		nc.SetReadDeadline(c.deadline)
	}
	return c
}

// refuse answers a refused client with the protocol's temporary reply
// (plaintext ports only) and closes it.
func (l *Listener) refuse(nc net.Conn, remote netip.Addr, why Reason) {
	metricRefused.WithLabelValues(l.opts.Label, string(why)).Inc()
	if why == ReasonService {
		l.full()
	} else if why != ReasonBusy && why != ReasonMemory { // both logged by their watcher
		l.opts.Logger.Info("connection refused", "listener", l.opts.Label, "remote", remote.String(), "reason", string(why))
		if l.opts.OnRefuse != nil {
			l.opts.OnRefuse(remote, why)
		}
	}
	if l.opts.Reply != nil {
		nc.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
		worded := why
		if why == ReasonMemory {
			worded = ReasonBusy // every protocol words "server busy; try again later"
		}
		nc.Write([]byte(l.opts.Reply(worded)))
	}
	nc.Close()
}

func remoteAddr(nc net.Conn) netip.Addr {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(ta.IP)
		return a.Unmap()
	}
	return netip.Addr{}
}

func (l *Listener) sleepOrClose(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}
