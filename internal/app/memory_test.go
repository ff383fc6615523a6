package app

import (
	"bytes"
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/observe"
)

// lockedBuffer is a bytes.Buffer safe for the watch's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWatchMemoryTinyLimit: with the runtime's limit at 1 MiB the watch
// started by the server enters the pressured state at its first sample,
// with a warning in the run log and a MEMORY line in the event log.
func TestWatchMemoryTinyLimit(t *testing.T) {
	old := debug.SetMemoryLimit(1 << 20)
	defer debug.SetMemoryLimit(old)
	var run, events lockedBuffer
	in := &instance{
		logger: slog.New(slog.NewTextHandler(&run, nil)),
		events: observe.NewEventLog(&events, observe.EventLogOptions{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := in.watchMemory(ctx)
	if w == nil {
		t.Fatal("no watch with a 1 MiB runtime limit")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(events.String(), "MEMORY") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !w.Over() {
		t.Fatal("the watch did not enter the pressured state")
	}
	if !strings.Contains(run.String(), "memory near the limit") {
		t.Errorf("run log lacks the warning:\n%s", run.String())
	}
	if e := events.String(); !strings.Contains(e, " MEMORY state=high used=") || !strings.Contains(e, "limit=1048576") {
		t.Errorf("event log = %q, want a MEMORY state=high line", e)
	}
}
