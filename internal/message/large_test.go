package message

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
)

// genReader streams a synthetic multipart message with one large base64
// attachment, without ever holding it in memory.
type genReader struct {
	parts   [][]byte // head, then the repeated line, then the tail
	lines   int      // repetitions of parts[1] left
	pending []byte
	stage   int
}

const genLine = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"

func newGenReader(size int64) (*genReader, int64) {
	head := crlf(`From: big@example.org
Subject: big
Content-Type: multipart/mixed; boundary="--=_big"

----=_big
Content-Type: text/plain

see attachment
----=_big
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

`)
	tail := "\r\n----=_big--\r\n"
	lines := int((size - int64(len(head)) - int64(len(tail))) / int64(len(genLine)))
	total := int64(len(head)) + int64(lines)*int64(len(genLine)) + int64(len(tail))
	return &genReader{parts: [][]byte{[]byte(head), []byte(genLine), []byte(tail)}, lines: lines}, total
}

func (g *genReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.pending) == 0 {
			switch {
			case g.stage == 0:
				g.pending, g.stage = g.parts[0], 1
			case g.stage == 1 && g.lines > 0:
				g.pending = g.parts[1]
				g.lines--
			case g.stage == 1:
				g.pending, g.stage = g.parts[2], 2
			default:
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
		}
		m := copy(p[n:], g.pending)
		g.pending = g.pending[m:]
		n += m
	}
	return n, nil
}

// TestParseLargeBoundedMemory parses a 100 MiB message from a stream and
// checks that memory does not grow with its size.
func TestParseLargeBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB parse skipped in -short mode")
	}
	r, size := newGenReader(100 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Parse(NewCRLFReader(r))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	const budget = 16 << 20
	t.Logf("parsed %d bytes: TotalAlloc +%d, HeapInuse %+d", size, after.TotalAlloc-before.TotalAlloc, int64(after.HeapInuse)-int64(before.HeapInuse))
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > budget {
		t.Errorf("allocated %d bytes parsing %d bytes, budget %d", alloc, size, budget)
	}
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > budget {
		t.Errorf("heap in use grew by %d bytes", grow)
	}
	if err := checkInvariants(p, size); err != nil {
		t.Fatal(err)
	}
	if p.End != size || len(p.Parts) != 2 {
		t.Fatalf("End %d of %d, %d parts", p.End, size, len(p.Parts))
	}
	att := p.Parts[1]
	wantLen := size - att.BodyStart - int64(len("\r\n----=_big--\r\n"))
	if att.End-att.BodyStart != wantLen || att.BodyLines != wantLen/int64(len(genLine)) {
		t.Errorf("attachment body %d bytes %d lines, want %d bytes", att.End-att.BodyStart, att.BodyLines, wantLen)
	}
}

func benchMessage(attachment int) []byte {
	var b bytes.Buffer
	b.WriteString(crlf("From: \"Bench Sender\" <bench@example.org>\nTo: a@example.org, B <b@example.org>\nSubject: =?utf-8?q?benchmark?=\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <bench@example.org>\nContent-Type: multipart/mixed; boundary=\"mix\"\n\n--mix\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"))
	for i := 0; i < 80; i++ {
		b.WriteString("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n")
	}
	b.WriteString(crlf("--alt\nContent-Type: text/html; charset=utf-8\n\n"))
	for i := 0; i < 80; i++ {
		b.WriteString("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>\r\n")
	}
	b.WriteString(crlf("--alt--\n--mix\nContent-Type: application/pdf; name=\"a.pdf\"\nContent-Disposition: attachment; filename=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\n"))
	for b.Len() < attachment {
		b.WriteString(genLine)
	}
	b.WriteString(crlf("--mix--\n"))
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"multipart-20KiB", benchMessage(20 << 10)},
		{"attachment-2MiB", benchMessage(2 << 20)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bytes.NewReader(bc.msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCRLFReader(b *testing.B) {
	msg := []byte(strings.ReplaceAll(string(benchMessage(2<<20)), "\r\n", "\n"))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, NewCRLFReader(bytes.NewReader(msg))); err != nil {
			b.Fatal(err)
		}
	}
}
