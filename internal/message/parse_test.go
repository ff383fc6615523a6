package message

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// partWant is the expected shape of one part, found by walk path. Header and
// body are written with LF line ends and compared after crlf().
type partWant struct {
	path     string
	mime     string // type/subtype
	header   string // checked when non-empty
	body     string
	lines    int64
	encoding string // checked when non-empty
}

var parseStructureTests = []struct {
	name  string
	msg   string
	parts []partWant
}{
	{
		name: "simple text",
		msg:  "From: a@example.org\nSubject: hi\n\nhello\nworld\n",
		parts: []partWant{
			{path: "", mime: "text/plain", header: "From: a@example.org\nSubject: hi\n\n", body: "hello\nworld\n", lines: 2, encoding: "7BIT"},
		},
	},
	{
		name: "last line without terminator",
		msg:  "Subject: x\n\nhello\nworld",
		parts: []partWant{
			{path: "", mime: "text/plain", body: "hello\nworld", lines: 1},
		},
	},
	{
		name: "no header, body",
		msg:  "\nbody text\n",
		parts: []partWant{
			{path: "", mime: "text/plain", header: "\n", body: "body text\n", lines: 1},
		},
	},
	{
		name: "header only, no blank line",
		msg:  "Subject: x\nFrom: a@b.example\n",
		parts: []partWant{
			{path: "", mime: "text/plain", header: "Subject: x\nFrom: a@b.example\n", body: ""},
		},
	},
	{
		name: "header only, no line terminator",
		msg:  "Subject: x",
		parts: []partWant{
			{path: "", mime: "text/plain", header: "Subject: x", body: ""},
		},
	},
	{
		name: "multipart mixed with nested alternative",
		msg: `From: a@example.org
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

plain text
--inner
Content-Type: text/html; charset=utf-8

<p>html</p>

--inner--
--outer
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC
--outer--
epilogue
`,
		parts: []partWant{
			{path: "", mime: "multipart/mixed", body: "preamble\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\nplain text\n--inner\nContent-Type: text/html; charset=utf-8\n\n<p>html</p>\n\n--inner--\n--outer\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC\n--outer--\nepilogue\n", lines: 21},
			{path: "0", mime: "multipart/alternative", header: "Content-Type: multipart/alternative; boundary=inner\n\n", body: "--inner\nContent-Type: text/plain\n\nplain text\n--inner\nContent-Type: text/html; charset=utf-8\n\n<p>html</p>\n\n--inner--", lines: 9},
			{path: "0.0", mime: "text/plain", header: "Content-Type: text/plain\n\n", body: "plain text", lines: 0},
			{path: "0.1", mime: "text/html", body: "<p>html</p>\n", lines: 1},
			{path: "1", mime: "application/octet-stream", body: "AAEC", encoding: "BASE64"},
		},
	},
	{
		name: "message/rfc822 attachment with multipart inside",
		msg: `From: outer@example.org
Subject: fwd
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain

see attached
--b1
Content-Type: message/rfc822
Content-Disposition: attachment; filename=fwd.eml

From: Inner Person <inner@example.net>
Subject: inner subject
Content-Type: multipart/alternative; boundary=b2

--b2

inner plain
--b2
Content-Type: text/html

<b>inner</b>
--b2--

--b1--
`,
		parts: []partWant{
			{path: "0", mime: "text/plain", body: "see attached"},
			{path: "1", mime: "message/rfc822", body: "From: Inner Person <inner@example.net>\nSubject: inner subject\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\n\ninner plain\n--b2\nContent-Type: text/html\n\n<b>inner</b>\n--b2--\n", lines: 12},
			{path: "1.0", mime: "multipart/alternative", header: "From: Inner Person <inner@example.net>\nSubject: inner subject\nContent-Type: multipart/alternative; boundary=b2\n\n", body: "--b2\n\ninner plain\n--b2\nContent-Type: text/html\n\n<b>inner</b>\n--b2--\n", lines: 8},
			{path: "1.0.0", mime: "text/plain", header: "\n", body: "inner plain"},
			{path: "1.0.1", mime: "text/html", body: "<b>inner</b>"},
		},
	},
	{
		name: "multipart/digest default type",
		msg: `Content-Type: multipart/digest; boundary=d

--d

From: one@example.org
Subject: one

first
--d
Content-Type: text/plain

not a message
--d--
`,
		parts: []partWant{
			{path: "0", mime: "message/rfc822", header: "\n", body: "From: one@example.org\nSubject: one\n\nfirst", lines: 3},
			{path: "0.0", mime: "text/plain", header: "From: one@example.org\nSubject: one\n\n", body: "first"},
			{path: "1", mime: "text/plain", body: "not a message"},
		},
	},
	{
		name: "missing end boundary",
		msg: `Content-Type: multipart/mixed; boundary=b

--b

first
--b

second
`,
		parts: []partWant{
			{path: "0", mime: "text/plain", body: "first"},
			{path: "1", mime: "text/plain", body: "second\n", lines: 1},
		},
	},
	{
		name: "missing inner end boundary closed by outer",
		msg: `Content-Type: multipart/mixed; boundary=out

--out
Content-Type: multipart/alternative; boundary=in

--in

inner
--out

after
--out--
`,
		parts: []partWant{
			{path: "0", mime: "multipart/alternative", body: "--in\n\ninner", lines: 2},
			{path: "0.0", mime: "text/plain", body: "inner"},
			{path: "1", mime: "text/plain", body: "after"},
		},
	},
	{
		name: "boundary prefixes inside a base64 body are not delimiters",
		msg: `Content-Type: multipart/mixed; boundary=abc

--abc
Content-Transfer-Encoding: base64

QUJD
--abcdef
--abc--x
--abc -
 --abc
--ab
QUJD
--abc--
`,
		parts: []partWant{
			{path: "0", mime: "text/plain", body: "QUJD\n--abcdef\n--abc--x\n--abc -\n --abc\n--ab\nQUJD", lines: 6, encoding: "BASE64"},
		},
	},
	{
		name: "nested boundary that extends the outer one",
		msg: `Content-Type: multipart/mixed; boundary="=_P"

--=_P
Content-Type: multipart/alternative; boundary="=_P_1"

--=_P_1

one
--=_P_1--
--=_P  
Content-Type: text/plain

two
--=_P--	
`,
		parts: []partWant{
			{path: "0", mime: "multipart/alternative", body: "--=_P_1\n\none\n--=_P_1--", lines: 3},
			{path: "0.0", mime: "text/plain", body: "one"},
			{path: "1", mime: "text/plain", body: "two"},
		},
	},
	{
		name: "same boundary reused by a nested multipart",
		msg: `Content-Type: multipart/mixed; boundary=x

--x
Content-Type: multipart/mixed; boundary=x

--x

inner
--x--
--x--
`,
		parts: []partWant{
			{path: "0", mime: "multipart/mixed", body: "--x\n\ninner\n--x--", lines: 3},
			{path: "0.0", mime: "text/plain", body: "inner"},
		},
	},
	{
		name: "multipart without boundary parameter is text",
		msg:  "Content-Type: multipart/mixed\n\n--x\n\nbody\n",
		parts: []partWant{
			{path: "", mime: "text/plain", body: "--x\n\nbody\n", lines: 3},
		},
	},
	{
		name: "multipart without any delimiter gets an empty part",
		msg:  "Content-Type: multipart/mixed; boundary=x\n\njust text\n",
		parts: []partWant{
			{path: "", mime: "multipart/mixed", body: "just text\n", lines: 1},
			{path: "0", mime: "text/plain", body: ""},
		},
	},
	{
		name: "part header runs into a delimiter",
		msg:  "Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/html\n--x\n--x--\n",
		parts: []partWant{
			{path: "0", mime: "text/html", header: "Content-Type: text/html", body: ""},
			{path: "1", mime: "text/plain", header: "", body: ""},
		},
	},
	{
		name: "invalid content-type is text/plain",
		msg:  "Content-Type: garbage\nContent-Transfer-Encoding: Quoted-Printable (comment)\n\nx\n",
		parts: []partWant{
			{path: "", mime: "text/plain", body: "x\n", lines: 1, encoding: "QUOTED-PRINTABLE"},
		},
	},
	{
		name: "base64 message/rfc822 stays opaque",
		msg:  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQp4\n",
		parts: []partWant{
			{path: "", mime: "message/rfc822", body: "U3ViamVjdDogeA0KDQp4\n", lines: 1, encoding: "BASE64"},
		},
	},
	{
		name: "empty message/rfc822 body still has a message",
		msg:  "Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\n--x--\n",
		parts: []partWant{
			{path: "0", mime: "message/rfc822", body: ""},
			{path: "0.0", mime: "text/plain", header: "", body: ""},
		},
	},
}

func TestParseStructure(t *testing.T) {
	for _, tc := range parseStructureTests {
		t.Run(tc.name, func(t *testing.T) {
			root, norm := mustParse(t, tc.msg)
			for _, w := range tc.parts {
				p, err := walk(root, w.path)
				if err != nil {
					t.Fatalf("%s: %v", w.path, err)
				}
				if got := p.Type + "/" + p.Subtype; got != w.mime {
					t.Errorf("part %q: type %s, want %s", w.path, got, w.mime)
				}
				if w.header != "" || w.path != "" && w.mime != "multipart/mixed" {
					if got := norm[p.HeaderStart:p.BodyStart]; w.header != "" && got != crlf(w.header) {
						t.Errorf("part %q: header %q, want %q", w.path, got, crlf(w.header))
					}
				}
				if got := norm[p.BodyStart:p.End]; got != crlf(w.body) {
					t.Errorf("part %q: body %q, want %q", w.path, got, crlf(w.body))
				}
				if p.BodyLines != w.lines {
					t.Errorf("part %q: %d lines, want %d", w.path, p.BodyLines, w.lines)
				}
				if p.BodyLines != countLF(norm[p.BodyStart:p.End]) {
					t.Errorf("part %q: BodyLines %d is not the LF count", w.path, p.BodyLines)
				}
				if w.encoding != "" && p.Encoding != w.encoding {
					t.Errorf("part %q: encoding %q, want %q", w.path, p.Encoding, w.encoding)
				}
			}
		})
	}
}

// TestParseEndExcludesDelimiterCRLF pins the RFC 2046 §5.1.1 rule: the CRLF
// before a delimiter line is not part of the preceding body.
func TestParseEndExcludesDelimiterCRLF(t *testing.T) {
	root, norm := mustParse(t, "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nline1\nline2\n\n--b--\n")
	p := root.Parts[0]
	if got := norm[p.BodyStart:p.End]; got != "line1\r\nline2\r\n" {
		t.Fatalf("body %q", got)
	}
	if got := norm[p.End:]; !strings.HasPrefix(got, "\r\n--b--") {
		t.Fatalf("after End: %q, want the delimiter's CRLF", got)
	}
	if p.BodyLines != 2 {
		t.Fatalf("lines %d, want 2", p.BodyLines)
	}
}

func TestParseEnvelope(t *testing.T) {
	root, _ := mustParse(t, `Date: Mon, 7 Feb 1994 21:52:25
 -0800 (PST)
From: "Fred Foobar" <foobar@Blurdybloop.example>
Subject: =?iso-8859-1?q?afternoon_meeting?=
To: mooch@owatagu.siam.edu.example
Cc: undisclosed-recipients:;
Bcc: Friends: a@x.example, "B" <b@y.example>;, c@z.example
Message-Id: <B27397-0100000@Blurdybloop.example>
In-Reply-To: <x@y>
Content-Type: message/rfc822

From: Inner <inner@example.net>
Sender: sender@example.net
Reply-To: reply@example.net
Subject: inner

x
`)
	want := &Envelope{
		Date:    "Mon, 7 Feb 1994 21:52:25 -0800 (PST)",
		Subject: "=?iso-8859-1?q?afternoon_meeting?=",
		From:    []Address{{Name: "Fred Foobar", Mailbox: "foobar", Host: "Blurdybloop.example"}},
		Sender:  []Address{{Name: "Fred Foobar", Mailbox: "foobar", Host: "Blurdybloop.example"}},
		ReplyTo: []Address{{Name: "Fred Foobar", Mailbox: "foobar", Host: "Blurdybloop.example"}},
		To:      []Address{{Mailbox: "mooch", Host: "owatagu.siam.edu.example"}},
		Cc:      []Address{{Group: true, Mailbox: "undisclosed-recipients"}, {Group: true}},
		Bcc: []Address{
			{Group: true, Mailbox: "Friends"},
			{Mailbox: "a", Host: "x.example"},
			{Name: "B", Mailbox: "b", Host: "y.example"},
			{Group: true},
			{Mailbox: "c", Host: "z.example"},
		},
		InReplyTo: "<x@y>",
		MessageID: "<B27397-0100000@Blurdybloop.example>",
	}
	if !reflect.DeepEqual(root.Envelope, want) {
		t.Errorf("envelope\n got %+v\nwant %+v", root.Envelope, want)
	}
	inner := root.Message()
	if inner == nil || inner.Envelope == nil {
		t.Fatal("no embedded message")
	}
	if got := inner.Envelope.Sender; !reflect.DeepEqual(got, []Address{{Mailbox: "sender", Host: "example.net"}}) {
		t.Errorf("inner sender %+v", got)
	}
	if got := inner.Envelope.ReplyTo; !reflect.DeepEqual(got, []Address{{Mailbox: "reply", Host: "example.net"}}) {
		t.Errorf("inner reply-to %+v", got)
	}
	if inner.Envelope.Subject != "inner" {
		t.Errorf("inner subject %q", inner.Envelope.Subject)
	}
}

func TestParseMIMEFields(t *testing.T) {
	root, _ := mustParse(t, `Content-Type: multipart/mixed; boundary=b

--b
Content-Type: application/x-stuff;
 title*0*=us-ascii'en'This%20is%20even%20more%20;
 title*1*=%2A%2A%2Afun%2A%2A%2A%20;
 title*2="isn't it!"; name="=?utf-8?q?x?="
Content-ID: <id@example>
Content-Description: =?utf-8?q?d=C3=A9scription?=
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: ATTACHMENT; filename*=iso-8859-1''%E9t%E9.txt; size=3
Content-Language: en, de-CH
Content-Location: http://example.org/
  x
Content-Transfer-Encoding: 8bit

abc
--b--
`)
	p := root.Parts[0]
	want := &Part{
		HeaderStart: p.HeaderStart, BodyStart: p.BodyStart, End: p.End,
		Type: "application", Subtype: "x-stuff",
		Params: []Param{
			{Name: "title", Value: "This is even more ***fun*** isn't it!"},
			{Name: "name", Value: "=?utf-8?q?x?="},
		},
		ID:                "<id@example>",
		Description:       "=?utf-8?q?d=C3=A9scription?=",
		MD5:               "Q2hlY2sgSW50ZWdyaXR5IQ==",
		Encoding:          "8BIT",
		Disposition:       "attachment",
		DispositionParams: []Param{{Name: "filename", Value: "été.txt"}, {Name: "size", Value: "3"}},
		Language:          []string{"en", "de-CH"},
		Location:          "http://example.org/  x",
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("part\n got %+v\nwant %+v", p, want)
	}
}

func TestParse8BitHeaders(t *testing.T) {
	root, norm := mustParse(t, "Subject: Grüße \xe9t\xe9\nFrom: Jörg Müller <joerg@example.de>\n\nbody\n")
	if got := root.Envelope.Subject; got != "Grüße \xe9t\xe9" {
		t.Errorf("subject %q: raw bytes must be kept", got)
	}
	if got := root.Envelope.From; !reflect.DeepEqual(got, []Address{{Name: "Jörg Müller", Mailbox: "joerg", Host: "example.de"}}) {
		t.Errorf("from %+v", got)
	}
	if got := DecodeHeaderText(root.Envelope.Subject); got != "Grüße \uFFFDt\uFFFD" {
		t.Errorf("decoded %q", got)
	}
	if norm[root.BodyStart:] != "body\r\n" {
		t.Errorf("body %q", norm[root.BodyStart:])
	}
}

// TestParseLineEndings parses LF-only and CR-only input through
// NewCRLFReader: both must give the same structure as CRLF input.
func TestParseLineEndings(t *testing.T) {
	msg := "From: a@b.example\nContent-Type: multipart/mixed; boundary=z\n\n--z\n\none\ntwo\n--z--\n"
	want, _ := mustParse(t, msg)
	for _, tc := range []struct{ name, in string }{
		{"LF", msg},
		{"CR", strings.ReplaceAll(msg, "\n", "\r")},
		{"CRLF", crlf(msg)},
		{"mixed", strings.Replace(strings.ReplaceAll(msg, "\n", "\r"), "\r", "\r\n", 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(NewCRLFReader(strings.NewReader(tc.in)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("structure differs\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

var parseMalformedTests = []struct {
	name string
	msg  string
	bad  bool
}{
	{"empty", "", true},
	{"no colon", "hello world\r\n\r\nbody\r\n", true},
	{"binary garbage", "\x00\x01\x02\xff\xfe binary", true},
	{"mbox From line", "From foo@example.org Mon Jan  1 00:00:00 2024\r\nSubject: x\r\n\r\n", true},
	{"leading continuation", " Subject: x\r\n\r\n", true},
	{"space in name", "Sub ject: x\r\n\r\n", true},
	{"blank first line", "\r\nbody", false},
	{"bare LF first line", "\nbody", false},
	{"header field", "X: y", false},
	{"obsolete space before colon", "Subject : x\r\n\r\n", false},
	{"empty value", "Subject:\r\n", false},
}

func TestParseMalformed(t *testing.T) {
	for _, tc := range parseMalformedTests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tc.msg))
			if tc.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := checkInvariants(p, int64(len(tc.msg))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	r := readerFunc(func(i int, p []byte) (int, error) {
		if i == 0 {
			return copy(p, "Subject: x\r\n\r\nbody"), nil
		}
		return 0, errors.New("disk on fire")
	})
	if _, err := Parse(r); err == nil || errors.Is(err, ErrMalformed) {
		t.Fatalf("err %v, want the read error", err)
	}
	if _, err := Parse(errReader{}); err == nil {
		t.Fatal("no error")
	}
}

// readerFunc adapts a function to io.Reader; i counts calls.
type readerFuncT struct {
	f func(i int, p []byte) (int, error)
	i int
}

func (r *readerFuncT) Read(p []byte) (int, error) {
	n, err := r.f(r.i, p)
	r.i++
	return n, err
}

func readerFunc(f func(i int, p []byte) (int, error)) *readerFuncT {
	return &readerFuncT{f: f}
}

func TestParseLimits(t *testing.T) {
	t.Run("depth", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Subject: deep\n")
		for i := 0; i < maxDepth+20; i++ {
			b.WriteString("Content-Type: message/rfc822\n\n")
		}
		b.WriteString("Subject: bottom\n\nbody\n")
		root, _ := mustParse(t, b.String())
		depth := 0
		for p := root; len(p.Parts) > 0; p = p.Parts[0] {
			depth++
		}
		if depth != maxDepth {
			t.Errorf("depth %d, want %d", depth, maxDepth)
		}
	})
	t.Run("parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Content-Type: multipart/mixed; boundary=p\n\n")
		for i := 0; i < maxParts+50; i++ {
			b.WriteString("--p\n\nx\n")
		}
		b.WriteString("--p--\n")
		root, _ := mustParse(t, b.String())
		if n := len(root.Parts); n != maxParts-1 {
			t.Errorf("%d parts, want %d", n, maxParts-1)
		}
	})
	t.Run("huge header", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Subject: big\n")
		for b.Len() < 2*maxHeaderBytes {
			b.WriteString("X-Filler: 0123456789012345678901234567890123456789\n")
		}
		b.WriteString("\nbody\n")
		root, norm := mustParse(t, b.String())
		if norm[root.BodyStart:] != "body\r\n" || root.Envelope.Subject != "big" {
			t.Errorf("body %q subject %q", norm[root.BodyStart:], root.Envelope.Subject)
		}
	})
	t.Run("long line", func(t *testing.T) {
		long := strings.Repeat("a", 3*readBufSize+7)
		root, norm := mustParse(t, "Content-Type: multipart/mixed; boundary=l\n\n--l\n\n"+long+"\n--l--\n")
		if got := norm[root.Parts[0].BodyStart:root.Parts[0].End]; got != long {
			t.Errorf("body of %d bytes, want %d", len(got), len(long))
		}
	})
}

var sectionTests = []struct {
	section []int
	want    string // walk path, or "-" for none
}{
	{nil, ""},
	{[]int{1}, "0"},
	{[]int{2}, "1"},
	{[]int{3}, "-"},
	{[]int{0}, "-"},
	{[]int{1, 1}, "0"},             // a trailing 1 of a leaf is the leaf (Dovecot)
	{[]int{2, 1}, "1.0.0"},         // message/rfc822 → parts of its multipart
	{[]int{2, 2}, "1.0.1"},         //
	{[]int{2, 3}, "-"},             //
	{[]int{2, 2, 1}, "1.0.1"},      //
	{[]int{3, 1}, "-"},             //
	{[]int{1, 2}, "-"},             //
	{[]int{-1}, "-"},               //
	{[]int{2, 1, 1}, "1.0.0"},      //
	{[]int{2, 1, 1, 1}, "-"},       //
	{[]int{2, 2, 1, 1, 1}, "-"},    //
	{[]int{2, 1, 2}, "-"},          //
	{[]int{1, 1, 1}, "-"},          //
	{[]int{2, 2, 2}, "-"},          //
	{[]int{2, 1, 0}, "-"},          //
	{[]int{2, 0}, "-"},             //
	{[]int{1, 0}, "-"},             //
	{[]int{100}, "-"},              //
	{[]int{2, 100}, "-"},           //
	{[]int{1 << 30}, "-"},          //
	{[]int{2, 1 << 30}, "-"},       //
	{[]int{2, 2, 1 << 30}, "-"},    //
	{[]int{2, 2, 1, 1 << 30}, "-"}, //
}

func TestSection(t *testing.T) {
	root, _ := mustParse(t, parseStructureTests[6].msg)
	for _, tc := range sectionTests {
		got, ok := root.Section(tc.section)
		if tc.want == "-" {
			if ok {
				t.Errorf("Section(%v) found a part, want none", tc.section)
			}
			continue
		}
		want, _ := walk(root, tc.want)
		if !ok || got != want {
			t.Errorf("Section(%v) = %p, %v; want walk %q", tc.section, got, ok, tc.want)
		}
	}

	// RFC 9051 §6.4.5: a non-multipart message has part 1 = itself, and a
	// message/rfc822 part's embedded non-multipart message is its part 1.
	simple, _ := mustParse(t, "Subject: x\n\nbody\n")
	if p, ok := simple.Section([]int{1}); !ok || p != simple {
		t.Error("part 1 of a non-multipart message is not the message")
	}
	if _, ok := simple.Section([]int{2}); ok {
		t.Error("part 2 of a non-multipart message exists")
	}
	fwd, _ := mustParse(t, "Content-Type: message/rfc822\n\nSubject: in\n\nbody\n")
	if p, ok := fwd.Section([]int{1, 1}); !ok || p != fwd.Parts[0] {
		t.Error("1.1 of a message/rfc822 message is not the embedded message")
	}
}
