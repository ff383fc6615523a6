package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
)

// worker is one worker process as the supervisor sees it.
type worker struct {
	gen     int
	pid     int
	proc    *os.Process
	started time.Time
	readyAt time.Time
	ctlPath string
	link    *net.UnixConn
	wmu     sync.Mutex
	exited  chan struct{}
}

// send writes one link message; a dead worker's link just fails.
func (w *worker) send(msg string) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	io.WriteString(w.link, msg+"\n")
}

// workerEvent is what a worker's link or its end tells the run loop.
type workerEvent struct {
	w      *worker
	kind   string // evReady, evFull, evExit
	status string // evExit: the wait status
	clean  bool   // evExit: exit status 0
}

const (
	evReady = "ready"
	evFull  = "full"
	evExit  = "exit"
)

// spawn starts the next worker generation: the same binary, `postern
// worker`, with every socket as descriptors 3 … 3+n-1, then its link and,
// when the supervisor has one, its line to the certificate reader. It is a
// direct child in its own process group (a terminal's ^C reaches only the
// supervisor, which stops it gracefully) that the kernel kills when the
// supervisor dies (Pdeathsig).
func (sv *supervisor) spawn(first bool, notice string) (*worker, error) {
	in := sv.in
	sv.mu.Lock()
	sv.gen++
	gen := sv.gen
	sv.mu.Unlock()
	socks := sv.sockets()
	fds, err := rawFDs(socks)
	if err != nil {
		return nil, fmt.Errorf("pass the sockets to a worker: %w", err)
	}
	ours, theirs, err := rawPair("worker-link")
	if err != nil {
		return nil, err
	}
	defer syscall.Close(int(theirs))
	fds = append(fds, theirs)
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		return nil, fmt.Errorf("worker link: %w", err)
	}
	w := &worker{gen: gen, link: conn.(*net.UnixConn), exited: make(chan struct{}),
		ctlPath: filepath.Join(filepath.Dir(in.cfg.ControlSocket), fmt.Sprintf("worker-%d-%d.sock", os.Getpid(), gen))}
	args := []string{sv.argv0, "worker", "--generation", strconv.Itoa(gen), "--link-fd", strconv.Itoa(2 + len(fds)),
		"--control", w.ctlPath}
	if sv.fr != nil {
		frOurs, frTheirs, err := rawPair("worker-file-reader")
		if err != nil {
			conn.Close()
			return nil, err
		}
		defer syscall.Close(int(frTheirs))
		fds = append(fds, frTheirs)
		args = append(args, "--file-reader-fd", strconv.Itoa(2+len(fds)))
		go func() {
			server.ServeFileReaderWith(frOurs, sv.readFile)
			frOurs.Close()
		}()
	}
	// Password verification, its cache and the throttle: the
	// supervisor's, one for every worker (auth.ServeVerifier).
	vOurs, vTheirs, err := rawPair("worker-verifier")
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer syscall.Close(int(vTheirs))
	fds = append(fds, vTheirs)
	args = append(args, "--verifier-fd", strconv.Itoa(2+len(fds)))
	go sv.serveVerifier(vOurs, gen)
	// Admission: one count of every worker's connections per service.
	aOurs, aTheirs, err := rawPair("worker-admission")
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer syscall.Close(int(aTheirs))
	fds = append(fds, aTheirs)
	args = append(args, "--admission-fd", strconv.Itoa(2+len(fds)))
	go sv.serveTables(aOurs, gen)
	if sv.sys != nil {
		// The system account source's questions, relayed to the helper
		// (docs/accounts.md): verdicts only, never a hash.
		saOurs, saTheirs, err := rawPair("worker-system-accounts")
		if err != nil {
			ours.Close()
			return nil, err
		}
		defer syscall.Close(int(saTheirs))
		fds = append(fds, saTheirs)
		args = append(args, "--system-accounts-fd", strconv.Itoa(2+len(fds)))
		go func() {
			source.ServeSystemChecker(saOurs, sv.sys)
			saOurs.Close()
		}()
	}
	if in.opts.ConfigPath != "" {
		args = append(args, "--config", in.opts.ConfigPath)
	}
	if first {
		args = append(args, "--first")
	}
	if notice != "" {
		args = append(args, "--notice", notice)
	}
	env := append(os.Environ(), server.PassEnv(len(socks))...)
	proc, err := forkExec(sv.exe, args, env, fds, in.opts.Stdout, in.opts.Stderr,
		&syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("start a worker: %w", err)
	}
	w.proc, w.pid, w.started = proc, proc.Pid, time.Now()
	sv.mu.Lock()
	sv.workers = append(sv.workers, w)
	sv.pending = w
	sv.mu.Unlock()
	in.logger.Info("worker started", "generation", gen, "pid", w.pid)
	go sv.readLink(w)
	return w, nil
}

// readLink turns a worker's link messages and its end into events.
func (sv *supervisor) readLink(w *worker) {
	buf, oob := make([]byte, 4096), make([]byte, syscall.CmsgSpace(4*8))
	var line []byte
	var fds []int // received with KEEP lines, in order
	for {
		n, oobn, _, _, err := w.link.ReadMsgUnix(buf, oob)
		fds = append(fds, receivedFDs(oob[:oobn])...)
		line = append(line, buf[:n]...)
		for {
			i := bytes.IndexByte(line, '\n')
			if i < 0 {
				break
			}
			msg := string(line[:i])
			line = line[i+1:]
			fds = sv.linkMessage(w, msg, fds)
		}
		if err != nil || n == 0 {
			break
		}
	}
	for _, fd := range fds {
		syscall.Close(fd)
	}
	status, clean := "unknown", false
	if st, err := w.proc.Wait(); err == nil {
		status, clean = st.String(), st.Success()
	}
	w.link.Close()
	close(w.exited)
	sv.events <- workerEvent{w: w, kind: evExit, status: status, clean: clean}
}

// linkMessage acts on one message of w; a KEEP takes the first of fds.
func (sv *supervisor) linkMessage(w *worker, msg string, fds []int) []int {
	word, arg, _ := strings.Cut(msg, " ")
	switch word {
	case linkReady:
		sv.events <- workerEvent{w: w, kind: evReady}
	case linkFull:
		sv.events <- workerEvent{w: w, kind: evFull}
	case linkKeep:
		if len(fds) == 0 {
			break
		}
		sv.keepSocket(fds[0])
		fds = fds[1:]
	case linkDrop:
		network, addr, _ := strings.Cut(arg, " ")
		sv.dropSocket(network, addr)
	case linkShutdown:
		sv.in.logger.Info("shutdown requested by a worker", "generation", w.gen)
		sv.in.requestStop()
	}
	return fds
}

// receivedFDs returns the descriptors of SCM_RIGHTS messages in oob.
func receivedFDs(oob []byte) []int {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var out []int
	for i := range msgs {
		if fds, err := syscall.ParseUnixRights(&msgs[i]); err == nil {
			out = append(out, fds...)
		}
	}
	return out
}

// sockets returns the listening sockets workers get, in order.
func (sv *supervisor) sockets() []net.Listener {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return append([]net.Listener(nil), sv.socks...)
}

// keepSocket adds a socket a worker bound (a reload turned a port on), so
// that later generations and an upgrade get it; one the supervisor holds
// already is closed.
func (sv *supervisor) keepSocket(fd int) {
	f := os.NewFile(uintptr(fd), "kept-socket")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		sv.in.logger.Warn("a worker passed a descriptor that is not a listening socket", "err", err)
		return
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, s := range sv.socks {
		if s.Addr().Network() == ln.Addr().Network() && s.Addr().String() == ln.Addr().String() {
			ln.Close()
			return
		}
	}
	sv.socks = append(sv.socks, ln)
	sv.in.logger.Info("listening socket kept for later workers", "addr", ln.Addr().String())
}

// dropSocket closes the supervisor's copy of a socket a reload closed, so
// that the port refuses connections instead of queueing them.
func (sv *supervisor) dropSocket(network, addr string) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for i, s := range sv.socks {
		if s.Addr().Network() == network && s.Addr().String() == addr {
			s.Close()
			sv.socks = append(sv.socks[:i:i], sv.socks[i+1:]...)
			sv.in.logger.Info("listening socket closed", "addr", addr)
			return
		}
	}
}

// handle acts on one worker event.
func (sv *supervisor) handle(ctx context.Context, ev workerEvent) {
	w, in := ev.w, sv.in
	switch ev.kind {
	case evReady:
		sv.mu.Lock()
		if sv.pending != w {
			sv.mu.Unlock()
			return
		}
		old := sv.serving
		sv.serving, sv.pending = w, nil
		w.readyAt = time.Now()
		notices := sv.notices
		sv.notices = nil
		sv.mu.Unlock()
		in.logger.Info("worker ready", "generation", w.gen, "pid", w.pid)
		if old != nil {
			old.send(linkDrain)
		}
		for _, n := range notices {
			w.send(linkNotice + " " + n)
		}
	case evFull:
		sv.mu.Lock()
		start := sv.serving == w && sv.pending == nil && sv.retry == nil
		if start {
			sv.rollovers++
		}
		sv.mu.Unlock()
		if start {
			in.logger.Info("rollover", "from_generation", w.gen)
			sv.startNext()
		}
	case evExit:
		sv.exited(ev)
	}
}

// exited handles a worker's end: a serving or starting worker that ended
// is replaced after a back-off; an abnormal end is reported to the
// Postmasters by the serving worker.
func (sv *supervisor) exited(ev workerEvent) {
	w, in := ev.w, sv.in
	sv.mu.Lock()
	wasServing, wasPending := sv.serving == w, sv.pending == w
	sv.mu.Unlock()
	sv.drop(w)
	select {
	case <-in.stop: // stopping: the worker is not replaced
		sv.logWorkerExit(w, ev.status, !ev.clean)
		return
	default:
	}
	abnormal := !ev.clean || wasServing
	sv.logWorkerExit(w, ev.status, abnormal)
	if abnormal {
		sv.noticeWorker(w, ev.status)
	}
	if !wasServing && !wasPending {
		return
	}
	if !w.readyAt.IsZero() && time.Since(w.readyAt) > time.Minute {
		sv.backoff.Reset()
	}
	d := sv.backoff.Next()
	in.logger.Info("starting a new worker", "in", d.String())
	sv.retry = time.NewTimer(d)
}

// startNext starts a worker to take over from the serving one (a
// rollover) or to replace one that ended.
func (sv *supervisor) startNext() {
	sv.mu.Lock()
	busy := sv.pending != nil
	notice := ""
	if sv.serving == nil && len(sv.notices) > 0 {
		notice, sv.notices = sv.notices[0], sv.notices[1:]
	}
	sv.mu.Unlock()
	if busy {
		return
	}
	if _, err := sv.spawn(false, notice); err != nil {
		sv.in.logger.Error("cannot start a worker", "err", err)
		sv.retry = time.NewTimer(sv.backoff.Next())
	}
}

// drop forgets a worker that ended and removes its control socket.
func (sv *supervisor) drop(w *worker) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for i, x := range sv.workers {
		if x == w {
			sv.workers = append(sv.workers[:i:i], sv.workers[i+1:]...)
			break
		}
	}
	if sv.serving == w {
		sv.serving = nil
	}
	if sv.pending == w {
		sv.pending = nil
	}
	os.Remove(w.ctlPath)
}

// noticeWorker writes the notice file of a worker that ended abnormally
// and has the serving worker send it (or the next one, when none serves).
func (sv *supervisor) noticeWorker(w *worker, status string) {
	cfg := sv.in.cfg
	r := &lastRun{pid: w.pid, started: w.started, role: "worker", status: status}
	if fi, err := os.Stat(filepath.Join(cfg.LogDirectory, crashFile)); err == nil && fi.ModTime().After(w.started) {
		r.crash = tail(filepath.Join(cfg.LogDirectory, crashFile), crashBytes)
	}
	lines := strings.Split(strings.TrimRight(tail(filepath.Join(cfg.LogDirectory, observe.RunLogName), logTailBytes), "\n"), "\n")
	r.logTail = lines[max(0, len(lines)-logTailLines):]
	path := sv.noticePath(w.pid)
	if err := writeNoticeFile(path, r); err != nil {
		sv.in.logger.Error("failure notice not sent", "err", err)
		return
	}
	sv.mu.Lock()
	s := sv.serving
	if s == nil {
		sv.notices = append(sv.notices, path)
	}
	sv.mu.Unlock()
	if s != nil {
		s.send(linkNotice + " " + path)
	}
}

// forkExec starts path with argv and env, standard input from /dev/null,
// stdout and stderr as given, and extra as descriptors 3, 4, … It uses
// syscall.ForkExec and raw descriptors rather than exec.Cmd's ExtraFiles:
// os.File.Fd, which exec.Cmd calls, switches a socket to blocking mode,
// and a listening socket's mode is shared by every process that holds it,
// so a worker's Accept would then block in the kernel where Close cannot
// interrupt it (a draining worker would never stop).
func forkExec(path string, argv, env []string, extra []uintptr, stdout, stderr io.Writer, sys *syscall.SysProcAttr) (*os.Process, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	files := append([]uintptr{null.Fd(), fdOf(stdout), fdOf(stderr)}, extra...)
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: env, Files: files, Sys: sys})
	if err != nil {
		return nil, err
	}
	return os.FindProcess(pid)
}

// fdOf is the descriptor behind w, or standard error's when w has none.
func fdOf(w io.Writer) uintptr {
	if f, ok := w.(*os.File); ok {
		return f.Fd()
	}
	return os.Stderr.Fd()
}

// rawFDs returns the descriptors of lns, without duplicating them or
// changing their mode. They stay valid while lns are open.
func rawFDs(lns []net.Listener) ([]uintptr, error) {
	var out []uintptr
	for _, ln := range lns {
		sc, ok := ln.(syscall.Conn)
		if !ok {
			return nil, fmt.Errorf("%T has no descriptor", ln)
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return nil, err
		}
		if err := rc.Control(func(fd uintptr) { out = append(out, fd) }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rawPair returns a Unix stream socketpair: our end as a file, the child's
// as a raw close-on-exec descriptor (forkExec passes it on).
func rawPair(name string) (*os.File, uintptr, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: socketpair: %w", name, err)
	}
	return os.NewFile(uintptr(fds[0]), name), uintptr(fds[1]), nil
}
