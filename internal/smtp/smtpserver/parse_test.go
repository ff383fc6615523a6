package smtpserver

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePath(t *testing.T) {
	good := func(in, addr, rest string, null, postmaster bool) {
		t.Helper()
		a, r, err := parsePath(in, null, postmaster)
		if err != nil || a != addr || r != rest {
			t.Errorf("parsePath(%q) = %q, %q, %v; want %q, %q", in, a, r, err, addr, rest)
		}
	}
	bad := func(in string, null, postmaster bool) {
		t.Helper()
		if a, r, err := parsePath(in, null, postmaster); err == nil {
			t.Errorf("parsePath(%q) = %q, %q; want an error", in, a, r)
		}
	}
	good("<a@example.org>", "a@example.org", "", false, false)
	good("<a@example.org> SIZE=10", "a@example.org", " SIZE=10", false, false)
	good("<>", "", "", true, false)
	good("<@relay.example,@other.example:a@example.org>", "a@example.org", "", false, false) // RFC 5321 §4.1.1.3: route ignored
	good(`<"john smith"@example.org>`, `"john smith"@example.org`, "", false, false)
	good(`<"a\"b>"@example.org>`, `"a\"b>"@example.org`, "", false, false)
	good("<a@[192.0.2.1]>", "a@[192.0.2.1]", "", false, false)
	good("<Postmaster>", "Postmaster", "", false, true)
	good("<jürgen@bücher.example>", "jürgen@bücher.example", "", false, false) // RFC 6531
	good("<a@example.org.>", "a@example.org", "", false, false)
	bad("<>", false, false)
	bad("a@example.org", false, false)
	bad("<a@example.org", false, false)
	bad("<not an address>", false, false)
	bad("<postmaster>", false, false)
	bad("<alice>", false, true)
	bad("<a..b@example.org>", false, false)
	bad("<.a@example.org>", false, false)
	bad("<a@>", false, false)
	bad("<a@-x.example>", false, false)
	bad("<a@[]>", false, false)
	bad("<a@ex ample.org>", false, false)
	bad("<\"unterminated@example.org>", false, false)
	bad("<a\xff@example.org>", false, false)
}

func TestParseParams(t *testing.T) {
	ps, err := parseParams(" SIZE=10 body=8BITMIME SMTPUTF8")
	if err != nil || len(ps) != 3 || ps[0] != (param{"SIZE", "10", true}) || ps[1].key != "BODY" || ps[2] != (param{"SMTPUTF8", "", false}) {
		t.Errorf("parseParams = %+v, %v", ps, err)
	}
	for _, in := range []string{"SIZE=", "=10", "SIZE=1 SIZE=2", "-X=1", "SI ZE=\x01", "X=a=b"} {
		if ps, err := parseParams(in); err == nil {
			t.Errorf("parseParams(%q) = %+v; want an error", in, ps)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][2]string{
		"EHLO x":              {"EHLO", "x"},
		"mail FROM:<a@b.c>  ": {"MAIL", "FROM:<a@b.c>"},
		"QUIT":                {"QUIT", ""},
		"STARTTLS":            {"STARTTLS", ""},
	} {
		v, a, ok := splitCommand(in)
		if !ok || v != want[0] || a != want[1] {
			t.Errorf("splitCommand(%q) = %q, %q, %v", in, v, a, ok)
		}
	}
	for _, in := range []string{"", " EHLO", "GET/ x", "\x16\x03\x01", "ABCDEFGHIJK x", "HEL0 x"} {
		if v, _, ok := splitCommand(in); ok {
			t.Errorf("splitCommand(%q) = %q; want not ok", in, v)
		}
	}
}

func TestSanitizeHelo(t *testing.T) {
	for in, want := range map[string]string{
		"mx.example.org":         "mx.example.org",
		"bad\x00host\xff\x01x y": "bad?host??x",
		"[192.0.2.1]":            "[192.0.2.1]",
		"bücher.example":         "bücher.example",
		"\u0085x":                "?x",
		"":                       "",
	} {
		if got := sanitizeHelo(in); got != want {
			t.Errorf("sanitizeHelo(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sanitizeHelo(strings.Repeat("a", 1000)); len(got) != maxHelo {
		t.Errorf("sanitizeHelo kept %d octets, want %d", len(got), maxHelo)
	}
}

// dotStuff is the client side of DATA (RFC 5321 §4.5.2).
func dotStuff(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, ".") {
			b.WriteByte('.')
		}
		b.WriteString(l + "\r\n")
	}
	return b.String() + ".\r\n"
}

func TestDotReader(t *testing.T) {
	for _, tt := range []struct{ name, wire, want, rest string }{
		{"plain", "a\r\nb\r\n.\r\nNEXT", "a\r\nb\r\n", "NEXT"},
		{"stuffed", "..x\r\n.\r\n", ".x\r\n", ""},
		{"empty", ".\r\n", "", ""},
		{"bare LF dot is content", "a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", ""},
		{"dot CR without LF keeps the CR", ".\rx\r\n.\r\n", "\rx\r\n", ""},
		{"CR dot CR is content", "a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", ""},
	} {
		br := bufio.NewReader(strings.NewReader(tt.wire))
		got, err := io.ReadAll(newDotReader(br))
		rest, _ := io.ReadAll(br)
		if err != nil || string(got) != tt.want || string(rest) != tt.rest {
			t.Errorf("%s: read %q (%v), rest %q; want %q, rest %q", tt.name, got, err, rest, tt.want, tt.rest)
		}
	}
	_, err := io.ReadAll(newDotReader(bufio.NewReader(strings.NewReader("no end\r\n"))))
	if err != io.ErrUnexpectedEOF {
		t.Errorf("unterminated data: %v, want io.ErrUnexpectedEOF", err)
	}
}

// FuzzDotReader: dot-stuffing CRLF lines and reading them back gives the
// lines again and leaves what follows the marker unread; on any input the
// reader never returns more than it read and never panics.
func FuzzDotReader(f *testing.F) {
	for _, s := range []string{"a\nb", ".\n..", "", "x\r.y", ".\r", "\r\n.\r\n"} {
		f.Add(s, []byte("a\r\n.\r\n"))
	}
	f.Fuzz(func(t *testing.T, text string, raw []byte) {
		lines := strings.Split(strings.NewReplacer("\r", "", "\n", "\x00").Replace(text), "\x00")
		wire := dotStuff(lines) + "AFTER"
		br := bufio.NewReader(strings.NewReader(wire))
		got, err := io.ReadAll(newDotReader(br))
		want := strings.Join(lines, "\r\n") + "\r\n"
		if err != nil || string(got) != want {
			t.Fatalf("lines %q: read %q, %v", lines, got, err)
		}
		if rest, _ := io.ReadAll(br); string(rest) != "AFTER" {
			t.Fatalf("rest %q", rest)
		}
		out, _ := io.ReadAll(newDotReader(bufio.NewReader(bytes.NewReader(raw))))
		if len(out) > len(raw) {
			t.Fatalf("%d octets out of %d in", len(out), len(raw))
		}
	})
}

// FuzzParseCommand: the command-line parsers never panic, and what they
// accept is well formed: an upper-case verb, a mailbox without NUL or line ends,
// parameters with upper-case keywords; sanitised HELO names are valid
// UTF-8 without controls.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"MAIL FROM:<a@b.c> SIZE=1", "RCPT TO:<Postmaster>", `EHLO "x"`, "BDAT 10 LAST", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if v, _, ok := splitCommand(line); ok && strings.ToUpper(v) != v {
			t.Fatalf("verb %q", v)
		}
		for _, null := range []bool{false, true} {
			if a, _, err := parsePath(line, null, !null); err == nil && strings.ContainsAny(a, "\x00\r\n") {
				t.Fatalf("path %q from %q", a, line)
			}
		}
		if ps, err := parseParams(line); err == nil {
			for _, p := range ps {
				if p.key != strings.ToUpper(p.key) || p.key == "" {
					t.Fatalf("param %+v", p)
				}
			}
		}
		h := sanitizeHelo(line)
		if !utf8.ValidString(h) || strings.ContainsAny(h, "\x00\x01\r\n \x7f") || len(h) > maxHelo {
			t.Fatalf("helo %q", h)
		}
	})
}
