package admission

import (
	"bufio"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value reads a counter's or gauge's current value.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// TestMemoryWatchTinyLimit: with a limit far below what the process uses,
// the real runtime reading puts the watch over at once; the change is
// reported and counted; a listener refuses new clients with the busy reply
// while a session admitted before is untouched, and admits again once the
// memory is back under 80 % of the limit.
func TestMemoryWatchTinyLimit(t *testing.T) {
	w := NewMemoryWatch(1<<20, nil) // 1 MiB: the runtime alone maps more
	var changes []bool
	w.OnChange = func(over bool, used, limit uint64) { changes = append(changes, over) }
	events := value(t, metricMemoryPressureEvents)
	refusals := value(t, metricRefused.WithLabelValues("memtest", string(ReasonMemory)))

	early, earlyPeer := net.Pipe()
	refused, refusedPeer := net.Pipe()
	good, goodPeer := net.Pipe()
	defer earlyPeer.Close()
	defer refusedPeer.Close()
	defer goodPeer.Close()
	f := newFake(early)
	l := NewListener(f, Options{Label: "memtest", Memory: w, Reply: func(why Reason) string {
		return "-ERR [SYS/TEMP] " + string(why) + "\r\n"
	}})
	defer l.Close()
	first, err := l.Accept()
	if err != nil || first.(*Conn).Conn != early {
		t.Fatalf("Accept before the check = %v, %v; want the first client", first, err)
	}
	defer first.Close()

	if !w.Check() || !w.Over() {
		t.Fatalf("Check with a 1 MiB limit (process uses %d bytes) = not over", RuntimeMemory())
	}
	if got := value(t, metricMemoryPressure); got != 1 {
		t.Errorf("postern_memory_pressure = %v, want 1", got)
	}
	if got := value(t, metricMemoryPressureEvents) - events; got != 1 {
		t.Errorf("postern_memory_pressure_total grew by %v, want 1", got)
	}

	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		acc <- c
	}()
	f.script <- refused
	line, _ := bufio.NewReader(refusedPeer).ReadString('\n')
	if line != "-ERR [SYS/TEMP] busy\r\n" {
		t.Errorf("client under memory pressure got %q, want the busy reply", line)
	}
	if got := value(t, metricRefused.WithLabelValues("memtest", string(ReasonMemory))) - refusals; got != 1 {
		t.Errorf("refused{reason=memory} grew by %v, want 1", got)
	}

	w.read = func() uint64 { return w.limit * 85 / 100 } // between the thresholds: still over
	if !w.Check() {
		t.Error("85% of the limit left the pressured state; it is left below 80%")
	}
	w.read = func() uint64 { return w.limit * 79 / 100 }
	if w.Check() {
		t.Error("79% of the limit is still pressured")
	}
	f.script <- good
	if c := <-acc; c == nil || c.(*Conn).Conn != good {
		t.Errorf("Accept after the pressure = %v, want the next client", c)
	} else {
		c.Close()
	}
	if !slices.Equal(changes, []bool{true, false}) {
		t.Errorf("OnChange calls %v, want [true false]", changes)
	}
	if got := value(t, metricMemoryPressure); got != 0 {
		t.Errorf("postern_memory_pressure = %v after recovery, want 0", got)
	}
	go earlyPeer.Write([]byte("x"))
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := first.Read(make([]byte, 1)); err != nil {
		t.Errorf("the session admitted before the pressure was disturbed: %v", err)
	}
}

// TestMemoryWatchNoLimit: without a limit there is nothing to watch.
func TestMemoryWatchNoLimit(t *testing.T) {
	if w := NewMemoryWatch(0, nil); w != nil {
		t.Skip("the test process runs with GOMEMLIMIT set")
	}
	var w *MemoryWatch
	if w.Over() {
		t.Error("a nil watch is over")
	}
}
