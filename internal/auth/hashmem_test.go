package auth

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestHashConcurrency(t *testing.T) {
	def := DefaultArgon2Params()
	tests := []struct {
		name   string
		p      Argon2Params
		procs  int
		budget int64
		want   int
	}{
		{"2 CPUs, 2 lanes", def, 2, DefaultHashMemoryBudget, 1},
		{"1 CPU, 2 lanes", def, 1, DefaultHashMemoryBudget, 1},
		{"8 CPUs", def, 8, DefaultHashMemoryBudget, 4},
		{"64 CPUs: the budget binds", def, 64, DefaultHashMemoryBudget, 8},
		{"64 CPUs, 256 MiB", def, 64, 256 << 20, 4},
		{"budget below one hash", def, 8, 1 << 20, 1},
		{"no budget", def, 64, 0, 32},
		{"one lane", Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}, 4, DefaultHashMemoryBudget, 4},
		{"zero threads counts as one", Argon2Params{Memory: 1024, Time: 1}, 3, DefaultHashMemoryBudget, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashConcurrency(tt.p, tt.procs, tt.budget); got != tt.want {
				t.Errorf("HashConcurrency = %d, want %d", got, tt.want)
			}
		})
	}
	h := &Hasher{MaxConcurrent: 3}
	if got := h.Concurrency(); got != 3 {
		t.Errorf("Concurrency with MaxConcurrent 3 = %d", got)
	}
}

// manualTimers replaces time.AfterFunc: the test fires the functions.
type manualTimers struct {
	mu     sync.Mutex
	delays []time.Duration
	fns    []func()
}

func (m *manualTimers) afterFunc(d time.Duration, f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delays = append(m.delays, d)
	m.fns = append(m.fns, f)
}

func (m *manualTimers) fire(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	if len(m.fns) == 0 {
		m.mu.Unlock()
		t.Fatal("no timer armed")
	}
	f := m.fns[0]
	m.fns = m.fns[1:]
	m.mu.Unlock()
	f()
}

func (m *manualTimers) armed() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.fns)
}

// TestHashMemoryReturned: once the hash queue is empty after enough memory
// was hashed, the memory is returned once, and not again until more is
// hashed; returns are spaced by hashReturnInterval.
func TestHashMemoryReturned(t *testing.T) {
	h := &Hasher{Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}} // 1 MiB each
	timers := &manualTimers{}
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	frees := 0
	h.mem.afterFunc, h.mem.now, h.mem.free = timers.afterFunc, clock.Now, func() { frees++ }
	hashN := func(n int) {
		for range n {
			if _, err := h.hash(context.Background(), "pw"); err != nil {
				t.Fatal(err)
			}
		}
	}
	perMiB := hashReturnThreshold >> 20
	hashN(perMiB - 1)
	if timers.armed() != 0 {
		t.Fatal("a timer was armed below the threshold")
	}
	hashN(1)
	if timers.armed() != 1 || timers.delays[0] != hashQuietDelay {
		t.Fatalf("after the threshold: %d timers, delays %v; want one of %v", timers.armed(), timers.delays, hashQuietDelay)
	}
	hashN(3) // the timer is armed already: no second one
	if timers.armed() != 1 {
		t.Fatalf("%d timers armed, want 1", timers.armed())
	}
	timers.fire(t)
	if frees != 1 {
		t.Fatalf("memory returned %d times, want 1", frees)
	}
	clock.Advance(2 * time.Second)
	hashN(perMiB) // soon after: the next return waits out the interval
	if timers.armed() != 1 || timers.delays[1] != hashReturnInterval-2*time.Second {
		t.Fatalf("second timer: %d armed, delays %v; want %v", timers.armed(), timers.delays, hashReturnInterval-2*time.Second)
	}
	timers.fire(t)
	if frees != 2 {
		t.Fatalf("memory returned %d times, want 2", frees)
	}
	if h.computations() != uint64(2*perMiB+3) {
		t.Errorf("computations = %d, want %d", h.computations(), 2*perMiB+3)
	}
}

// TestHashMemoryNotReturnedWhileBusy: a timer that fires while a
// computation runs returns nothing; the end of that computation re-arms it.
func TestHashMemoryNotReturnedWhileBusy(t *testing.T) {
	h := &Hasher{Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}}
	timers := &manualTimers{}
	frees := 0
	h.mem.afterFunc, h.mem.free = timers.afterFunc, func() { frees++ }
	for range hashReturnThreshold >> 20 {
		h.hash(context.Background(), "pw")
	}
	h.mem.inFlight.Add(1) // a computation in progress
	timers.fire(t)
	if frees != 0 {
		t.Fatal("memory returned while a computation ran")
	}
	h.mem.inFlight.Add(-1)
	h.hash(context.Background(), "pw")
	timers.fire(t)
	if frees != 1 {
		t.Fatalf("memory returned %d times, want 1", frees)
	}
}
