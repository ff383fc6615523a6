package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/server"
)

// A worker is one `postern worker` process of the supervisor
// (docs/supervisor.md): it serves the protocols on the sockets it
// inherited, tells the supervisor over its link when it is ready and when
// IMAP holds Max-Connections sessions, and drains when told to.

// WorkerOptions are what the supervisor tells a worker process.
type WorkerOptions struct {
	// Generation numbers the workers of one supervisor from 1.
	Generation int
	// First is the supervisor's first worker: it prints the banner and
	// writes the START event, as `postern serve` always did.
	First bool
	// Link is the worker's end of the socketpair to the supervisor.
	Link *os.File
	// FileReader, when not nil, reaches the supervisor's privileged
	// certificate reader.
	FileReader *server.FileReader
	// SystemAccounts, when not nil, reaches the system account source's
	// privileged helper through the supervisor (docs/accounts.md).
	SystemAccounts source.SystemChecker
	// Control is the worker's own control socket, which only the
	// supervisor uses.
	Control string
	// Notice names a file with an abnormal exit to report to the
	// Postmasters (noticeFile); "" when there is none.
	Notice string
	// Verifier, when not nil, is the supervisor's password verifier, with
	// its throttle, cache and hash queue, reached over a socketpair
	// (auth.VerifierClient): every worker shares it.
	Verifier *auth.VerifierClient
	// Admission, when not nil, holds the counts of every worker's
	// connections in the supervisor (Service-Limit and the per-address
	// caps count across worker generations).
	Admission *admission.TableClient
}

// Link messages, one per line. Worker to supervisor: linkReady once the
// worker serves, linkFull PROTO when a protocol holds Max-Connections
// sessions, linkShutdown when an administrator stopped the server from a
// session (XTND SHUTDOWN), linkKeep with a listening socket attached (SCM_RIGHTS) that
// the worker bound itself (a reload turned a port on), linkDrop NETWORK
// ADDR for one a reload closed. Supervisor to worker: linkDrain (stop
// accepting; end with the last session or at Drain-Timeout), linkNotice
// FILE (report an abnormal exit).
const (
	linkReady    = "READY"
	linkFull     = "FULL"
	linkKeep     = "KEEP"
	linkShutdown = "SHUTDOWN"
	linkDrop     = "DROP"
	linkDrain    = "DRAIN"
	linkNotice   = "NOTICE"
)

// fullCheckInterval is how often a worker compares its live IMAP sessions
// with Max-Connections.
const fullCheckInterval = 20 * time.Millisecond

// workerState is the worker side of the link.
type workerState struct {
	opts  *WorkerOptions
	conn  *net.UnixConn // the link; nil if it is not a socket (then no KEEP)
	rw    io.ReadWriter // the link, conn when there is one
	wmu   sync.Mutex    // serialises writes to the link
	drain chan struct{}
	once  sync.Once
}

func newWorkerState(o *WorkerOptions) *workerState {
	ws := &workerState{opts: o, drain: make(chan struct{}), rw: o.Link}
	// The link becomes a *net.UnixConn (to pass descriptors), used alone
	// from now on: FileConn makes the socket non-blocking, which the
	// os.File must then no longer read.
	if c, err := net.FileConn(o.Link); err == nil {
		if uc, ok := c.(*net.UnixConn); ok {
			ws.conn, ws.rw = uc, uc
			o.Link.Close()
		}
	}
	return ws
}

// send writes one message to the supervisor.
func (ws *workerState) send(msg string) {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	io.WriteString(ws.rw, msg+"\n")
}

// keep hands the supervisor a duplicate of a listening socket this worker
// bound itself, so that the next generations inherit it; nothing outside a
// worker.
func (in *instance) keep(ln net.Listener) {
	ws := in.worker
	if ws == nil || ws.conn == nil {
		return
	}
	fds, err := rawFDs([]net.Listener{ln})
	if err != nil {
		in.logger.Warn("listener not handed to the supervisor; a later worker binds it itself", "addr", ln.Addr().String(), "err", err)
		return
	}
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	if _, _, err := ws.conn.WriteMsgUnix([]byte(linkKeep+"\n"), syscall.UnixRights(int(fds[0])), nil); err != nil {
		in.logger.Warn("listener not handed to the supervisor; a later worker binds it itself", "addr", ln.Addr().String(), "err", err)
	}
}

// unbind closes a listener a reload stopped and tells the supervisor to
// close its copy, so that the port refuses connections.
func (in *instance) unbind(ln *boundListener) {
	ln.close()
	if in.worker != nil {
		a := ln.Addr()
		in.worker.send(linkDrop + " " + a.Network() + " " + a.String())
	}
}

// listen reads the supervisor's messages until the link ends. A link that
// ends means the supervisor is gone: Pdeathsig has already killed us, or
// it is about to, so nothing more is done here.
func (in *instance) listenLink(ctx context.Context) {
	ws := in.worker
	sc := bufio.NewScanner(ws.rw)
	for sc.Scan() {
		word, arg, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case linkDrain:
			ws.once.Do(func() { close(ws.drain) })
		case linkNotice:
			in.reportNoticeFile(ctx, arg)
		}
	}
}

// watchFull tells the supervisor once that IMAP holds Max-Connections
// sessions (0 turns the rollover off). The worker keeps accepting until
// the supervisor answers with DRAIN, once the next worker serves: so no
// client is refused or waits (docs/supervisor.md).
func (in *instance) watchFull(ctx context.Context) {
	limit := in.cfgNow().IMAP.MaxConnections
	if limit <= 0 {
		return
	}
	t := time.NewTicker(fullCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.worker.drain:
			return
		case <-t.C:
			if in.conns.Count("imap") >= limit {
				in.logger.Info("worker full; asking for the next one", "proto", "imap", "max_connections", limit)
				in.worker.send(linkFull + " imap")
				return
			}
		}
	}
}

// cfgNow returns the configuration under the lock a reload takes.
func (in *instance) cfgNow() *config.Config {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cfg
}

// drainWorker stops accepting on every listener (the sockets stay open:
// the supervisor and the next worker hold them), stops the background
// work the serving worker does (the outbound queue runner), then lets each
// service's sessions go on until they end or its Drain-Timeout passes, when
// the service says goodbye to what is left (Shutdown-Timeout bounds that).
func (in *instance) drainWorker() {
	in.logger.Info("worker draining", "generation", in.worker.opts.Generation)
	if in.metrics != nil {
		in.metrics.Close()
	}
	var wg sync.WaitGroup
	for _, s := range append(in.retired, in.services...) {
		s.closeListeners()
		if b, ok := s.impl.(interface{ StopBackground() }); ok {
			b.StopBackground()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.drainService(s)
		}()
	}
	wg.Wait()
	in.logger.Info("worker drained", "generation", in.worker.opts.Generation)
}

// drainService waits for s's sessions to end, at most its Drain-Timeout,
// then shuts it down.
func (in *instance) drainService(s *service) {
	deadline := time.Now().Add(drainTimeout(in.cfgNow(), s.name))
	for in.conns.Count(s.name) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := in.conns.Count(s.name); n > 0 {
		in.logger.Info("drain timeout; closing sessions", "service", s.name, "sessions", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.cfgNow().ShutdownTimeout)
	defer cancel()
	if err := s.shutdown(ctx); err != nil {
		in.logger.Warn("service did not stop in time; connections closed", "service", s.name, "err", err)
	}
}

// drainTimeout is the Drain-Timeout of the section of service name.
func drainTimeout(cfg *config.Config, name string) time.Duration {
	switch name {
	case "imap":
		return cfg.IMAP.DrainTimeout
	case "pop3":
		return cfg.POP.DrainTimeout
	case "smtp":
		return cfg.SMTP.DrainTimeout
	case "lmtp":
		return cfg.LMTP.DrainTimeout
	case "managesieve":
		return cfg.ManageSieve.DrainTimeout
	}
	return cfg.ShutdownTimeout
}

// noticeFile is what the supervisor writes about a process that ended
// abnormally, for a worker to send the Postmaster notice (it has the store).
type noticeFile struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Role is "server" for a supervisor of an earlier run, "worker" for
	// a worker of this one.
	Role    string   `json:"role"`
	Status  string   `json:"status,omitempty"` // the wait status, for a worker
	Crash   string   `json:"crash,omitempty"`
	LogTail []string `json:"log_tail"`
}

func (n *noticeFile) lastRun() *lastRun {
	return &lastRun{pid: n.PID, started: n.Started, crash: n.Crash, logTail: n.LogTail, role: n.Role, status: n.Status}
}

func writeNoticeFile(path string, r *lastRun) error {
	b, err := json.Marshal(noticeFile{PID: r.pid, Started: r.started, Role: r.role, Status: r.status,
		Crash: r.crash, LogTail: r.logTail})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// reportNoticeFile sends the notice the file describes, then removes it.
func (in *instance) reportNoticeFile(ctx context.Context, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		in.logger.Error("failure notice not sent", "err", err)
		return
	}
	os.Remove(path)
	var n noticeFile
	if err := json.Unmarshal(b, &n); err != nil {
		in.logger.Error("failure notice not sent", "err", fmt.Errorf("%s: %w", path, err))
		return
	}
	in.reportLastRun(ctx, n.lastRun())
}

// workerFileReader is the worker's reader of certificates through the
// supervisor; nil when the supervisor has none.
func workerFileReader(o *WorkerOptions) *server.FileReader {
	if o == nil {
		return nil
	}
	return o.FileReader
}

// shareTable makes a worker's admission Table count in the supervisor, so
// that the caps hold for every worker generation together
// (docs/supervisor.md); it stays local outside a worker, or if the
// supervisor cannot be asked.
func (in *instance) shareTable(t *admission.Table, name string, l admission.Limits) {
	w := in.opts.Worker
	if w == nil || w.Admission == nil {
		return
	}
	r, err := w.Admission.Table(name, l)
	if err != nil {
		in.logger.Warn("admission counted in this worker alone", "table", name, "err", err)
		return
	}
	t.Share(r)
}
