package pop3server

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

var update = flag.Bool("update", false, "rewrite failing S lines of transcripts with the actual output")

// TestMain fails the run on any recovered panic (STYLE.md B10, mox
// imapserver/main_test.go) and on goroutines of this package still alive
// after every test (tailscale tstest.ResourceCheck).
func TestMain(m *testing.M) {
	code := m.Run()
	var pm dto.Metric
	metricPanics.Write(&pm)
	if n := pm.GetCounter().GetValue(); n != 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %v panics were recovered in POP3 connections\n", n)
		code = 1
	}
	if leaked := leakedGoroutines(5 * time.Second); leaked != "" {
		fmt.Fprintf(os.Stderr, "FAIL: goroutines leaked:\n%s\n", leaked)
		code = 1
	}
	os.Exit(code)
}

// leakedGoroutines waits up to d for this package's server goroutines to
// end and returns the stacks of those that did not.
func leakedGoroutines(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "pop3server.(*conn)") || strings.Contains(g, "pop3server.(*Server)") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
