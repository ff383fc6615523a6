package observe

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// busyStats returns counters where every field has a distinct non-zero
// value, so that a metric reading the wrong field is caught.
func busyStats() *Stats {
	s := NewStats(nil)
	for range 7 {
		s.ConnOpened()
	}
	s.ConnClosed(DisconnectNormal)
	s.ConnClosed(DisconnectAbnormal)
	s.ConnClosed(DisconnectAbnormal)
	s.ConnClosed(DisconnectTimeout)
	s.TooManyThreads()
	s.BlockedSocket()
	s.AuthFailure()
	s.AuthFailure()
	s.Retrieved(100)
	s.Retrieved(500)
	s.Received(1000)
	s.Delivered(2)
	s.Queued(3)
	s.FailedRecipients(4)
	s.AddUser("ann")
	s.AddUser("bob")
	s.AddUser("bob")
	return s
}

// reportValues parses a counters report: "Name : N" lines, and the
// numbered Current Users list counted as the value of "Current Users".
func reportValues(t *testing.T, report []byte) map[string]int64 {
	t.Helper()
	vals := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(report))
	for sc.Scan() {
		line := sc.Text()
		if name, v, ok := strings.Cut(line, " : "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("report line %q: %v", line, err)
			}
			vals[name] = n
		} else if line == "Current Users :" {
			vals["Current Users"] = 0
		} else {
			vals["Current Users"]++
		}
	}
	return vals
}

// gathered returns every postern_*_stats_* sample of the default registry.
func gathered(t *testing.T) map[string]float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				got[mf.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	return got
}

// TestEveryStatsCounterIsExported: each counter line XTND STATS (and ctl
// stats) prints for a protocol is on /metrics, under the name
// docs/operations.md gives, with the same value.
func TestEveryStatsCounterIsExported(t *testing.T) {
	for _, proto := range StatsProtocols {
		t.Run(proto, func(t *testing.T) {
			s := busyStats()
			PublishStats(proto, s)
			defer PublishStats(proto, nil)
			var b bytes.Buffer
			if proto == "smtp" || proto == "lmtp" {
				WriteMailStatsCounters(&b, s.Snapshot())
			} else {
				WriteStatsCounters(&b, s.Snapshot())
			}
			metrics := gathered(t)
			byReport := map[string]statsField{}
			for _, f := range statsFieldsOf(proto) {
				byReport[f.report] = f
			}
			for name, want := range reportValues(t, b.Bytes()) {
				f, ok := byReport[name]
				if !ok {
					t.Errorf("XTND STATS %q has no /metrics series", name)
					continue
				}
				metric := "postern_" + proto + "_stats_" + f.metric
				if got, ok := metrics[metric]; !ok || int64(got) != want {
					t.Errorf("%s = %v (present %v), want %d (XTND STATS %q)", metric, got, ok, want, name)
				}
				if f.counter != strings.HasSuffix(f.metric, "_total") {
					t.Errorf("%s: a counter's name ends _total, a gauge's does not", metric)
				}
			}
		})
	}
}
