package message

import (
	"bytes"
	"testing"
)

// unfoldByByte is the byte-at-a-time unfolding AppendUnfolded must equal:
// every LF removed, a CR removed when an LF follows, then white space
// trimmed at both ends.
func unfoldByByte(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\n':
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
		default:
			out = append(out, b[i])
		}
	}
	return string(bytes.Trim(out, " \t\r"))
}

func TestAppendUnfolded(t *testing.T) {
	for _, raw := range []string{"", " a\r\n b \r\n", " \r\n\tb", "a\r\r\n c", "x\n\ny", "\r", "\r\n", " a\rb\r\n", "v"} {
		want := unfoldByByte([]byte(raw))
		if got := string(AppendUnfolded([]byte("keep"), []byte(raw))); got != "keep"+want {
			t.Errorf("%q: got %q, want %q", raw, got, "keep"+want)
		}
		if got := unfold([]byte(raw)); got != want {
			t.Errorf("unfold %q: got %q, want %q", raw, got, want)
		}
	}
}

func FuzzAppendUnfolded(f *testing.F) {
	f.Add([]byte(" a\r\n b \r\n"), []byte("x"))
	f.Add([]byte("\r\r\n\t"), []byte(""))
	f.Fuzz(func(t *testing.T, raw, prefix []byte) {
		want := string(prefix) + unfoldByByte(raw)
		if got := string(AppendUnfolded(bytes.Clone(prefix), raw)); got != want {
			t.Errorf("%q after %q: got %q, want %q", raw, prefix, got, want)
		}
	})
}
