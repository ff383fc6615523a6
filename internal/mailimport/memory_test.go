package mailimport

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// maxHeapGrowth is how much the heap may grow while a source is read. A
// reader that kept messages, or one large message, would pass it many
// times over.
const maxHeapGrowth = 4 << 20

// heapWatch samples the live heap against a baseline. Each sample runs the
// garbage collector first, so that it measures what the reader keeps, not
// how late the collector runs.
type heapWatch struct {
	base, peak uint64
}

func newHeapWatch() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &heapWatch{base: ms.HeapAlloc, peak: ms.HeapAlloc}
}

func (w *heapWatch) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peak = max(w.peak, ms.HeapAlloc)
}

func (w *heapWatch) check(t *testing.T) {
	t.Helper()
	growth := int64(w.peak) - int64(w.base)
	t.Logf("live heap growth while reading: %d KiB", growth>>10)
	if growth > maxHeapGrowth {
		t.Errorf("live heap grew by %d KiB while reading, want at most %d MiB", growth>>10, maxHeapGrowth>>20)
	}
}

// writeGenerated writes a file through fn.
func writeGenerated(t *testing.T, fn func(w *bufio.Writer)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fn(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// sampledWriter counts bytes and samples the heap every few MiB.
type sampledWriter struct {
	w    *heapWatch
	n    int64
	next int64
}

func (s *sampledWriter) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if s.n >= s.next {
		s.w.sample()
		s.next = s.n + 16<<20
	}
	return len(p), nil
}

// readAllSampled reads every message of path, sampling the heap, and
// returns the number of messages and of content bytes.
func readAllSampled(t *testing.T, path string, f Format, w *heapWatch) (msgs int, size int64) {
	t.Helper()
	src, err := Open(path, f)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sw := &sampledWriter{w: w}
	for {
		it, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(sw, it.Content); err != nil {
			t.Fatal(err)
		}
		msgs++
		if msgs%10_000 == 0 {
			w.sample()
		}
	}
	return msgs, sw.n
}

func TestMboxManyMessagesFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: writes and reads a 100,000-message mbox of about 30 MB")
	}
	const n = 100_000
	body := strings.Repeat("The quick brown fox jumps over the lazy dog.\n", 4)
	path := writeGenerated(t, func(w *bufio.Writer) {
		for i := range n {
			fmt.Fprintf(w, "From sender%d@example.org Mon Jan  2 15:04:05 2006\nStatus: RO\nSubject: message %d\n\n%s\n", i, i, body)
		}
	})
	w := newHeapWatch()
	msgs, _ := readAllSampled(t, path, FormatMbox, w)
	if msgs != n {
		t.Fatalf("read %d messages, want %d", msgs, n)
	}
	w.check(t)
}

// bigBody writes size bytes of 76-character lines.
func bigBody(w *bufio.Writer, size int) {
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 3)[:75] + "\n"
	for written := 0; written < size; written += len(line) {
		w.WriteString(line)
	}
}

const bigMessage = 100 << 20

func TestMboxHugeMessageFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: writes and reads a 100 MiB message")
	}
	const header = "Subject: huge\n\n"
	path := writeGenerated(t, func(w *bufio.Writer) {
		w.WriteString("From a@example.org Mon Jan  2 15:04:05 2006\n" + header)
		bigBody(w, bigMessage)
	})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	w := newHeapWatch()
	msgs, size := readAllSampled(t, path, FormatMbox, w)
	if want := fi.Size() - int64(len("From a@example.org Mon Jan  2 15:04:05 2006\n")); msgs != 1 || size != want {
		t.Fatalf("read %d messages of %d bytes, want 1 of %d", msgs, size, want)
	}
	w.check(t)
}

func TestVMSHugeMessageFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: writes and reads a 100 MiB VMS MAIL message")
	}
	const header = "From:\tA::B  1-JAN-2000 10:00:00.00\nTo:\tC\nSubj:\thuge\n\n"
	path := writeGenerated(t, func(w *bufio.Writer) {
		w.WriteString("\f\n" + header)
		bigBody(w, bigMessage)
		w.WriteString("\f\n")
	})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	w := newHeapWatch()
	msgs, size := readAllSampled(t, path, FormatVMS, w)
	// The content is the body after an empty header block ("\r\n").
	if want := fi.Size() - int64(len(header)+4) + 2; msgs != 1 || size != want {
		t.Fatalf("read %d messages of %d bytes, want 1 of %d", msgs, size, want)
	}
	w.check(t)
}
