package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/config"
)

// TestLastRun: a running file left by a run that is gone is an abnormal
// end; a crash report written after that run started is its cause and goes
// into the notice with the run log's last lines; no running file, or one
// of a process that still serves, is no abnormal end.
func TestLastRun(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Hostname: "mail.example.org", DataDirectory: dir, LogDirectory: dir}
	if readLastRun(cfg) != nil {
		t.Fatal("no running file, yet an abnormal end")
	}
	started := time.Now().Add(-time.Minute).UTC()
	// PID 1 is not a postern serve; the process is gone as far as we care.
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(runningFile, "pid=1\nstarted="+started.Format(time.RFC3339Nano)+"\n")
	var log strings.Builder
	for i := range 40 {
		log.WriteString("line " + string(rune('a'+i%26)) + "\n")
	}
	write("postern-run.log", log.String())
	write(crashFile, "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n")
	r := readLastRun(cfg)
	if r == nil || r.pid != 1 || !r.started.Equal(started) || len(r.logTail) != logTailLines || !strings.Contains(r.crash, "panic: boom") {
		t.Fatalf("last run: %+v", r)
	}
	msg := noticeMessage(cfg, r, time.Now())
	for _, want := range []string{"Subject: Postern on mail.example.org restarted after an abnormal exit\r\n",
		"It crashed. The Go runtime's report:\r\n\r\n  panic: boom\r\n", "  line n\r\n", "Auto-Submitted: auto-generated\r\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("notice lacks %q:\n%s", want, msg)
		}
	}
	// A crash report older than the run is not its cause.
	old := started.Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, crashFile), old, old)
	if r := readLastRun(cfg); r == nil || r.crash != "" {
		t.Errorf("an old crash report taken for the cause: %+v", r)
	}
}
