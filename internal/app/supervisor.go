package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
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

// `postern serve` is a supervisor (docs/supervisor.md): it owns the
// listening sockets, the control socket, the logs' START/STOP, the site
// hooks and the running file, and runs the protocols in worker processes
// re-executed from its own binary. It serves no mail protocol itself.

// selfExe is this process's own binary on Linux.
const selfExe = "/proc/self/exe"

// errStoppedEarly is a stop asked for while the first worker started.
var errStoppedEarly = errors.New("stopped while starting")

// workerReadyTimeout bounds how long a new worker may take to serve.
const workerReadyTimeout = 2 * time.Minute

// supervisor is the state of `postern serve`. Only the run loop changes
// workers, serving, pending and the counters; ctl handlers read them under mu.
type supervisor struct {
	in    *instance // logs, hooks, running file, config, control socket
	exe   string    // the binary workers run: /proc/self/exe where there is one
	argv0 string    // its path, for ps
	socks []net.Listener
	fr    *server.FileReader   // root's certificate reader; nil when not needed
	sys   source.SystemChecker // the system source's privileged helper; nil when not used
	// verifier verifies passwords for every worker, with the cache and the
	// failed-login throttle (auth.ServeVerifier on each worker's socket).
	verifier *auth.LocalVerifier
	// tables count every worker's connections together (Service-Limit,
	// the per-address caps; admission.TableServer on each worker's socket).
	tables *admission.TableServer

	events  chan workerEvent
	backoff admission.Backoff
	retry   *time.Timer // pending restart or rollover; nil when none

	mu        sync.Mutex
	gen       int
	workers   []*worker
	serving   *worker // takes new connections
	pending   *worker // starting, to take over from serving
	rollovers int
	notices   []string // notice files waiting for a serving worker
	upgrading bool

	upgradeDone chan struct{} // an upgrade handed over: the run loop ends
}

// Serve's supervisor side.
func supervise(ctx context.Context, opts ServeOptions) error {
	in := newInstance(opts)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	inh, err := server.Inherit() // socket activation, or the supervisor we upgrade from
	if err != nil {
		return err
	}
	in.inherited = inh
	sv := &supervisor{in: in, events: make(chan workerEvent, 16), upgradeDone: make(chan struct{}, 1), tables: admission.NewTableServer(),
		backoff: admission.Backoff{Min: 100 * time.Millisecond, Max: 30 * time.Second}}
	err = sv.start(ctx)
	if err == nil {
		reportUpgraded(opts.UpgradeLink)
		// systemd (Type=notify, NotifyAccess=all): this process is the
		// service now, also after an upgrade.
		if nerr := server.Notify(fmt.Sprintf("MAINPID=%d\nREADY=1", os.Getpid())); nerr != nil {
			in.logger.Warn("cannot notify the service manager", "err", nerr)
		}
		err = sv.run(ctx, sigs)
	}
	sv.shutdown(err == errUpgraded)
	if err == errUpgraded || err == errStoppedEarly {
		return nil
	}
	return err
}

// start binds, drops privileges, opens the control socket and starts the
// first worker, returning once it serves.
func (sv *supervisor) start(ctx context.Context) error {
	in, cfg := sv.in, sv.in.cfg
	if err := PrepareDirs(cfg); err != nil {
		return err
	}
	in.prev = readLastRun(cfg) // before this run writes a log line
	if err := in.openLogs(); err != nil {
		return err
	}
	// The log files just created belong to Run-As-User too: the workers
	// open them after the drop.
	if err := giveFiles(cfg.RunAsUser, in.runLog.Path(), in.events.Path()); err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		in.logger.Warn("configuration", "warning", w.Error())
	}
	if in.opts.Quickstart {
		if err := prepareQuickstartTLS(cfg); err != nil {
			return err
		}
	}
	sv.fr = startFileReader(cfg, in.opts.ConfigPath, in.logger)
	in.fileReader = sv.fr
	sv.sys = startSystemHelper(cfg, in.logger) // before the drop: it reads /etc/shadow
	if err := sv.startVerifier(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the postern binary for the workers: %w", err)
	}
	sv.exe, sv.argv0 = exe, exe
	// Workers run this very binary, whatever has replaced the file since
	// (a package upgrade takes effect through ctl upgrade), and /proc/self/exe
	// reaches it after the drop to Run-As-User even when that account may
	// not enter the binary's directory (a process may always read its own
	// /proc/self links).
	if _, err := os.Stat(selfExe); err == nil {
		sv.exe = selfExe
	}
	if err := sv.bindAll(ctx); err != nil {
		return err
	}
	if in.inherited != nil {
		in.logger.Info("socket activation: listening on inherited sockets")
	}
	if err := server.DropPrivileges(cfg.RunAsUser); err != nil {
		return err
	}
	if err := sv.startControl(); err != nil {
		return err
	}
	sv.removeStale()
	notice := ""
	if in.prev != nil {
		notice = sv.noticePath(0)
		if err := writeNoticeFile(notice, in.prev); err != nil {
			in.logger.Error("failure notice not sent", "err", err)
			notice = ""
		}
	}
	w, err := sv.spawn(true, notice)
	if err != nil {
		return err
	}
	if err := sv.awaitFirst(ctx, w); err != nil {
		return err
	}
	in.markRunning()
	return nil
}

// awaitFirst waits for the first worker to serve; its failure is the
// server's failure to start (a bad certificate, a store that cannot open:
// the worker said why on stderr).
func (sv *supervisor) awaitFirst(ctx context.Context, w *worker) error {
	timeout := time.NewTimer(workerReadyTimeout)
	defer timeout.Stop()
	for {
		select {
		case ev := <-sv.events:
			if ev.w != w {
				continue
			}
			switch ev.kind {
			case evReady:
				sv.handle(ctx, ev)
				return nil
			case evExit:
				sv.drop(w)
				return fmt.Errorf("the server did not start (worker %s)", ev.status)
			}
		case <-timeout.C:
			w.proc.Kill()
			return errors.New("the server did not start: its worker was not ready in time")
		case <-ctx.Done():
			// SIGTERM or SIGINT before the first worker served: a stop,
			// not a failure; shutdown stops the worker.
			return errStoppedEarly
		}
	}
}

// bindAll binds every socket the workers serve, in the order of the
// protocol table, taking inherited ones first (socket activation, an
// upgrade), before the privilege drop so that ports below 1024 work.
func (sv *supervisor) bindAll(ctx context.Context) error {
	cfg, inh := sv.in.cfg, sv.in.inherited
	for _, p := range protocols() {
		if !p.enabled(cfg) || p.build == nil {
			continue
		}
		for _, spec := range p.specs(cfg) {
			if spec.port == 0 {
				continue
			}
			lns, err := server.ListenInherited(ctx, inh, cfg.ListenAddress, spec.port)
			if err != nil {
				return fmt.Errorf("%s: %w", spec.label, err)
			}
			sv.socks = append(sv.socks, lns...)
		}
		if p.name == "lmtp" && cfg.LMTP.Socket != "" {
			ln, _, err := bindLMTPSocket(inh, cfg.LMTP.Socket)
			if err != nil {
				return err
			}
			sv.socks = append(sv.socks, ln)
		}
	}
	ln, err := takeMetrics(inh, cfg.MetricsAddress)
	if err != nil {
		return err
	}
	if ln != nil {
		sv.socks = append(sv.socks, ln)
	}
	return nil
}

// takeMetrics returns the inherited socket of Metrics-Address, else binds
// it; nil when the option is off.
func takeMetrics(inh *server.Inherited, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("Metrics-Address: %w", err)
	}
	if n, err := strconv.Atoi(port); err == nil && n != 0 {
		if ln := inh.TakeTCP(host, n); ln != nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("Metrics-Address: %w", err)
	}
	return ln, nil
}

// startControl serves the control socket: the one inherited in an
// upgrade, else a new one.
func (sv *supervisor) startControl() error {
	in := sv.in
	if ln := in.inherited.TakeUnix(in.cfg.ControlSocket); ln != nil {
		in.ctl = server.ServeControlOn(ln, in.cfg.ControlSocket, in.logger, sv.ctlHandlers())
	} else {
		ctl, err := server.ListenControl(in.cfg.ControlSocket, in.logger, sv.ctlHandlers())
		if err != nil {
			return err
		}
		in.ctl = ctl
	}
	go in.ctl.Serve(context.Background())
	return nil
}

// run waits for the end (a signal, ctl shutdown, a finished upgrade) and
// meanwhile starts, rolls over and restarts workers.
func (sv *supervisor) run(ctx context.Context, sigs <-chan os.Signal) error {
	in := sv.in
	in.logger.Info("supervisor started", "pid", os.Getpid(), "max_connections", in.cfg.IMAP.MaxConnections)
	in.hooks.Add(1)
	startup := in.cfg.StartupCommand
	go func() {
		defer in.hooks.Done()
		in.runHook("startup", startup)
	}()
	for {
		var retry <-chan time.Time
		if sv.retry != nil {
			retry = sv.retry.C
		}
		select {
		case <-ctx.Done():
			in.logger.Info("shutdown requested", "reason", "signal")
			in.requestStop()
			return nil
		case <-in.stop:
			in.logger.Info("shutdown requested", "reason", "control")
			return nil
		case sig := <-sigs:
			if sig == syscall.SIGUSR2 {
				go sv.upgrade(ctx, "")
				continue
			}
			// The serving worker reloads; a draining one only reopens its
			// logs (a reload there could bind a port it must not serve).
			in.reopenLogs()
			sv.hupWorkers()
		case ev := <-sv.events:
			sv.handle(ctx, ev)
		case <-retry:
			sv.retry = nil
			sv.startNext()
		case <-sv.upgradeDone:
			return errUpgraded
		}
	}
}

// shutdown stops the workers (each stops gracefully within
// Shutdown-Timeout, or drains after an upgrade), then closes what the
// supervisor holds. After an upgrade the running file, the sockets and the
// hooks belong to the new supervisor.
func (sv *supervisor) shutdown(upgraded bool) {
	in := sv.in
	if !upgraded && in.logger != nil {
		server.Notify("STOPPING=1")
		in.runHook("shutdown", in.cfg.ShutdownCommand)
		in.hooks.Wait()
	}
	sv.stopWorkers(upgraded)
	sv.mu.Lock()
	socks := sv.socks
	sv.socks = nil
	sv.mu.Unlock()
	if upgraded {
		in.ctl.Keep()
		for _, ln := range socks {
			if ul, ok := ln.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
			}
		}
	}
	for _, ln := range socks {
		ln.Close()
	}
	if in.events != nil && !upgraded {
		in.events.Event("STOP")
	}
	in.close()
	if !upgraded && in.logger != nil {
		in.markStopped()
	}
}

// stopWorkers asks every worker to stop (SIGTERM: a graceful shutdown) or,
// after an upgrade, to drain, and waits for them all.
func (sv *supervisor) stopWorkers(drain bool) {
	sv.mu.Lock()
	ws := append([]*worker(nil), sv.workers...)
	sv.mu.Unlock()
	for _, w := range ws {
		if drain {
			w.send(linkDrain)
		} else {
			w.proc.Signal(syscall.SIGTERM)
		}
	}
	limit := sv.in.cfg.ShutdownTimeout + 10*time.Second
	if drain {
		limit += maxDrainTimeout(sv.in.cfg)
	}
	deadline := time.After(limit)
	for _, w := range ws {
		select {
		case <-w.exited:
		case <-deadline:
			w.proc.Kill()
			<-w.exited
		}
	}
}

// maxDrainTimeout is the longest Drain-Timeout of any section.
func maxDrainTimeout(cfg *config.Config) time.Duration {
	d := cfg.IMAP.DrainTimeout
	for _, o := range []time.Duration{cfg.POP.DrainTimeout, cfg.SMTP.DrainTimeout, cfg.LMTP.DrainTimeout, cfg.ManageSieve.DrainTimeout} {
		d = max(d, o)
	}
	return d
}

// hupWorkers sends SIGHUP (reload) to the serving worker and asks the
// others to reopen their logs.
func (sv *supervisor) hupWorkers() {
	sv.mu.Lock()
	serving := sv.serving
	sv.mu.Unlock()
	for _, w := range sv.live() {
		if w == serving {
			w.proc.Signal(syscall.SIGHUP)
			continue
		}
		go server.CtlRequest(context.Background(), w.ctlPath, "reopen-logs", io.Discard)
	}
}

// startVerifier builds the password verifier every worker asks, from
// Auth-Cache-TTL, Auth-Hash-Concurrency, Memory-Limit and
// Trusted-Networks; its Memory-Limit applies to this process too, where
// the argon2id memory is now spent.
func (sv *supervisor) startVerifier() error {
	cfg := sv.in.cfg
	var trusted []netip.Prefix
	for _, n := range cfg.TrustedNetworks {
		p, err := config.ParseNetwork(n)
		if err != nil {
			return fmt.Errorf("Trusted-Networks: %w", err)
		}
		trusted = append(trusted, p)
	}
	applyMemoryLimit(cfg, sv.in.logger)
	sv.verifier = newLocalVerifier(cfg, trusted)
	sv.in.logger.Info("password verification",
		"hash_concurrency", sv.verifier.Hasher.Concurrency(), "auth_cache_ttl", sv.verifier.Cache.TTL())
	return nil
}

// serveVerifier answers worker gen's verifications on conn until it ends.
func (sv *supervisor) serveVerifier(conn *os.File, gen int) {
	defer conn.Close()
	c, err := net.FileConn(conn)
	if err != nil {
		sv.in.logger.Error("password verifier: worker socket", "generation", gen, "err", err)
		return
	}
	defer c.Close()
	if err := auth.ServeVerifier(c, sv.verifier); err != nil && !errors.Is(err, net.ErrClosed) {
		sv.in.logger.Warn("password verifier: worker link ended", "generation", gen, "err", err)
	}
}

// serveTables answers worker gen's admission requests on conn until it
// ends, when the slots it still held are released.
func (sv *supervisor) serveTables(conn *os.File, gen int) {
	defer conn.Close()
	if err := sv.tables.Serve(conn); err != nil && !errors.Is(err, os.ErrClosed) {
		sv.in.logger.Warn("admission: worker link ended", "generation", gen, "err", err)
	}
}

// noticePath names the notice file about process pid.
func (sv *supervisor) noticePath(pid int) string {
	return fmt.Sprintf("%s/postern-notice-%d.json", sv.in.cfg.DataDirectory, pid)
}

// readFile gives workers root's reading of the certificate files.
func (sv *supervisor) readFile(path string) ([]byte, fs.FileMode, error) {
	return sv.fr.ReadFile(path)
}

// logWorkerExit logs a worker's end and writes a WORKER event.
func (sv *supervisor) logWorkerExit(w *worker, status string, abnormal bool) {
	log := sv.in.logger.Info
	if abnormal {
		log = sv.in.logger.Error
	}
	log("worker exited", "generation", w.gen, "pid", w.pid, "status", status)
	sv.in.events.Event("WORKER", slog.Int("generation", w.gen), slog.Int("pid", w.pid), slog.String("status", status))
}

// giveFiles gives files to the account name when the process runs as root
// and will drop to it (server.HandOver does the same for whole directories,
// but skips one the account owns already).
func giveFiles(name string, paths ...string) error {
	if name == "" || os.Getuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("Run-As-User %q: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Lchown(p, uid, gid); err != nil {
			return fmt.Errorf("hand %s over to %s: %w", p, name, err)
		}
	}
	return nil
}

// removeStale removes the worker control sockets that a supervisor which
// is gone left behind (a kill -9), and the throttle hand-over files of
// earlier versions (the throttle now lives in the supervisor); those of a
// live one (the old supervisor of an upgrade, still draining) stay.
func (sv *supervisor) removeStale() {
	cfg := sv.in.cfg
	for _, pattern := range []string{
		filepath.Join(filepath.Dir(cfg.ControlSocket), "worker-*-*.sock"),
		filepath.Join(cfg.DataDirectory, "postern-throttle-*-*.json"),
	} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			f := strings.Split(strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), "-")
			pid, err := strconv.Atoi(f[len(f)-2])
			if err != nil || pid == os.Getpid() || isServing(pid) {
				continue
			}
			os.Remove(p)
		}
	}
}
