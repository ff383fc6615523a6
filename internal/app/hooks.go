package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/observe"
)

// hookTimeout bounds Startup-Command and Shutdown-Command: after it the
// command's process group is killed.
const hookTimeout = 60 * time.Second

// hookOutputMax bounds the output of a hook that is logged, per stream.
const hookOutputMax = 64 << 10

// runHook runs a site hook (Startup-Command, Shutdown-Command: the
// original's SYSTARTUP and SYSHUTDOWN procedures) with /bin/sh -c, as the
// server's account, in its own process group, for at most hookTimeout.
// Each line of its output is logged; the result is logged and, unless it
// succeeded, written to the event log as a HOOK line. It never fails the
// server.
func (in *instance) runHook(event, command string) {
	if command == "" {
		return
	}
	log := in.logger.With("hook", event)
	ctx, cancel := context.WithTimeout(context.Background(), hookTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), "POSTERN_EVENT="+event, "POSTERN_CONFIG="+in.opts.ConfigPath,
		"POSTERN_PID="+strconv.Itoa(os.Getpid()))
	cmd.Dir = in.config().DataDirectory
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On timeout, kill the whole group: a shell's children too.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	// Writers, not pipes: exec copies the output, and WaitDelay ends the
	// copy even if a child that left the group keeps the pipe open.
	out, errOut := &lineLog{log: log, stream: "stdout"}, &lineLog{log: log, stream: "stderr"}
	cmd.Stdout, cmd.Stderr = out, errOut
	err := cmd.Run()
	out.flush()
	errOut.flush()
	result := "ok"
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		result = "timeout"
	case err != nil:
		result = "failed"
	}
	if result == "ok" {
		log.Info("hook done", "command", command)
		return
	}
	log.Error("hook failed", "command", command, "result", result, "err", err)
	in.events.Event(observe.EventHook, slog.String("event", event), slog.String("result", result), slog.String("err", errString(err)))
}

// lineLog logs what a hook writes, one record per line, up to
// hookOutputMax bytes.
type lineLog struct {
	log    *slog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
	n      int
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n >= hookOutputMax {
		return len(p), nil
	}
	take := p[:min(len(p), hookOutputMax-l.n)]
	l.n += len(take)
	l.buf = append(l.buf, take...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.log.Info("hook output", "stream", l.stream, "line", string(bytes.TrimRight(l.buf[:i], "\r")))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// flush logs a last line without its newline.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log.Info("hook output", "stream", l.stream, "line", string(l.buf))
		l.buf = nil
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
