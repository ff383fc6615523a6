package pop3server

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// stuffRef is byte-stuffing done the obvious way, line by line (RFC 1939
// §3), for comparison.
func stuffRef(p []byte) []byte {
	var out []byte
	bol := true
	for _, b := range p {
		if bol && b == '.' {
			out = append(out, '.')
		}
		out = append(out, b)
		bol = b == '\n'
	}
	return out
}

// TestStufferChunks: the stuffer gives the same bytes however the content
// is cut into writes, dots at chunk edges included.
func TestStufferChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(".\r\nab")
	for i := range 500 {
		content := make([]byte, rng.IntN(200))
		for j := range content {
			content[j] = alphabet[rng.IntN(len(alphabet))]
		}
		var got bytes.Buffer
		bw := bufio.NewWriterSize(&got, 16)
		s := &stuffer{w: bw, bol: true, trace: func([]byte) {}}
		for rest := content; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(8))
			if n, err := s.Write(rest[:k]); n != k || err != nil {
				t.Fatalf("case %d: Write = %d, %v", i, n, err)
			}
			rest = rest[k:]
		}
		bw.Flush()
		if want := stuffRef(content); !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("case %d: content %q\ngot  %q\nwant %q", i, content, got.Bytes(), want)
		}
		if wantBOL := len(content) == 0 || content[len(content)-1] == '\n'; s.bol != wantBOL {
			t.Fatalf("case %d: bol %v after %q", i, s.bol, content)
		}
	}
}

// TestStufferEnd: the terminator is CRLF "." CRLF whatever the content
// ends with: a CRLF is added after content that ends without one, a bare
// LF included (a literal8 IMAP upload is stored exactly).
func TestStufferEnd(t *testing.T) {
	for content, wantCRLF := range map[string]bool{"": true, "a\r\n": true, "a\n": false, "a": false, "a\r": false, "\n": false} {
		s := &stuffer{w: bufio.NewWriter(&bytes.Buffer{}), bol: true, trace: func([]byte) {}}
		for i := range len(content) {
			s.Write([]byte{content[i]})
		}
		if got := !s.wrote || s.endsCRLF(); got != wantCRLF {
			t.Errorf("%q: ends as a line %v, want %v", content, got, wantCRLF)
		}
	}
}

// TestRETRLargeDotted: a message larger than the copy buffer, with
// dotted lines on both sides of the buffer's edge, comes back whole.
func TestRETRLargeDotted(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	var b strings.Builder
	b.WriteString("Subject: big\r\n\r\n")
	for b.Len() < 3*copyBufSize {
		b.WriteString(".dotted line\r\nplain line\r\n..\r\n")
	}
	msg := b.String()
	if err := f.deliver("alice", "INBOX", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK "+strconv.Itoa(len(msg))+" octets")
	got := strings.Join(c.body(), "\r\n") + "\r\n"
	if got != msg {
		t.Fatalf("RETR returned %d octets, want %d", len(got), len(msg))
	}
}
