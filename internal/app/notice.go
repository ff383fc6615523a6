package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/observe"
)

// The failure notice (hp-system A8, the original's POSTMASTER mail). The
// supervisor reports a worker's abnormal exit itself (supervisor.go, through
// a worker, which has the store). For the supervisor's own death the server
// learns that its previous run
// ended abnormally from what that run left behind: runningFile, written
// once the server serves and removed by a clean stop, and crashFile, where
// the Go runtime writes a fatal panic's report (debug.SetCrashOutput). A
// kill -9, an OOM kill or a power loss leaves the first and not the
// second; a panic leaves both. The notice is sent at the next start.
const (
	runningFile  = "postern.running" // in Data-Directory
	crashFile    = "postern-crash.log"
	logTailLines = 30
	logTailBytes = 64 << 10
	crashBytes   = 16 << 10
)

// lastRun is what a previous run that did not stop cleanly left.
type lastRun struct {
	pid     int
	started time.Time
	crash   string   // the runtime's report, if it wrote one
	logTail []string // the last lines of the run log
	// role is "worker" for a worker process the supervisor saw end
	// abnormally (docs/supervisor.md), "" for a whole earlier run.
	role   string
	status string // a worker's wait status ("signal: killed")
}

// readLastRun looks, before this run writes any log line, for the running
// file of a run that did not stop cleanly; nil when there is none or when
// that process still runs (another server on this data directory).
func readLastRun(cfg *config.Config) *lastRun {
	b, err := os.ReadFile(filepath.Join(cfg.DataDirectory, runningFile))
	if err != nil {
		return nil
	}
	r := &lastRun{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "pid":
			r.pid, _ = strconv.Atoi(v)
		case "started":
			r.started, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	if r.pid > 0 && r.pid != os.Getpid() && isServing(r.pid) {
		return nil
	}
	if fi, err := os.Stat(filepath.Join(cfg.LogDirectory, crashFile)); err == nil && fi.ModTime().After(r.started) {
		r.crash = tail(filepath.Join(cfg.LogDirectory, crashFile), crashBytes)
	}
	lines := strings.Split(strings.TrimRight(tail(filepath.Join(cfg.LogDirectory, observe.RunLogName), logTailBytes), "\n"), "\n")
	r.logTail = lines[max(0, len(lines)-logTailLines):]
	return r
}

// isServing reports whether pid is a running `postern serve`.
func isServing(pid int) bool {
	if syscall.Kill(pid, 0) != nil && !errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	return len(args) > 1 && strings.Contains(filepath.Base(args[0]), "postern") && args[1] == "serve"
}

// tail returns the last n bytes of a file, from a line start.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, fi.Size()-n)
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return ""
	}
	if off > 0 {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// markRunning writes the running file (this run serves) and points the
// runtime's crash output at crashFile.
func (in *instance) markRunning() {
	content := fmt.Sprintf("pid=%d\nstarted=%s\n", os.Getpid(), in.started.UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(filepath.Join(in.cfg.DataDirectory, runningFile), []byte(content), 0o600); err != nil {
		in.logger.Warn("cannot write the running file; an abnormal exit will not be noticed", "err", err)
	}
	in.setCrashOutput()
}

// setCrashOutput points the runtime's crash output at crashFile.
func (in *instance) setCrashOutput() {
	f, err := os.OpenFile(filepath.Join(in.cfg.LogDirectory, crashFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		in.logger.Warn("cannot open the crash file", "err", err)
		return
	}
	defer f.Close() // SetCrashOutput keeps a duplicate
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		in.logger.Warn("cannot set the crash output", "err", err)
	}
}

// markStopped removes the running file: this run stopped cleanly.
func (in *instance) markStopped() {
	os.Remove(filepath.Join(in.cfg.DataDirectory, runningFile))
}

// postmasters lists the notice's recipients: the global Postmaster and the
// original's [POP] spelling, each once.
func postmasters(cfg *config.Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range append(append([]string(nil), cfg.Postmaster...), cfg.POP.Postmaster...) {
		if k := strings.ToLower(p); p != "" && !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// reportLastRun logs and records the abnormal end of the previous run and
// sends the notice to every Postmaster.
func (in *instance) reportLastRun(ctx context.Context, r *lastRun) {
	cause := "killed"
	if r.crash != "" {
		cause = "crash"
	}
	if r.role == "worker" {
		cause = "worker " + r.status
	}
	rcpts := postmasters(in.cfg)
	msg := "the previous run did not stop cleanly"
	if r.role == "worker" {
		msg = "a worker ended abnormally"
	}
	in.logger.Warn(msg, "previous_pid", r.pid, "cause", cause, "postmasters", len(rcpts))
	sent := in.sendNotice(ctx, r, rcpts)
	in.events.Event(observe.EventRestart, slog.Int("previous_pid", r.pid),
		slog.String("started", r.started.UTC().Format(time.RFC3339)), slog.String("cause", cause),
		slog.Int("notified", sent))
}

// sendNotice delivers the notice to local recipients at once and queues
// it for remote ones; it returns how many recipients have it.
func (in *instance) sendNotice(ctx context.Context, r *lastRun, rcpts []string) int {
	if len(rcpts) == 0 {
		return 0
	}
	parts, err := newMailParts(in, "postmaster")
	if err != nil {
		in.logger.Error("failure notice not sent", "err", err)
		return 0
	}
	msg := noticeMessage(in.cfg, r, time.Now())
	sent := 0
	var remote []string
	for _, rcpt := range rcpts {
		targets, err := noticeTargets(ctx, parts.resolver, rcpt)
		if errors.Is(err, delivery.ErrNotLocal) {
			remote = append(remote, rcpt)
			continue
		}
		if err != nil {
			in.logger.Error("failure notice not sent", "postmaster", rcpt, "err", err)
			continue
		}
		for _, t := range targets {
			if t.Remote != "" {
				remote = append(remote, t.Remote)
				continue
			}
			if _, err := parts.deliverer.Deliver(ctx, delivery.Request{Account: t.Account, Content: strings.NewReader(msg)}); err != nil {
				in.logger.Error("failure notice not delivered", "postmaster", rcpt, "err", err)
				continue
			}
			sent++
		}
	}
	if len(remote) > 0 {
		q := in.queue()
		if q == nil {
			in.logger.Error("failure notice not sent to remote postmasters: the outbound queue needs [SMTP] Enable: on",
				"postmasters", strings.Join(remote, ", "))
			return sent
		}
		// A null sender: a notice must not bounce back (RFC 5321 §4.5.5).
		if _, err := q.Enqueue(ctx, "", remote, strings.NewReader(msg)); err != nil {
			in.logger.Error("failure notice not queued", "postmasters", strings.Join(remote, ", "), "err", err)
			return sent
		}
		sent += len(remote)
	}
	return sent
}

// noticeTargets resolves one Postmaster entry: an account name, or an
// address (aliases followed).
func noticeTargets(ctx context.Context, res *delivery.Resolver, rcpt string) ([]delivery.Target, error) {
	if !strings.Contains(rcpt, "@") {
		return []delivery.Target{{Account: rcpt}}, nil
	}
	a, err := delivery.ParseAddress(rcpt)
	if err != nil {
		return nil, err
	}
	return res.Resolve(ctx, a)
}

// noticeMessage writes the notice (RFC 5322, plain text).
func noticeMessage(cfg *config.Config, r *lastRun, now time.Time) string {
	var b strings.Builder
	host := cfg.Hostname
	fmt.Fprintf(&b, "From: Postern on %s <postmaster@%s>\r\n", host, host)
	fmt.Fprintf(&b, "To: postmaster@%s\r\n", host)
	fmt.Fprintf(&b, "Subject: Postern on %s restarted after an abnormal exit\r\n", host)
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <restart.%d.%d@%s>\r\n", now.UnixNano(), os.Getpid(), host)
	b.WriteString("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "The Postern server on %s (data directory %s) started again at %s.\r\n",
		host, cfg.DataDirectory, now.UTC().Format(time.RFC3339))
	started := "an unknown time"
	if !r.started.IsZero() {
		started = r.started.UTC().Format(time.RFC3339)
	}
	if r.role == "worker" {
		fmt.Fprintf(&b, "Its worker process %d, started at %s, ended abnormally (%s); the supervisor started\r\n"+
			"a new one. Sessions the worker held were cut; no acknowledged mail is lost.\r\n\r\n", r.pid, started, r.status)
	} else {
		fmt.Fprintf(&b, "Its previous run, process %d started at %s, did not stop cleanly.\r\n\r\n", r.pid, started)
	}
	if r.role == "worker" && r.crash == "" {
		b.WriteString("It left no crash report.\r\n")
	} else if r.crash != "" {
		b.WriteString("It crashed. The Go runtime's report:\r\n\r\n")
		writeIndented(&b, strings.Split(strings.TrimRight(r.crash, "\n"), "\n"))
	} else {
		b.WriteString("It left no crash report, so it was killed (kill -9, the kernel's OOM killer:\r\n" +
			"see journalctl -k) or the machine stopped (power loss, reset).\r\n")
	}
	b.WriteString("\r\nThe last lines of its run log:\r\n\r\n")
	writeIndented(&b, r.logTail)
	return b.String()
}

func writeIndented(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString("  " + strings.TrimRight(l, "\r") + "\r\n")
	}
}
