package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
	"github.com/postern/postern/internal/smtp/queue"
	"github.com/postern/postern/internal/store"
)

// reclaimInterval is how often the server removes message content that
// expunges left unreferenced (the original's PURGE/RECLAIM).
const reclaimInterval = 10 * time.Minute

// storeWatchInterval is how soon sessions see changes that another process
// (`postern deliver`, `postern import`) committed to the store.
const storeWatchInterval = 200 * time.Millisecond

// ServeOptions are the inputs of Serve.
type ServeOptions struct {
	Config     *config.Config
	ConfigPath string // "" in quickstart mode
	Quickstart bool
	Stdout     io.Writer
	Stderr     io.Writer
	Environ    func() []string
	// Worker, when set, runs this process as a worker of a supervisor
	// (`postern worker`); nil runs the supervisor (`postern serve`).
	Worker *WorkerOptions
	// UpgradeLink, when set, is where this supervisor reports to the one
	// it replaces that it serves (`postern ctl upgrade`).
	UpgradeLink *os.File
}

// instance is one running server process.
type instance struct {
	opts    ServeOptions
	cfg     *config.Config
	started time.Time

	level  *slog.LevelVar
	levels []*slog.LevelVar // the sections' own levels, for ctl loglevel
	// sectionLevels are the same by logger name (imap, pop3, smtp, lmtp),
	// for a reload to set each from its section's Log-Level.
	sectionLevels map[string][]*slog.LevelVar
	format        observe.Format // Log-Format
	logger        *slog.Logger
	runLog        *observe.RunLog
	memory        *admission.MemoryWatch // nil without a memory limit
	events        *observe.EventLog
	conns         *observe.Conns
	stats         map[string]*observe.Stats // per protocol, for ctl stats

	store    store.Store
	outbound atomic.Pointer[queue.Queue] // the SMTP service's queue, for Sieve redirect and vacation; nil without SMTP
	auth     authShared
	accountHelpers
	tls        *tlsSet
	fileReader *server.FileReader // reads certificates with root's access after the drop; nil if not needed
	services   []*service
	reserve    *admission.Reserve // spare descriptors of every listener
	trusted    []netip.Prefix     // Trusted-Networks
	ctl        *server.ControlServer
	metrics    *http.Server

	stopOnce sync.Once
	stop     chan struct{} // closed to ask for a graceful shutdown

	inherited *server.Inherited // sockets passed by socket activation or the supervisor; nil without
	worker    *workerState      // nil in the supervisor
	metricsLn net.Listener      // the inherited metrics socket of a worker; nil when it binds its own
	prev      *lastRun          // the previous run, when it did not stop cleanly
	hooks     sync.WaitGroup    // Startup-Command while it runs

	// reloads carries `postern ctl reload` to the run loop, which alone
	// changes cfg, services and retired (reconcile.go).
	reloads chan reloadRequest
	// retired are services a reload turned off: no listener, sessions
	// still served until they end or the server stops.
	retired []*service
	// mu guards what other goroutines read while a reload changes it: the
	// cfg pointer, stats, levels and sectionLevels.
	mu sync.Mutex
}

// Serve runs the server until ctx is cancelled (SIGTERM, SIGINT) or a
// shutdown is requested over the control socket, then stops gracefully.
// Without opts.Worker it is the supervisor, which runs the protocols in
// worker processes (supervisor.go); with it, it is one of those workers.
func Serve(ctx context.Context, opts ServeOptions) error {
	if opts.Worker == nil {
		return supervise(ctx, opts)
	}
	in := newInstance(opts)
	in.worker = newWorkerState(opts.Worker)
	// SIGHUP is caught from the first moment: its default action ends the
	// process, and a reload signal sent while the server starts (a log
	// rotation, an eager script after the banner) must not kill it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// First of all, before any child process starts: sockets passed by
	// systemd's socket activation become close-on-exec listeners.
	inh, err := server.Inherit()
	if err != nil {
		return err
	}
	in.inherited = inh
	if err := in.start(ctx); err != nil {
		in.close()
		return err
	}
	err = in.run(ctx, hup)
	in.shutdown()
	return err
}

func newInstance(opts ServeOptions) *instance {
	return &instance{
		opts: opts, cfg: opts.Config, started: time.Now(), stop: make(chan struct{}), reloads: make(chan reloadRequest),
		conns: observe.NewConns(), stats: make(map[string]*observe.Stats),
	}
}

// start prepares everything that can fail before the server reports
// itself running. The order matters: directories and logs first; the
// certificate and key are read while still privileged (a key readable only
// by root is the usual case); every port is bound before the drop to
// Run-As-User; the store is opened after it, so every file it creates
// belongs to that account.
func (in *instance) start(ctx context.Context) error {
	cfg := in.cfg
	if err := PrepareDirs(cfg); err != nil {
		return err
	}
	if err := in.openLogs(); err != nil {
		return err
	}
	applyMemoryLimit(cfg, in.logger)
	in.memory = in.watchMemory(ctx)
	for _, w := range cfg.Warnings() {
		in.logger.Warn("configuration", "warning", w.Error())
	}
	in.fileReader = workerFileReader(in.opts.Worker)
	var read func(string) ([]byte, fs.FileMode, error)
	if in.fileReader != nil {
		read = in.fileReader.ReadFile
	}
	tls, err := loadTLS(cfg, in.logger, read)
	if err != nil {
		return err
	}
	in.tls = tls
	for _, n := range cfg.TrustedNetworks {
		p, err := config.ParseNetwork(n) // validated by config already
		if err != nil {
			return fmt.Errorf("Trusted-Networks: %w", err)
		}
		in.trusted = append(in.trusted, p)
	}
	if in.metricsLn, err = takeMetrics(in.inherited, cfg.MetricsAddress); err != nil {
		return err
	}
	if err := in.bind(ctx); err != nil {
		return err
	}
	if in.inherited != nil {
		if rest := in.inherited.Rest(); len(rest) > 0 {
			// Kept, not closed: a reload that turns their port on takes them.
			in.logger.Warn("socket activation: inherited sockets the configuration does not use", "sockets", strings.Join(rest, ", "))
		}
	}
	in.startAccountHelpers() // the system source: the supervisor's helper, or one started as root
	if err := server.DropPrivileges(cfg.RunAsUser); err != nil {
		return err
	}
	st, err := OpenStore(ctx, cfg, StoreOptions{Logger: in.logger.With("pkg", "store"), WatchInterval: storeWatchInterval})
	if err != nil {
		return err
	}
	in.store = st
	if in.opts.Quickstart {
		if err := ensureDemoUser(ctx, st, cfg, in.opts.Stdout); err != nil {
			return err
		}
	}
	if err := in.startServices(); err != nil {
		return err
	}
	if err := in.startControl(); err != nil {
		return err
	}
	in.setCrashOutput()
	return nil
}

func (in *instance) openLogs() error {
	cfg := in.cfg
	lvl, err := observe.ParseLevel(string(cfg.LogLevel))
	if err != nil {
		return err
	}
	in.level = new(slog.LevelVar)
	in.level.Set(lvl)
	runLog, err := observe.OpenRunLog(cfg.LogDirectory)
	if err != nil {
		return fmt.Errorf("open run log: %w", err)
	}
	in.runLog = runLog
	in.format, err = observe.ParseFormat(cfg.LogFormat)
	if err != nil {
		return err
	}
	in.logger = observe.NewLogger(io.MultiWriter(in.opts.Stderr, runLog), in.level, in.format)
	events, err := observe.OpenEventLog(cfg.LogDirectory, observe.NodeName(cfg.Hostname), observe.EventLogOptions{})
	if err != nil {
		return fmt.Errorf("open event log: %w", err)
	}
	in.events = events
	return nil
}

// run waits for the end: a signal, a control-socket shutdown, or a fatal
// listener error. SIGHUP reloads what can be reloaded.
func (in *instance) run(ctx context.Context, hup <-chan os.Signal) error {
	w := in.worker.opts
	if w.First {
		in.events.Event("START", slog.String("version", VersionString()), slog.String("config", in.opts.ConfigPath))
		in.logger.Info("server started", "version", VersionString(), "config", in.opts.ConfigPath, "quickstart", in.opts.Quickstart)
	}
	in.logger.Info("worker serving", "generation", w.Generation, "pid", os.Getpid())
	if w.Notice != "" {
		in.reportNoticeFile(ctx, w.Notice)
	}
	go in.listenLink(ctx)
	go in.watchFull(ctx)
	in.worker.send(linkReady)
	if w.First {
		// After READY: whoever reads the banner finds the supervisor
		// knowing its serving worker (ctl stats answers at once).
		in.printBanner()
	}
	reclaim := time.NewTicker(reclaimInterval)
	defer reclaim.Stop()
	for {
		select {
		case <-ctx.Done():
			in.logger.Info("shutdown requested", "reason", "signal")
			in.requestStop() // /healthz says "stopping" from now on
			return nil
		case <-in.stop:
			// XTND SHUTDOWN: the whole server stops, not this worker alone.
			in.logger.Info("shutdown requested", "reason", "control")
			in.worker.send(linkShutdown)
			return nil
		case <-in.worker.drain:
			in.drainWorker()
			return nil
		case <-hup:
			in.reload(ctx)
		case req := <-in.reloads:
			req.reply <- in.reload(ctx)
		case <-reclaim.C:
			n, err := in.store.Reclaim(ctx)
			if err != nil {
				in.logger.Error("reclaim failed", "err", err)
			} else if n > 0 {
				in.logger.Info("reclaimed message files", "count", n)
			}
			in.pruneExpunged(ctx)
		}
	}
}

// pruneExpunged removes the expunge log's entries older than
// store.ExpungeRetention (QRESYNC history, docs/imap.md).
func (in *instance) pruneExpunged(ctx context.Context) {
	p, ok := in.store.(store.ExpungePruner)
	if !ok {
		return
	}
	if n, err := p.PruneExpunged(ctx, time.Now().Add(-store.ExpungeRetention)); err != nil {
		in.logger.Error("prune expunge log failed", "err", err)
	} else if n > 0 {
		in.logger.Info("pruned expunge log", "count", n)
	}
}

// requestStop asks run to return; safe to call many times.
func (in *instance) requestStop() {
	in.stopOnce.Do(func() { close(in.stop) })
}

// reopenLogs reopens the run log and the event log by name, so that after
// logrotate renamed them (contrib/logrotate/postern) the server writes to
// new files. SIGHUP and `postern ctl reopen-logs` call it. A log that cannot
// be reopened keeps being written where it was.
func (in *instance) reopenLogs() error {
	var errs []error
	if err := in.runLog.Reopen(); err != nil {
		errs = append(errs, fmt.Errorf("run log: %w", err))
	}
	if err := in.events.Reopen(); err != nil {
		errs = append(errs, fmt.Errorf("event log: %w", err))
	}
	err := errors.Join(errs...)
	if err != nil {
		in.logger.Error("reopen logs failed", "err", err)
		return err
	}
	in.logger.Info("logs reopened", "run_log", in.runLog.Path(), "event_log", in.events.Path())
	return nil
}

// shutdown runs Shutdown-Command, stops the services gracefully within
// Shutdown-Timeout, then closes the store and the logs, logging peak memory on the way out (the
// original's "Peak virtual size" line).
func (in *instance) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range append(in.retired, in.services...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.shutdown(ctx); err != nil {
				in.logger.Warn("service did not stop in time; connections closed", "service", s.name, "err", err)
			}
		}()
	}
	wg.Wait()
	in.close()
}

func (in *instance) close() {
	if in.ctl != nil {
		in.ctl.Close()
	}
	if in.metrics != nil {
		in.metrics.Close()
	}
	for _, s := range append(in.retired, in.services...) {
		s.closeListeners()
	}
	if in.reserve != nil {
		in.reserve.Close()
	}
	in.inherited.Close()
	if in.store != nil {
		if err := in.store.Close(); err != nil && in.logger != nil {
			in.logger.Error("close store", "err", err)
		}
	}
	if in.logger != nil {
		observe.LogExit(in.logger)
	}
	if in.events != nil {
		in.events.Close()
	}
	if in.runLog != nil {
		in.runLog.Close()
	}
	if in.fileReader != nil {
		in.fileReader.Close()
	}
}

// startControl opens the control socket and the metrics listener.
func (in *instance) startControl() error {
	ctl, err := server.ListenControl(in.worker.opts.Control, in.logger, in.ctlHandlers())
	if err != nil {
		return err
	}
	in.ctl = ctl
	go ctl.Serve(context.Background())
	ln := in.metricsLn
	if ln == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", observe.MetricsHandlerFor(in.metricsGatherer()))
	mux.HandleFunc("/healthz", in.healthz)
	in.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := in.metrics.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			in.logger.Error("metrics listener failed", "err", err)
		}
	}()
	return nil
}

// healthzTimeout bounds the store check of /healthz.
const healthzTimeout = 5 * time.Second

// healthz answers 200 "ok" when the store can serve (store.Checker: the
// index answers, the spool takes a file), 503 with the reason otherwise,
// and 503 while the server stops, so a load balancer or a monitor stops
// sending clients before the listeners close.
func (in *instance) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	select {
	case <-in.stop:
		http.Error(w, "stopping", http.StatusServiceUnavailable)
		return
	default:
	}
	if c, ok := in.store.(store.Checker); ok {
		ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
		defer cancel()
		if err := c.Check(ctx); err != nil {
			in.logger.Warn("health check failed", "err", err)
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}
