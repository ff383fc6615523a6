package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/postern/postern/internal/message"
)

// TestScratchContains checks the windowed scan against bytes.Contains on
// the whole folded text, for a word at every position around the window's
// edges and readers that return short reads.
func TestScratchContains(t *testing.T) {
	sc := &searchScratch{}
	readers := map[string]func(io.Reader) io.Reader{
		"full":    func(r io.Reader) io.Reader { return r },
		"one":     iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	}
	needles := []string{"Quokka", "q", "ab", strings.Repeat("z", 300)}
	for _, n := range needles {
		for _, pos := range []int{0, 1, searchChunk - len(n), searchChunk - 1, searchChunk, searchChunk + len(n) - 2, searchChunk + len(n), 2*searchChunk + 3} {
			text := strings.Repeat("x", pos) + strings.ToUpper(n) + strings.Repeat("y", 7)
			for name, wrap := range readers {
				if name == "one" && pos > 1000 {
					continue // slow, and the same window path as "half"
				}
				if !sc.contains(wrap(strings.NewReader(text)), foldASCII([]byte(n))) {
					t.Errorf("%s: %q at %d not found", name, n, pos)
				}
				if sc.contains(wrap(strings.NewReader(text[:pos+len(n)-1])), foldASCII([]byte(n))) {
					t.Errorf("%s: %q found in a text cut before its end", name, n)
				}
			}
		}
	}
	if !sc.contains(strings.NewReader(""), nil) {
		t.Error("the empty string is in every text")
	}
	if sc.contains(iotest.ErrReader(errors.New("boom")), []byte("x")) {
		t.Error("a failing reader contains nothing")
	}
}

// TestFieldTextContains checks the ASCII shortcut of TEXT's header half
// against the general path on fields of every shape.
func TestFieldTextContains(t *testing.T) {
	block := "Subject: Hello World\r\nX-Folded: one\r\n two\r\n\tthree  \r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n" +
		"From: Zürich <z@example.org>\r\nX=?: odd\r\nX-Bare: a\rb\r\nX-Empty:\r\n"
	needles := []string{"hello world", "subject: hello", "one two", "two \tthree", "grüße", "zürich", "=?", "x=?: odd", "a\rb", "x-empty: ", "x-empty:", ""}
	sc := &searchScratch{}
	h, err := message.ReadHeader(strings.NewReader(block), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range h {
		for _, n := range needles {
			checkFieldText(t, sc, f, n)
		}
	}
}

// FuzzFieldText compares the ASCII shortcut of TEXT's header half with
// the general path on arbitrary header blocks and needles.
func FuzzFieldText(f *testing.F) {
	f.Add("Subject: Hello\r\n World\r\n", "o w")
	f.Add("Subject: =?ISO-8859-1?Q?Caf=E9?=\r\n", "café")
	f.Add("X: \xe2\x84\xaa\r\nY:\r\n\r\n", "k")
	f.Add(" leading\r\nA : b\rc\n d\r\n", "b\rc")
	sc := &searchScratch{}
	f.Fuzz(func(t *testing.T, block, needle string) {
		h, _ := message.ReadHeader(strings.NewReader(block), 1<<16)
		for _, fl := range h {
			checkFieldText(t, sc, fl, needle)
		}
	})
}

func checkFieldText(t *testing.T, sc *searchScratch, f message.Field, needle string) {
	t.Helper()
	lower := strings.ToLower(needle)
	want := strings.Contains(strings.ToLower(f.Name+": "+message.DecodeHeaderText(f.Value())), lower)
	if got := sc.fieldTextContains(f, lower, []byte(lower)); got != want {
		t.Errorf("field %q, needle %q: got %v, want %v", f.Raw, needle, got, want)
	}
}

// TestForEachParallel checks that every index is visited once, that the
// first error stops the work and is returned, that a cancelled context
// stops it, and that a worker's panic reaches the caller.
func TestForEachParallel(t *testing.T) {
	ctx := context.Background()
	for _, workers := range []int{1, 2, 8} {
		var seen [1000]atomic.Int32
		err := forEachParallel(ctx, len(seen), workers, func(_ context.Context, i int, sc *searchScratch) error {
			if sc == nil {
				return errors.New("no scratch")
			}
			seen[i].Add(1)
			return nil
		})
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("workers=%d: index %d visited %d times (err %v)", workers, i, seen[i].Load(), err)
			}
		}
	}
	// Indices past the failing one wait for the cancellation, so the bound
	// on calls does not depend on how the scheduler interleaves workers: a
	// worker that took index 10 and was preempted before running it must
	// not let the others finish the whole range first.
	boom := errors.New("boom")
	var calls atomic.Int32
	err := forEachParallel(ctx, 1000, 2, func(ctx context.Context, i int, _ *searchScratch) error {
		calls.Add(1)
		switch {
		case i == 10:
			return boom
		case i > 10:
			<-ctx.Done()
		}
		return nil
	})
	if !errors.Is(err, boom) || calls.Load() > 13 {
		t.Errorf("error: got %v after %d calls", err, calls.Load())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := forEachParallel(cctx, 10, 2, func(context.Context, int, *searchScratch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	defer func() {
		p, ok := recover().(workerPanic)
		if !ok || fmt.Sprint(p.val) != "worker bug" || !bytes.Contains(p.stack, []byte("TestForEachParallel")) {
			t.Errorf("panic: got %v", p)
		}
	}()
	forEachParallel(ctx, 100, 2, func(_ context.Context, i int, _ *searchScratch) error {
		if i == 50 {
			panic("worker bug")
		}
		return nil
	})
	t.Error("the worker's panic did not reach the caller")
}

// TestFoldASCII checks the eight-bytes-at-a-time folding against the
// byte rule on every byte value, at every alignment.
func TestFoldASCII(t *testing.T) {
	all := make([]byte, 0, 256+16)
	for c := range 256 {
		all = append(all, byte(c))
	}
	for off := range 16 {
		b := append(bytes.Repeat([]byte{'Q'}, off), all...)
		got := foldASCII(bytes.Clone(b))
		for i, c := range b {
			want := c
			if c >= 'A' && c <= 'Z' {
				want = c + 'a' - 'A'
			}
			if got[i] != want {
				t.Fatalf("offset %d: byte %#x folded to %#x, want %#x", off, c, got[i], want)
			}
		}
	}
}

func BenchmarkFoldASCII(b *testing.B) {
	buf := bytes.Repeat([]byte("The Quick Brown Fox Jumps Over The Lazy Dog, Zürich. "), 1200)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		foldASCII(buf)
	}
}
