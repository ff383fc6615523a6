package observe

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// RunLogName is the run log's file name in the Log-Directory, the analogue
// of POP_RUN.LOG and TCPIP$IMAP_RUN.LOG.
const RunLogName = "postern-run.log"

// logFileMode is the mode of the run and event logs: the operator's group
// may read them (they hold user names and addresses, never passwords).
const logFileMode = 0o640

// RunLog is an append-only log file that can be reopened after rotation.
// Give it to NewLogger (usually through io.MultiWriter with os.Stderr) so
// it receives the same records as the terminal.
type RunLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// OpenRunLog opens (creating if needed, mode 0640) dir/postern-run.log for
// appending.
func OpenRunLog(dir string) (*RunLog, error) {
	r := &RunLog{path: filepath.Join(dir, RunLogName)}
	f, err := openAppend(r.path)
	if err != nil {
		return nil, err
	}
	r.f = f
	return r, nil
}

// openAppend opens a log file for appending, creating it with logFileMode.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, logFileMode)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return f, nil
}

// Path returns the file's path.
func (r *RunLog) Path() string { return r.path }

// Write appends p with one write(2), so lines of concurrent writers never
// interleave.
func (r *RunLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	return r.f.Write(p)
}

// Reopen closes and reopens the file by name, for log rotation (SIGHUP
// after logrotate renamed it).
func (r *RunLog) Reopen() error {
	f, err := openAppend(r.path)
	if err != nil {
		return err
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

// Close closes the file; later writes fail with os.ErrClosed.
func (r *RunLog) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// Memory is the process's peak memory use.
type Memory struct {
	PeakRSS     uint64 // bytes; VmHWM, or the Go runtime's Sys where /proc is missing
	PeakVirtual uint64 // bytes; VmPeak, or 0 where /proc is missing
}

// PeakMemory returns the peak resident set size in bytes: VmHWM from
// /proc/self/status, or, where that is not available, the memory the Go
// runtime obtained from the system (runtime.MemStats.Sys).
func PeakMemory() uint64 { return ReadMemory().PeakRSS }

// ReadMemory returns peak resident and virtual sizes, the modern form of the
// original's "Peak virtual size" job accounting.
func ReadMemory() Memory {
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		if m := parseProcStatus(data); m.PeakRSS != 0 {
			return m
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Memory{PeakRSS: ms.Sys}
}

// parseProcStatus reads VmHWM and VmPeak ("VmHWM:   12345 kB") from the
// contents of /proc/self/status.
func parseProcStatus(data []byte) Memory {
	var m Memory
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *uint64
		switch string(key) {
		case "VmHWM":
			dst = &m.PeakRSS
		case "VmPeak":
			dst = &m.PeakVirtual
		default:
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			continue
		}
		if n, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil {
			*dst = n * 1024
		}
	}
	return m
}

// CPUTime returns the user plus system CPU time used by the process.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LogExit logs the "server exit" record with the process's accounting:
// peak_rss and peak_vm in bytes and cpu_seconds. Call it last before the
// process exits; it is the analogue of the job termination lines, with
// "Peak virtual size", at the end of TCPIP$IMAP_RUN.LOG.
func LogExit(logger *slog.Logger) {
	m := ReadMemory()
	logger.Info("server exit",
		slog.Uint64("peak_rss", m.PeakRSS),
		slog.Uint64("peak_vm", m.PeakVirtual),
		slog.Float64("cpu_seconds", CPUTime().Seconds()))
}
