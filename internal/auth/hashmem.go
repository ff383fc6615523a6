package auth

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// DefaultHashMemoryBudget bounds the memory that argon2id computations
// running at once may hold when their number is derived (Hasher.MaxConcurrent
// zero): 512 MiB, eight computations of the default 64 MiB.
const DefaultHashMemoryBudget = 512 << 20

// Returning argon2id memory to the operating system. Each computation
// allocates its memory parameter afresh (golang.org/x/crypto/argon2 has no
// way to reuse it); once collected, the Go runtime keeps those pages for
// reuse, up to its heap goal, which a burst of computations has raised to
// several times their size. An idle server would then hold hundreds of
// MiB it no longer needs. So when the hash queue has been empty for
// hashQuietDelay after at least hashReturnThreshold bytes were hashed, the
// Hasher collects and returns the free pages (debug.FreeOSMemory), at most
// once per hashReturnInterval. A steady stream of logins never triggers it:
// the queue does not stay empty long enough, and the pages are reused.
const (
	hashQuietDelay      = time.Second
	hashReturnInterval  = 5 * time.Second
	hashReturnThreshold = 32 << 20
)

// HashConcurrency returns how many argon2id computations with parameters p
// should run at once on gomaxprocs CPUs within a memory budget in bytes:
// one per p.Threads CPUs, since each computation already runs its lanes in
// parallel and more would only queue for the CPUs while holding their
// memory, and no more than fit in budget. It is at least 1.
func HashConcurrency(p Argon2Params, gomaxprocs int, budget int64) int {
	p = p.normalized()
	n := gomaxprocs / int(p.Threads)
	if per := int64(p.Memory) << 10; budget > 0 {
		n = min(n, int(budget/per))
	}
	return max(n, 1)
}

// concurrency is the number of hash slots: MaxConcurrent, or derived by
// HashConcurrency from GOMAXPROCS and MemoryBudget.
func (h *Hasher) concurrency() int {
	if h.MaxConcurrent > 0 {
		return h.MaxConcurrent
	}
	budget := h.MemoryBudget
	if budget <= 0 {
		budget = DefaultHashMemoryBudget
	}
	return HashConcurrency(h.params(), runtime.GOMAXPROCS(0), budget)
}

// Concurrency returns how many argon2id computations h runs at once.
func (h *Hasher) Concurrency() int {
	h.init()
	return h.queue.slots
}

// normalized raises parameters to argon2's minimums.
func (p Argon2Params) normalized() Argon2Params {
	p.Time = max(p.Time, 1)
	p.Threads = max(p.Threads, 1)
	p.Memory = max(p.Memory, 8*uint32(p.Threads)) // argon2's own minimum
	return p
}

// hashMemory tracks the argon2id computations of one Hasher, to count
// them and to return their memory after a burst.
type hashMemory struct {
	inFlight atomic.Int64
	count    atomic.Uint64 // computations ever started, for tests

	mu         sync.Mutex
	pending    int64 // bytes hashed since the last return
	armed      bool  // a quiet timer is pending
	lastReturn time.Time

	// Test seams; nil means the real ones.
	free      func()
	afterFunc func(time.Duration, func())
	now       func() time.Time
}

// idKey computes an argon2id key (RFC 9106) and accounts for it. The caller
// holds a slot from acquire.
func (h *Hasher) idKey(op string, password, salt []byte, p Argon2Params, keyLen uint32) []byte {
	m := &h.mem
	m.inFlight.Add(1)
	m.count.Add(1)
	metricHashes.WithLabelValues(op).Inc()
	metricHashesInFlight.Inc()
	defer func() {
		metricHashesInFlight.Dec()
		if m.inFlight.Add(-1) == 0 {
			m.idle(int64(p.Memory) << 10)
		} else {
			m.add(int64(p.Memory) << 10)
		}
	}()
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, keyLen)
}

// computations returns how many argon2id computations h has started.
func (h *Hasher) computations() uint64 { return h.mem.count.Load() }

func (m *hashMemory) add(bytes int64) {
	m.mu.Lock()
	m.pending += bytes
	m.mu.Unlock()
}

// idle notes that the queue emptied after a computation of bytes, and
// arms the quiet timer once enough memory was hashed.
func (m *hashMemory) idle(bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending += bytes
	if m.pending < hashReturnThreshold || m.armed {
		return
	}
	delay := hashQuietDelay
	if next := m.lastReturn.Add(hashReturnInterval); !m.lastReturn.IsZero() {
		delay = max(delay, next.Sub(m.clock()))
	}
	m.armed = true
	if m.afterFunc != nil {
		m.afterFunc(delay, m.quiet)
		return
	}
	time.AfterFunc(delay, m.quiet)
}

// quiet runs when the timer fires: it returns the memory if no
// computation is running, and otherwise leaves it to the next idle.
func (m *hashMemory) quiet() {
	m.mu.Lock()
	m.armed = false
	if m.inFlight.Load() > 0 {
		m.mu.Unlock()
		return
	}
	m.pending = 0
	m.lastReturn = m.clock()
	free := m.free
	m.mu.Unlock()
	if free == nil {
		free = debug.FreeOSMemory
	}
	free()
	metricMemoryReturns.Inc()
}

func (m *hashMemory) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}
