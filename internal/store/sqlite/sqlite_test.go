package sqlite

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/storetest"
)

// testOptions returns deterministic options: a fixed clock and a counter
// for UIDVALIDITY (mox's mockUIDValidity).
func testOptions() Options {
	var uidValidity atomic.Uint32
	uidValidity.Store(1000)
	return Options{
		Clock:       func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		UIDValidity: func() uint32 { return uidValidity.Add(1) },
	}
}

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	st, err := Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, t.TempDir(), testOptions())
	})
}
