package observe

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunLog(t *testing.T) {
	dir := t.TempDir()
	r, err := OpenRunLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != filepath.Join(dir, "postern-run.log") {
		t.Errorf("path %s", r.Path())
	}
	var stderr bytes.Buffer
	var lv slog.LevelVar
	logger := NewLogger(io.MultiWriter(&stderr, r), &lv, FormatText)
	logger.Info("server start", "proto", "pop3")
	LogExit(logger)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Error("write after Close succeeded")
	}

	data, err := os.ReadFile(r.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, stderr.Bytes()) {
		t.Errorf("run log differs from stderr:\n%s\n%s", data, stderr.Bytes())
	}
	if !strings.Contains(string(data), `msg="server exit" peak_rss=`) || !strings.Contains(string(data), "peak_vm=") {
		t.Errorf("no exit accounting: %s", data)
	}
	if fi, _ := os.Stat(r.Path()); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}

	// Append, not truncate.
	r, err = OpenRunLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("more\n"))
	r.Close()
	if again, _ := os.ReadFile(r.Path()); !bytes.HasPrefix(again, data) {
		t.Error("reopening truncated the run log")
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tpostern\nVmPeak:\t  123456 kB\nVmSize:\t  100000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n"
	m := parseProcStatus([]byte(status))
	if m.PeakRSS != 2048*1024 || m.PeakVirtual != 123456*1024 {
		t.Errorf("got %+v", m)
	}
	if PeakMemory() == 0 {
		t.Error("PeakMemory is 0")
	}
}
