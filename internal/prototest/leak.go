package prototest

import (
	"runtime"
	"strings"
	"time"
)

// LeakedGoroutines waits up to d for every goroutine whose stack mentions
// one of markers (e.g. "pop3server.(*conn)") to end, and returns the stacks
// of those still alive, or "" when none is. A protocol package calls it at
// the end of its TestMain, as tailscale's tstest.ResourceCheck does, so
// that a connection goroutine left behind by a test fails the run.
func LeakedGoroutines(d time.Duration, markers ...string) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, m := range markers {
				if strings.Contains(g, m) {
					leaked = append(leaked, g)
					break
				}
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
