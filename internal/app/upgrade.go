package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/postern/postern/internal/server"
)

// Upgrade without downtime (docs/supervisor.md): the supervisor starts a
// binary's `serve` with every socket it holds (listeners, control,
// metrics) and a line to report on; the new supervisor starts its first
// worker and writes READY; then the old one stops taking control
// commands, tells its workers to drain and exits when they have. A new
// binary that fails or is not ready in upgradeTimeout is killed, and the
// old supervisor goes on serving as if nothing happened.

// upgradeTimeout bounds how long the new binary may take to serve.
const upgradeTimeout = time.Minute

// errUpgraded ends the run loop of a supervisor that handed over.
var errUpgraded = errors.New("upgraded")

// ctlUpgrade is `postern ctl upgrade [PATH]`.
func (sv *supervisor) ctlUpgrade(ctx context.Context, args []string, w io.Writer) error {
	path := ""
	if len(args) > 0 {
		path = args[0]
	}
	pid, err := sv.upgrade(ctx, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "upgraded: process %d serves; process %d drains its sessions and exits\n", pid, os.Getpid())
	return nil
}

// upgrade starts path (default: this binary's path, read again) as the new
// supervisor and returns its PID once it serves.
func (sv *supervisor) upgrade(ctx context.Context, path string) (int, error) {
	in := sv.in
	sv.mu.Lock()
	if sv.upgrading {
		sv.mu.Unlock()
		return 0, errors.New("an upgrade is already running")
	}
	sv.upgrading = true
	sv.mu.Unlock()
	ok := false
	defer func() {
		if !ok {
			sv.mu.Lock()
			sv.upgrading = false
			sv.mu.Unlock()
		}
	}()
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return 0, err
		}
		path = exe
	}
	in.logger.Info("upgrade started", "binary", path)
	proc, link, err := sv.startUpgrade(path)
	if err != nil {
		in.logger.Error("upgrade failed; this server goes on", "binary", path, "err", err)
		return 0, err
	}
	if err := awaitUpgrade(ctx, link); err != nil {
		proc.Kill()
		in.logger.Error("upgrade failed; this server goes on", "binary", path, "err", err)
		return 0, fmt.Errorf("upgrade failed; this server goes on: %w", err)
	}
	ok = true
	pid := proc.Pid
	in.logger.Info("upgraded; draining", "new_pid", pid)
	in.events.Event("UPGRADE", slog.String("binary", path), slog.Int("new_pid", pid))
	// The new supervisor takes control commands from now on.
	in.ctl.Keep()
	go in.ctl.Close()
	sv.upgradeDone <- struct{}{}
	return pid, nil
}

// startUpgrade starts the new supervisor with every socket.
func (sv *supervisor) startUpgrade(path string) (*os.Process, *os.File, error) {
	in := sv.in
	lns := append(sv.sockets(), in.ctl.Listener())
	fds, err := rawFDs(lns)
	if err != nil {
		return nil, nil, err
	}
	ours, theirs, err := rawPair("upgrade-link")
	if err != nil {
		return nil, nil, err
	}
	defer syscall.Close(int(theirs))
	fds = append(fds, theirs)
	args := []string{path, "serve", "--upgrade-fd", strconv.Itoa(2 + len(fds))}
	if in.opts.ConfigPath != "" {
		args = append(args, "--config", in.opts.ConfigPath)
	}
	env := append(os.Environ(), server.PassEnv(len(lns))...)
	// Its own session: it outlives this process and its terminal group.
	proc, err := forkExec(path, args, env, fds, in.opts.Stdout, in.opts.Stderr, &syscall.SysProcAttr{Setsid: true})
	if err != nil {
		ours.Close()
		return nil, nil, err
	}
	go proc.Wait() // reap it if it ends while this process lives
	return proc, ours, nil
}

// awaitUpgrade waits for the new supervisor's READY.
func awaitUpgrade(ctx context.Context, link *os.File) error {
	defer link.Close()
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(link).ReadString('\n')
		if line == linkReady+"\n" {
			ready <- nil
			return
		}
		if err == nil {
			err = fmt.Errorf("unexpected %q", line)
		}
		ready <- fmt.Errorf("the new server ended before it served (%v)", err)
	}()
	t := time.NewTimer(upgradeTimeout)
	defer t.Stop()
	select {
	case err := <-ready:
		return err
	case <-t.C:
		return errors.New("the new server was not ready in time")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reportUpgraded tells the supervisor that started this one that it serves.
func reportUpgraded(f *os.File) {
	if f == nil {
		return
	}
	io.WriteString(f, linkReady+"\n")
	f.Close()
}
