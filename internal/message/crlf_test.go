package message

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var crlfReaderTests = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"crlf unchanged", "a\r\nb\r\n", "a\r\nb\r\n"},
	{"bare lf", "a\nb\n", "a\r\nb\r\n"},
	{"bare cr", "a\rb\r", "a\r\nb\r\n"},
	{"cr cr lf", "a\r\r\nb", "a\r\n\r\nb"},
	{"lf cr", "a\n\rb", "a\r\n\r\nb"},
	{"lf lf", "\n\n", "\r\n\r\n"},
	{"trailing cr", "abc\r", "abc\r\n"},
	{"binary kept", "\x00\xff\r\x80", "\x00\xff\r\n\x80"},
}

func TestCRLFReader(t *testing.T) {
	for _, tc := range crlfReaderTests {
		t.Run(tc.name, func(t *testing.T) {
			readers := map[string]io.Reader{
				"whole":    NewCRLFReader(strings.NewReader(tc.in)),
				"one byte": NewCRLFReader(iotest.OneByteReader(strings.NewReader(tc.in))),
				"half":     NewCRLFReader(iotest.HalfReader(strings.NewReader(tc.in))),
			}
			for name, r := range readers {
				got, err := io.ReadAll(r)
				if err != nil || string(got) != tc.want {
					t.Errorf("%s: got %q, %v; want %q", name, got, err, tc.want)
				}
			}
			// A 1-byte destination forces the LF of an emitted CRLF to
			// be carried over to the next Read.
			got, err := io.ReadAll(iotest.OneByteReader(NewCRLFReader(strings.NewReader(tc.in))))
			if err != nil || string(got) != tc.want {
				t.Errorf("1-byte reads: got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestCRLFReaderSplitAcrossBuffer(t *testing.T) {
	// A CRLF split between two fills of the internal buffer stays CRLF.
	in := strings.Repeat("x", crlfBufSize-1) + "\r\n" + "y"
	got, err := io.ReadAll(NewCRLFReader(strings.NewReader(in)))
	if err != nil || string(got) != in {
		t.Fatalf("got %d bytes, %v; want the input unchanged", len(got), err)
	}
}

func TestCRLFReaderError(t *testing.T) {
	r := NewCRLFReader(iotest.TimeoutReader(strings.NewReader("ab\n")))
	buf := make([]byte, 10)
	n, err := r.Read(buf)
	if string(buf[:n]) != "ab\r\n" || err != nil {
		t.Fatalf("first read %q, %v", buf[:n], err)
	}
	if _, err := r.Read(buf); err != iotest.ErrTimeout {
		t.Fatalf("second read error %v, want ErrTimeout", err)
	}
}

// normaliseRef is the obvious whole-input implementation FuzzCRLFReader
// compares against.
func normaliseRef(in []byte) []byte {
	var out []byte
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, in[i])
		}
	}
	return out
}
