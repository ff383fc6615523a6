package inflate

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// stallReader returns its data and then, instead of blocking, an error
// that says the decoder asked for more than the stream has sent so far.
type stallReader struct{ r io.Reader }

var errStall = errors.New("read past what was sent")

func (s stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		return n, errStall
	}
	return n, err
}

// TestPartialFlush decodes streams that end in zlib's Z_PARTIAL_FLUSH,
// whose trailing empty fixed-code block is not all sent: every line must
// come out without reading past the data (compress/flate's reader holds
// the data back; see the package comment). The streams are Python zlib's
// (compressobj(6, DEFLATED, -15)): a fixed-code block, and 300 pipelined
// commands in a dynamic-code block, as isync/mbsync sends them.
func TestPartialFlush(t *testing.T) {
	pipelined, err := os.ReadFile("testdata/pipelined-partial-flush.bin")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 300 {
		fmt.Fprintf(&want, "%d UID FETCH %d (BODY.PEEK[])\r\n", i+7, i+1)
	}
	fixed, _ := hex.DecodeString("3256f073f4750d0e707476e5e50208")
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"fixed", fixed, "3 NAMESPACE\r\n"},
		{"dynamic", pipelined, want.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bufio.NewReader(stallReader{bytes.NewReader(tc.in)}))
			got := make([]byte, len(tc.want))
			if _, err := io.ReadFull(r, got); err != nil {
				t.Fatalf("after %q: %v", got, err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzInflate checks the decoder against compress/flate: a stream
// compress/flate wrote decodes to its input, and arbitrary bytes decode
// to the same data and the same failure (nil or not) in both.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("a NOOP\r\n"), false)
	f.Add([]byte("3256f073f4750d0e707476e5e50208"), true)
	f.Add(bytes.Repeat([]byte("a UID FETCH 1 (BODY.PEEK[])\r\n"), 50), false)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		in := data
		if !raw {
			var b bytes.Buffer
			zw, _ := flate.NewWriter(&b, flate.BestSpeed)
			zw.Write(data)
			zw.Close()
			in = b.Bytes()
		}
		got, gotErr := io.ReadAll(NewReader(bytes.NewReader(in)))
		want, wantErr := io.ReadAll(flate.NewReader(bytes.NewReader(in)))
		if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("got %q, %v; compress/flate %q, %v", got, gotErr, want, wantErr)
		}
		if !raw && !bytes.Equal(got, data) {
			t.Fatalf("round trip: got %q, want %q", got, data)
		}
	})
}
