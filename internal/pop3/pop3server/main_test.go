package pop3server

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/postern/postern/internal/prototest"
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
	if leaked := prototest.LeakedGoroutines(5*time.Second, "pop3server.(*conn)", "pop3server.(*Server)"); leaked != "" {
		fmt.Fprintf(os.Stderr, "FAIL: goroutines leaked:\n%s\n", leaked)
		code = 1
	}
	os.Exit(code)
}
