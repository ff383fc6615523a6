package imapserver

import (
	"fmt"
	"os"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/postern/postern/internal/prototest"
)

// TestMain fails the run when any connection recovered from a panic: a
// panic is a bug even when the connection survived it (STYLE.md B10); and
// when a connection goroutine outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	var pm dto.Metric
	if err := metricPanics.Write(&pm); err == nil && pm.GetCounter().GetValue() > 0 {
		fmt.Fprintf(os.Stderr, "imapserver: %v panic(s) recovered during the tests\n", pm.GetCounter().GetValue())
		code = 1
	}
	if leaked := prototest.LeakedGoroutines(5*time.Second, "imapserver.(*conn)", "imapserver.(*Server)"); leaked != "" {
		fmt.Fprintf(os.Stderr, "FAIL: goroutines leaked:\n%s\n", leaked)
		code = 1
	}
	os.Exit(code)
}
