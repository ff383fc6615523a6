package imapserver

import (
	"fmt"
	"os"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestMain fails the run when any connection recovered from a panic: a
// panic is a bug even when the connection survived it (STYLE.md B10).
func TestMain(m *testing.M) {
	code := m.Run()
	var pm dto.Metric
	if err := metricPanics.Write(&pm); err == nil && pm.GetCounter().GetValue() > 0 {
		fmt.Fprintf(os.Stderr, "imapserver: %v panic(s) recovered during the tests\n", pm.GetCounter().GetValue())
		code = 1
	}
	os.Exit(code)
}
