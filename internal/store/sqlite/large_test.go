package sqlite

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// lineSource yields an endless stream of one line.
type lineSource struct {
	line string
	off  int
}

func (r *lineSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

// TestAppendStreamsLargeMessage appends a 100 MiB message produced on the
// fly and checks that the whole append allocated a small fraction of it:
// the content is streamed to disk and parsed on the way, never held.
func TestAppendStreamsLargeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MiB; skipped in -short mode")
	}
	f := newFixture(t, t.TempDir(), testOptions())
	const size = 100 << 20
	head := "From: big@example.org\r\nSubject: big\r\n\r\n"
	content := io.MultiReader(strings.NewReader(head),
		io.LimitReader(&lineSource{line: strings.Repeat("x", 62) + "\r\n"}, size-int64(len(head))))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := f.ss.Append(t.Context(), f.inbox.ID, store.AppendRequest{Content: content})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Size != size {
		t.Errorf("stored %d octets, want %d", res[0].Size, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("appending 100 MiB allocated %d MiB", alloc>>20)
	} else {
		t.Logf("appending 100 MiB allocated %d KiB", alloc>>10)
	}
}
