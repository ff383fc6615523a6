package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// newDecoder returns a decoder over s.
func newDecoder(s string, opts Options) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(s)), opts)
}

func TestDecoderTokens(t *testing.T) {
	good := func(in string, parse func(d *Decoder) string, want string) {
		t.Helper()
		d := newDecoder(in, Options{})
		got := parse(d)
		if d.Err() != nil {
			t.Errorf("%q: error %v", in, d.Err())
			return
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	atom := func(d *Decoder) (s string) { d.ExpectAtom(&s); return }
	astring := func(d *Decoder) (s string) { d.ExpectAString(&s); return }
	tag := func(d *Decoder) (s string) { d.ExpectTag(&s); return }
	str := func(d *Decoder) (s string) { d.ExpectString(&s); return }

	good("abc def", atom, "abc")
	good("a]b", atom, "a")
	good("a]b", astring, "a]b")
	good(`"a \"q\" \\ b"`, astring, `a "q" \ b`)
	good("{5}\r\nab\r\nc", astring, "ab\r\nc")
	good("{0}\r\n", astring, "")
	good("{3+}\r\nxyz", str, "xyz")
	good(`""`, str, "")
	good("A001+x", tag, "A001")
	good("a]1 NOOP", tag, "a]1")
	good("\"caf\xc3\xa9\"", str, "caf\xc3\xa9")

	bad := func(in string, parse func(d *Decoder) string) {
		t.Helper()
		d := newDecoder(in, Options{})
		parse(d)
		var se *SyntaxError
		if !errors.As(d.Err(), &se) {
			t.Errorf("%q: got error %v, want a *SyntaxError", in, d.Err())
		}
	}
	bad("(x", atom)
	bad(" x", atom)
	bad("+x", tag)
	bad(`"a\x"`, str)
	bad("\"a\rb\"", str)
	bad("\"a\nb\"", str)
	bad("{3}\r\na\x00b", str)
	bad("{3}\n", str)
	bad("{x}\r\n", str)
	bad("{99999999999999999999}\r\n", str)
	bad("atom", str)
}

func TestDecoderNumbers(t *testing.T) {
	tests := []struct {
		name string
		in   string
		nz   bool
		want uint32
		ok   bool
	}{
		{"zero", "0", false, 0, true},
		{"max", "4294967295", false, 1<<32 - 1, true},
		{"overflow", "4294967296", false, 0, false},
		{"leading zero", "007", false, 7, true},
		{"nz leading zero", "07", true, 0, false},
		{"nz", "17", true, 17, true},
		{"nz zero", "0", true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(tt.in+" ", Options{})
			var n uint32
			if tt.nz {
				d.ExpectNzNumber(&n)
			} else {
				d.ExpectNumber(&n)
			}
			if ok := d.Err() == nil; ok != tt.ok || n != tt.want {
				t.Errorf("got %d, %v (%v); want %d, %v", n, ok, d.Err(), tt.want, tt.ok)
			}
		})
	}
	d := newDecoder("9223372036854775807 9223372036854775808", Options{})
	var v int64
	if !d.ExpectNumber64(&v) || v != 1<<63-1 || !d.ExpectSP() || d.Number64(&v) {
		t.Errorf("number64: %d, %v", v, d.Err())
	}
}

func TestDecoderKeywordAndNIL(t *testing.T) {
	d := newDecoder("NILS nil", Options{})
	if d.NIL() {
		t.Fatal("NIL matched NILS")
	}
	var s string
	if !d.ExpectAtom(&s) || !d.ExpectSP() || !d.NIL() {
		t.Fatalf("nil: %v", d.Err())
	}
	var p *string
	d = newDecoder(`NIL "x"`, Options{})
	if !d.ExpectNString(&p) || p != nil || !d.ExpectSP() || !d.ExpectNString(&p) || *p != "x" {
		t.Fatalf("nstring: %v", d.Err())
	}
}

func TestDecoderStickyError(t *testing.T) {
	d := newDecoder("a b", Options{})
	var s string
	d.ExpectAtom(&s)
	d.ExpectCRLF() // fails: SP is next
	first := d.Err()
	if first == nil {
		t.Fatal("no error")
	}
	if d.SP() || d.ExpectAtom(&s) || d.Err() != first {
		t.Fatal("decoder went on after an error")
	}
}

func TestDecoderEOF(t *testing.T) {
	d := newDecoder("", Options{})
	var tag string
	d.Tag(&tag)
	if d.Err() != io.EOF {
		t.Errorf("EOF at a command start: got %v, want io.EOF", d.Err())
	}
	d = newDecoder("a1 NO", Options{})
	ParseCommandName(d)
	d.ExpectCRLF()
	if d.Err() != io.ErrUnexpectedEOF {
		t.Errorf("EOF mid-command: got %v, want io.ErrUnexpectedEOF", d.Err())
	}
}

func TestDecoderLineLimit(t *testing.T) {
	long := "a1 LOGIN " + strings.Repeat("x", 200) + " p\r\n"
	d := newDecoder(long, Options{MaxLineLength: 100})
	_, err := ParseCommand(d)
	var lt *LineTooLongError
	if !errors.As(err, &lt) || lt.Limit != 100 || !IsFatal(err) {
		t.Fatalf("got %v, want a fatal *LineTooLongError", err)
	}
	// The limit resets at each CRLF: many short commands pass.
	d = newDecoder(strings.Repeat("a1 NOOP\r\n", 50), Options{MaxLineLength: 20})
	for i := range 50 {
		if _, err := ParseCommand(d); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	// A string literal counts against the budget before it is read.
	d = newDecoder("a1 LOGIN {1000}\r\n", Options{MaxLineLength: 100})
	_, err = ParseCommand(d)
	var tb *LiteralTooBigError
	if !errors.As(err, &tb) || tb.Size != 1000 || IsFatal(err) {
		t.Fatalf("got %v, want a non-fatal *LiteralTooBigError", err)
	}
}

func TestDecoderOnLiteral(t *testing.T) {
	var seen []LiteralInfo
	refuse := errors.New("no")
	opts := Options{OnLiteral: func(info LiteralInfo) error {
		seen = append(seen, info)
		if info.Size > 5 {
			return refuse
		}
		return nil
	}}
	d := newDecoder("a1 LOGIN {3}\r\nbob {4+}\r\npass\r\na2 LOGIN {6}\r\na3 NOOP\r\n", opts)
	cmd, err := ParseCommand(d)
	if err != nil || cmd.Args.(LoginArgs) != (LoginArgs{"bob", "pass"}) {
		t.Fatalf("got %+v, %v", cmd, err)
	}
	_, err = ParseCommand(d)
	if !errors.Is(err, refuse) || IsFatal(err) {
		t.Fatalf("got %v, want the hook's error, not fatal", err)
	}
	// A refused synchronising literal ends the line: nothing is skipped.
	if err := d.DiscardLine(); err != nil {
		t.Fatal(err)
	}
	if cmd, err = ParseCommand(d); err != nil || cmd.Tag != "a3" {
		t.Fatalf("after refusal: %+v, %v", cmd, err)
	}
	want := []LiteralInfo{{Size: 3}, {Size: 4, NonSync: true}, {Size: 6}}
	if len(seen) != len(want) {
		t.Fatalf("hook saw %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("hook call %d: %+v, want %+v", i, seen[i], want[i])
		}
	}
}

func TestDecoderNonSyncModes(t *testing.T) {
	big := "a1 LOGIN {5000+}\r\n" + strings.Repeat("x", 5000) + " p\r\na2 NOOP\r\n"
	d := newDecoder(big, Options{NonSync: NonSyncMinus, MaxLineLength: 10000})
	_, err := ParseCommand(d)
	var tb *LiteralTooBigError
	if !errors.As(err, &tb) || !tb.NonSync || tb.Limit != 4096 || !IsFatal(err) {
		t.Fatalf("LITERAL-: got %v", err)
	}
	// A server may skip the data instead of closing.
	if err := d.DiscardLine(); err != nil {
		t.Fatal(err)
	}
	if cmd, err := ParseCommand(d); err != nil || cmd.Tag != "a2" {
		t.Fatalf("after skipping: %+v, %v", cmd, err)
	}
	d = newDecoder("a1 LOGIN {1+}\r\nx p\r\n", Options{NonSync: NonSyncNone})
	_, err = ParseCommand(d)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("no LITERAL+: got %v", err)
	}
}

func TestDecoderDiscardLine(t *testing.T) {
	d := newDecoder("a1 FETCH x(\r\na2 NOOP\r\n", Options{})
	if _, err := ParseCommand(d); err == nil {
		t.Fatal("bad FETCH parsed")
	}
	if err := d.DiscardLine(); err != nil {
		t.Fatal(err)
	}
	if cmd, err := ParseCommand(d); err != nil || cmd.Name != "NOOP" {
		t.Fatalf("got %+v, %v", cmd, err)
	}
	// A quoted string broken by CRLF leaves the CRLF for DiscardLine.
	d = newDecoder("a1 LOGIN \"a\r\na2 NOOP\r\n", Options{})
	if _, err := ParseCommand(d); err == nil {
		t.Fatal("bad LOGIN parsed")
	}
	d.DiscardLine()
	if cmd, err := ParseCommand(d); err != nil || cmd.Tag != "a2" {
		t.Fatalf("got %+v, %v", cmd, err)
	}
}

// TestDiscardLineLiterals: after a command fails before, during or after a
// literal, DiscardLine skips the literals of the rest of the command, so
// the commands hidden in their data ("x1 …") are never parsed, and the
// next command is the next one the client sent (RFC 9051 §4.3, §7.5).
func TestDiscardLineLiterals(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		next     string // tag of the next command; "" for a DiscardLimitError
	}{
		{"unknown command", "a1 FROB {12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"syntax error before", "a1 SELECT INBOX (BOGUS {12+}\r\nx1 LOGOUT\r\n)\r\na2 NOOP\r\n", "a2"},
		{"two literals", "a1 FROB {3+}\r\nabc {12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"literal8", "a1 FROB ~{12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"NUL during", "a1 LOGIN {3+}\r\na\x00b {12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"error after", "a1 LOGIN {5+}\r\nalice secret more {12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"sync ends the command", "a1 FROB {12}\r\na2 NOOP\r\n", "a2"},
		{"bare LF", "a1 FROB {3+}\nx1 \na2 NOOP\r\n", "a2"},
		{"header inside a broken quoted string", "a1 LOGIN \"abc{12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"header after an atom", "a1 SELECT INBOX{12+}\r\nx1 LOGOUT\r\n\r\na2 NOOP\r\n", "a2"},
		{"quoted brace is no literal", "a1 FROB \"{3+}\" x\r\na2 NOOP\r\n", "a2"},
		{"over MaxDiscard", "a1 FROB {100+}\r\n" + strings.Repeat("x", 100) + "\r\na2 NOOP\r\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(tt.in, Options{MaxDiscard: 50})
			if _, err := ParseCommand(d); err == nil {
				t.Fatal("the first command parsed")
			}
			err := d.DiscardLine()
			if tt.next == "" {
				var de *DiscardLimitError
				if !errors.As(err, &de) || de.Size != 100 || !IsFatal(err) {
					t.Fatalf("got %v, want a fatal *DiscardLimitError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cmd, err := ParseCommand(d); err != nil || cmd.Tag != tt.next {
				t.Fatalf("next command %+v, %v; want tag %s", cmd, err, tt.next)
			}
		})
	}
}

func TestDecoderListNesting(t *testing.T) {
	in := "a1 SEARCH " + strings.Repeat("(", 100) + "ALL" + strings.Repeat(")", 100) + "\r\n"
	_, err := ParseCommand(newDecoder(in, Options{}))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a syntax error for deep nesting", err)
	}
	in = "a1 SEARCH " + strings.Repeat("NOT ", 100) + "ALL\r\n"
	if _, err = ParseCommand(newDecoder(in, Options{})); !errors.As(err, &se) {
		t.Fatalf("got %v, want a syntax error for deep NOT", err)
	}
}

func TestMailboxDecoding(t *testing.T) {
	tests := []struct {
		name string
		in   string
		utf8 bool
		want string
		ok   bool
	}{
		{"inbox", "inbox", false, "INBOX", true},
		{"inbox quoted", `"InBoX"`, false, "INBOX", true},
		{"mutf7", "&ZeVnLIqe-", false, "日本語", true},
		{"ampersand", "A&-B", false, "A&B", true},
		{"bad mutf7", "&Jjo", false, "", false},
		{"raw utf8 in rev1", "\"caf\xc3\xa9\"", false, "", false},
		{"utf8 mode", "\"caf\xc3\xa9\"", true, "café", true},
		{"utf8 mode keeps &", "&ZeVnLIqe-", true, "&ZeVnLIqe-", true},
		{"utf8 mode invalid", "\"\xff\"", true, "", false},
		{"literal", "{5}\r\nA/b c", false, "A/b c", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(tt.in, Options{UTF8: tt.utf8})
			var got string
			ok := d.ExpectMailbox(&got)
			if ok != tt.ok || got != tt.want {
				t.Errorf("got %q, %v (%v); want %q, %v", got, ok, d.Err(), tt.want, tt.ok)
			}
			// A grammatical name that the encoding refuses is no syntax
			// error: the server answers NO and reads on.
			var ne *MailboxNameError
			if !ok && (!errors.As(d.Err(), &ne) || IsFatal(d.Err())) {
				t.Errorf("error %v: want a non-fatal *MailboxNameError", d.Err())
			}
		})
	}
	d := newDecoder("%/a*b", Options{})
	var p string
	if !d.ExpectListMailbox(&p) || p != "%/a*b" {
		t.Errorf("list-mailbox: %q, %v", p, d.Err())
	}
}

func TestFlags(t *testing.T) {
	d := newDecoder(`(\seen $Forwarded \ANSWERED \Custom)`, Options{})
	var flags []string
	if !d.ExpectFlagList(&flags) {
		t.Fatal(d.Err())
	}
	want := []string{FlagSeen, "$Forwarded", FlagAnswered, `\Custom`}
	if strings.Join(flags, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", flags, want)
	}
	for _, in := range []string{`(\)`, `(\*)`, `(a`, `(a  b)`, `("x")`} {
		d := newDecoder(in, Options{})
		if d.ExpectFlagList(&flags) {
			t.Errorf("%q accepted as %q", in, flags)
		}
	}
}

func TestFlagPerm(t *testing.T) {
	d := newDecoder(`(\* \Deleted x)`, Options{})
	var got []string
	ok := d.ExpectList(func() bool {
		var f string
		if !d.FlagPerm(&f) {
			return false
		}
		got = append(got, f)
		return true
	})
	if !ok || strings.Join(got, " ") != `\* \Deleted x` {
		t.Errorf("got %q, %v", got, d.Err())
	}
}

// TestKeywordDoesNotBlockOnShortLine: a complete command line shorter than
// the keyword looked for must not make the decoder wait for more input.
func TestKeywordDoesNotBlockOnShortLine(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("ALL\r\n")) // and then nothing: the client waits for us
	dec := NewDecoder(bufio.NewReader(pr), Options{})
	done := make(chan bool)
	go func() { done <- dec.Keyword("RETURN") }()
	select {
	case got := <-done:
		if got {
			t.Error("RETURN matched ALL")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Keyword blocked on a short complete line")
	}
	if !dec.Keyword("ALL") || !dec.CRLF() {
		t.Errorf("ALL CRLF not decoded: %v", dec.Err())
	}
}
