package smtpserver

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestFramingReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", nil},
		{"crlf lines", "a\r\nb\r\n", nil},
		{"no final line end", "a\r\nb", nil},
		{"bare lf", "a\nb\r\n", ErrBareLineEnd},
		{"bare cr", "a\rb\r\n", ErrBareLineEnd},
		{"cr at end", "a\r", ErrBareLineEnd},
		{"lf first", "\nabc", ErrBareLineEnd},
		{"unstuffed smuggle", "a\r\n\nMAIL FROM:<x>\r\n", ErrBareLineEnd},
		{"nul", "a\x00b\r\n", ErrNUL},
		{"8bit", "caf\xc3\xa9\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time too: state must carry across reads.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				fr := NewFramingReader(r)
				got, err := io.ReadAll(fr)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.in {
					t.Errorf("data changed: %q", got)
				}
				if !errors.Is(fr.Err(), tt.want) {
					t.Errorf("Err() = %v, want %v", fr.Err(), tt.want)
				}
			}
		})
	}
}

// FuzzFramingReader checks that the reader passes every byte through
// unchanged and flags exactly the inputs with a bare CR, a bare LF or a NUL.
func FuzzFramingReader(f *testing.F) {
	for _, s := range []string{"", "a\r\n", "a\n", "\r", "\r\n.\r\n", "x\r\n.\nMAIL", "\x00", "\r\r\n"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		n := int(chunk)%7 + 1
		fr := NewFramingReader(&chunkReader{b: in, n: n})
		got, err := io.ReadAll(fr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("data changed")
		}
		want := framingOracle(in)
		if !errors.Is(fr.Err(), want) && !(want != nil && fr.Err() != nil) {
			t.Fatalf("Err() = %v, want %v for %q", fr.Err(), want, in)
		}
		if (want == nil) != (fr.Err() == nil) {
			t.Fatalf("Err() = %v, want %v for %q", fr.Err(), want, in)
		}
	})
}

// framingOracle is the obvious quadratic-free definition.
func framingOracle(b []byte) error {
	for i, c := range b {
		if c == 0 {
			return ErrNUL
		}
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			return ErrBareLineEnd
		}
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			return ErrBareLineEnd
		}
	}
	return nil
}

type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(r.n, len(p), len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

func TestHeaderPresence(t *testing.T) {
	tests := []struct {
		head        string
		date, msgID bool
	}{
		{"From: a\r\nDate: x\r\nMessage-ID: <y>\r\n\r\nbody", true, true},
		{"From: a\r\nSubject: Date: no\r\n\r\nDate: body", false, false},
		{"message-id:<a>\r\nDATE : x\r\n\r\n", true, true},
		{"From: a\r\n X-Folded: Date: no\r\n\r\n", false, false},
	}
	for _, tt := range tests {
		d, m := headerPresence([]byte(tt.head))
		if d != tt.date || m != tt.msgID {
			t.Errorf("%q: date %v msgid %v, want %v %v", tt.head, d, m, tt.date, tt.msgID)
		}
	}
}
