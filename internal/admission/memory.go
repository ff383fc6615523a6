package admission

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// ReasonMemory refuses new connections while the process is near its
// memory limit (J5: memory exhaustion is detected, logged and counted,
// never a hang or an OOM kill from accepting more work).
const ReasonMemory Reason = "memory"

// Pressure thresholds, in hundredths of the limit: the watch enters the
// pressured state at 90 % and leaves it below 80 %, so that it does not
// flap on every collection.
const (
	pressureHighPct = 90
	pressureLowPct  = 80
)

// MemoryWatch tracks the process's memory against a limit. While Over,
// listeners given it (Options.Memory) refuse new connections with the
// protocol's temporary reply; established sessions keep going.
type MemoryWatch struct {
	limit uint64
	read  func() uint64
	over  atomic.Bool
	// OnChange, if set, is called from Check when the state flips, with
	// the memory in use and the limit.
	OnChange func(over bool, used, limit uint64)
}

// NewMemoryWatch returns a watch of read() (nil: RuntimeMemory) against
// limit bytes; limit ≤ 0 means the Go runtime's current limit
// (Memory-Limit or GOMEMLIMIT). It returns nil when there is no limit.
func NewMemoryWatch(limit int64, read func() uint64) *MemoryWatch {
	if limit <= 0 {
		limit = debug.SetMemoryLimit(-1) // reads without changing it
	}
	if limit <= 0 || limit == math.MaxInt64 {
		return nil
	}
	if read == nil {
		read = RuntimeMemory
	}
	return &MemoryWatch{limit: uint64(limit), read: read}
}

// Over reports whether the process is in the pressured state. A nil watch
// never is.
func (w *MemoryWatch) Over() bool { return w != nil && w.over.Load() }

// Check samples the memory once, updates the state and reports it.
func (w *MemoryWatch) Check() bool {
	used := w.read()
	was := w.over.Load()
	now := was
	switch {
	case !was && used >= w.limit/100*pressureHighPct:
		now = true
	case was && used < w.limit/100*pressureLowPct:
		now = false
	}
	if now != was {
		w.over.Store(now)
		metricMemoryPressure.Set(boolFloat(now))
		if now {
			metricMemoryPressureEvents.Inc()
		}
		if w.OnChange != nil {
			w.OnChange(now, used, w.limit)
		}
	}
	return now
}

// Run checks every interval until ctx is done.
func (w *MemoryWatch) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.Check()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RuntimeMemory is the memory the Go runtime counts against its limit:
// all memory mapped by the runtime less the heap returned to the system
// (the runtime/debug.SetMemoryLimit definition).
func RuntimeMemory() uint64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
