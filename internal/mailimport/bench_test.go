package mailimport

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkMbox reads a 10,000-message mbox; the reported bytes are the
// file's.
func BenchmarkMbox(b *testing.B) {
	body := strings.Repeat("The quick brown fox jumps over the lazy dog.\n", 20)
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	for i := range 10_000 {
		fmt.Fprintf(w, "From s%d@example.org Mon Jan  2 15:04:05 2006\nStatus: RO\nDate: Mon, 2 Jan 2006 15:04:05 +0000\nSubject: m %d\n\n%s\n", i, i, body)
	}
	w.Flush()
	data := sb.String()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src := newMboxSource(strings.NewReader(data), "bench", int64(len(data)), time.Time{})
		for {
			it, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, it.Content); err != nil {
				b.Fatal(err)
			}
		}
	}
}
