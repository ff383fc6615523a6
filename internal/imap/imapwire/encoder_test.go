package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// encode runs f on a fresh encoder and returns what it wrote.
func encode(t *testing.T, opts EncoderOptions, f func(enc *Encoder)) string {
	t.Helper()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	enc := NewEncoder(w, opts)
	f(enc)
	if err := enc.Flush(); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return buf.String()
}

func TestEncoderStrings(t *testing.T) {
	tests := []struct {
		name string
		in   string
		utf8 bool
		want string
	}{
		{"atom", "hello", false, "hello"},
		{"nil is quoted", "NIL", false, `"NIL"`},
		{"empty", "", false, `""`},
		{"space", "a b", false, `"a b"`},
		{"escapes", `a"b\c`, false, `"a\"b\\c"`},
		{"crlf literal", "a\r\nb", false, "{4}\r\na\r\nb"},
		{"8-bit rev1 literal", "café", false, "{5}\r\ncafé"},
		{"8-bit rev2 quoted", "café", true, `"café"`},
		{"invalid utf8 rev2 literal", "\xff", true, "{1}\r\n\xff"},
		{"long literal", strings.Repeat("x ", 600), false, "{1200}\r\n" + strings.Repeat("x ", 600)},
		{"bracket", "a]b", false, "a]b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encode(t, EncoderOptions{UTF8: tt.utf8}, func(enc *Encoder) { enc.AString(tt.in) })
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Round trip: what we write decodes to what we started with.
			d := newDecoder(got+"\r\n", Options{})
			var back string
			if !d.ExpectAString(&back) || !d.ExpectCRLF() || back != tt.in {
				t.Errorf("decoded %q, %v", back, d.Err())
			}
		})
	}
}

func TestEncoderErrors(t *testing.T) {
	for name, f := range map[string]func(enc *Encoder){
		"atom with space": func(enc *Encoder) { enc.Atom("a b") },
		"bad flag":        func(enc *Encoder) { enc.Flag(`\a b`) },
		"empty seqset":    func(enc *Encoder) { enc.SeqSet(SeqSet{}) },
		"negative":        func(enc *Encoder) { enc.Number64(-1) },
		"quoted CR":       func(enc *Encoder) { enc.Quoted("\r") },
	} {
		var buf bytes.Buffer
		enc := NewEncoder(bufio.NewWriter(&buf), EncoderOptions{})
		f(enc)
		if !errors.Is(enc.CRLF(), ErrEncode) {
			t.Errorf("%s: got %v, want ErrEncode", name, enc.Err())
		}
	}
	// Literal8 carries NUL.
	got := encode(t, EncoderOptions{}, func(enc *Encoder) { enc.Literal8("a\x00") })
	if got != "~{2}\r\na\x00" {
		t.Errorf("literal8: %q", got)
	}
}

// TestEncoderNUL: no NUL ever goes out in a quoted string or a plain
// literal (RFC 9051 §4.3, CHAR8 is %x01-ff): each becomes NULSubstitute,
// octet for octet, so sizes stay true; literal8 keeps it.
func TestEncoderNUL(t *testing.T) {
	for name, tt := range map[string]struct {
		f    func(enc *Encoder)
		want string
	}{
		"string":   {func(enc *Encoder) { enc.String("a\x00b") }, "{3}\r\na\x80b"},
		"astring":  {func(enc *Encoder) { enc.AString("\x00") }, "{1}\r\n\x80"},
		"literal":  {func(enc *Encoder) { enc.Literal("\x00\x00") }, "{2}\r\n\x80\x80"},
		"streamed": {func(enc *Encoder) { enc.WriteLiteralFrom(strings.NewReader("x\x00y\x00"), 4) }, "{4}\r\nx\x80y\x80"},
		"literal8": {func(enc *Encoder) { enc.WriteLiteral8From(strings.NewReader("x\x00"), 2) }, "~{2}\r\nx\x00"},
	} {
		if got := encode(t, EncoderOptions{}, tt.f); got != tt.want {
			t.Errorf("%s: got %q, want %q", name, got, tt.want)
		}
	}
}

// lineTracer records what an Encoder shows its Tracer.
type lineTracer struct{ events []string }

func (lt *lineTracer) Line(b []byte) { lt.events = append(lt.events, "L:"+string(b)) }
func (lt *lineTracer) Data(b []byte) { lt.events = append(lt.events, "D:"+string(b)) }

func TestEncoderTracer(t *testing.T) {
	lt := &lineTracer{}
	encode(t, EncoderOptions{Tracer: lt}, func(enc *Encoder) {
		fw := enc.BeginFetch(1)
		fw.Item("UID").Number(7)
		fw.Item("BODY[]").WriteLiteralFrom(strings.NewReader("ab\r\n"), 4)
		fw.End()
		enc.StatusResponse("a1", "OK", "", strings.Repeat("x", MaxTracedLine))
	})
	want := []string{"L:* 1 FETCH (UID 7 BODY[] {4}", "D:ab\r\n", "L:)",
		"L:" + ("a1 OK " + strings.Repeat("x", MaxTracedLine))[:MaxTracedLine]}
	if !slices.Equal(lt.events, want) {
		t.Errorf("traced\n%q\nwant\n%q", lt.events, want)
	}
}

func TestEncoderRoundTrips(t *testing.T) {
	t.Run("seqset", func(t *testing.T) {
		for _, s := range []string{"1", "1:*", "3,5:7,*", "$", "9:3"} {
			set, _ := ParseSeqSet(s)
			out := encode(t, EncoderOptions{}, func(enc *Encoder) { enc.SeqSet(set) })
			d := newDecoder(out+" ", Options{})
			var back SeqSet
			if !d.ExpectSeqSet(&back) || back.String() != s {
				t.Errorf("%q: got %q back, %v", s, back.String(), d.Err())
			}
		}
	})
	t.Run("flags", func(t *testing.T) {
		flags := []string{FlagSeen, FlagDeleted, "$Forwarded", "custom", `\Extension`}
		out := encode(t, EncoderOptions{}, func(enc *Encoder) { enc.Flags(flags) })
		if out != `(\Seen \Deleted $Forwarded custom \Extension)` {
			t.Errorf("got %q", out)
		}
		var back []string
		d := newDecoder(out, Options{})
		if !d.ExpectFlagList(&back) || !slices.Equal(back, flags) {
			t.Errorf("got %q back, %v", back, d.Err())
		}
	})
	t.Run("date-time", func(t *testing.T) {
		for _, tm := range []time.Time{
			time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600)),
			time.Date(2024, 1, 5, 23, 0, 9, 0, time.UTC),
			time.Date(2024, 12, 31, 12, 30, 0, 0, time.FixedZone("", 5*3600+45*60)),
		} {
			out := encode(t, EncoderOptions{}, func(enc *Encoder) { enc.DateTime(tm) })
			var back time.Time
			d := newDecoder(out, Options{})
			if !d.ExpectDateTime(&back) || !back.Equal(tm) || FormatDateTime(back) != FormatDateTime(tm) {
				t.Errorf("%v: wrote %q, got %v back, %v", tm, out, back, d.Err())
			}
		}
	})
	t.Run("mailbox", func(t *testing.T) {
		for _, name := range []string{"INBOX", "Archive/2024", "日本語/台北", "Tom & Jerry", "with \"quote\"", "Entwürfe", ""} {
			for _, utf8 := range []bool{false, true} {
				out := encode(t, EncoderOptions{UTF8: utf8}, func(enc *Encoder) { enc.Mailbox(name) })
				if !utf8 && strings.ContainsFunc(out, func(r rune) bool { return r > 0x7e }) {
					t.Errorf("%q: 8-bit output %q in UTF-7 mode", name, out)
				}
				var back string
				d := newDecoder(out+" ", Options{UTF8: utf8})
				if !d.ExpectMailbox(&back) || back != name {
					t.Errorf("%q (utf8 %v): wrote %q, got %q back, %v", name, utf8, out, back, d.Err())
				}
			}
		}
		if out := encode(t, EncoderOptions{}, func(enc *Encoder) { enc.Mailbox("inbox") }); out != "INBOX" {
			t.Errorf("inbox: %q", out)
		}
	})
}

func TestEncoderResponses(t *testing.T) {
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		enc.StatusResponse("a1", "OK", "APPENDUID 38505 3955", "APPEND completed")
		enc.StatusResponse("", "NO", "", "")
		enc.StatusResponse("a2", "BAD", "TOOBIG", "line\r\ntoo long")
		enc.Untagged().Atom("FLAGS").SP().Flags([]string{FlagSeen}).CRLF()
		enc.Tagged("a3").Atom("OK").SP().Code("PERMANENTFLAGS", func(e *Encoder) {
			e.Flags([]string{FlagDeleted, FlagWildcard})
		}).Text("Limited").CRLF()
		enc.Continuation("Ready")
		enc.Quota("", []QuotaResource{{"STORAGE", 10, 512}, {"MESSAGE", 3, 1 << 40}})
		enc.Quota("#user/alice", []QuotaResource{{"STORAGE", 58, 512}})
		enc.QuotaRoot("INBOX", []string{""})
		enc.QuotaRoot("comp.mail.mime", nil)
	})
	want := "a1 OK [APPENDUID 38505 3955] APPEND completed\r\n" +
		"* NO NO\r\n" +
		"a2 BAD [TOOBIG] line  too long\r\n" +
		"* FLAGS (\\Seen)\r\n" +
		"a3 OK [PERMANENTFLAGS (\\Deleted \\*)] Limited\r\n" +
		"+ Ready\r\n" +
		"* QUOTA \"\" (STORAGE 10 512 MESSAGE 3 1099511627776)\r\n" +
		"* QUOTA #user/alice (STORAGE 58 512)\r\n" +
		"* QUOTAROOT INBOX \"\"\r\n" +
		"* QUOTAROOT comp.mail.mime\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestFetchWriter(t *testing.T) {
	body := "Subject: hi\r\n\r\nhello\r\n"
	item := FetchItem{Attr: FetchBodySection, Peek: true, Partial: &Partial{0, 100}}
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		fw := enc.BeginFetch(12)
		fw.Item("UID").Number(4827313)
		fw.Item("FLAGS").Flags([]string{FlagSeen})
		fw.Item("INTERNALDATE").DateTime(time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600)))
		if err := fw.Item(item.ResponseName()).WriteLiteralFrom(strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		fw.Item("BINARY[1]").WriteLiteral8From(strings.NewReader("\x00\x01"), 2)
		if err := fw.End(); err != nil {
			t.Fatal(err)
		}
	})
	want := "* 12 FETCH (UID 4827313 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" " +
		"BODY[]<0> {22}\r\n" + body + " BINARY[1] ~{2}\r\n\x00\x01)\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// A response whose items were all left out is not written.
	if got := encode(t, EncoderOptions{}, func(enc *Encoder) { enc.BeginFetch(3).End() }); got != "" {
		t.Errorf("empty FETCH response written: %q", got)
	}
	// A short reader is an error: the response is broken.
	var buf bytes.Buffer
	enc := NewEncoder(bufio.NewWriter(&buf), EncoderOptions{})
	if err := enc.WriteLiteralFrom(strings.NewReader("abc"), 10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short literal: %v", err)
	}
}

func BenchmarkEncodeFetch(b *testing.B) {
	w := bufio.NewWriter(io.Discard)
	enc := NewEncoder(w, EncoderOptions{})
	flags := []string{FlagSeen, "$Forwarded"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		fw := enc.BeginFetch(uint32(i))
		fw.Item("UID").Number(uint32(i))
		fw.Item("FLAGS").Flags(flags)
		fw.Item("RFC822.SIZE").Number64(12345)
		if err := fw.End(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncoderSearchResponses(t *testing.T) {
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		enc.Search([]uint32{2, 3, 6}, 0)
		enc.Search(nil, 0)
		enc.Search([]uint32{1}, 917162500)
		enc.ESearch(ESearchData{Tag: "A282", UID: true, Min: 2, Max: 47, All: SeqSetOf(2, 10, 11, 12, 47), HasCount: true, Count: 5})
		enc.ESearch(ESearchData{Tag: "a1", HasCount: true})
	})
	want := "* SEARCH 2 3 6\r\n* SEARCH\r\n* SEARCH 1 (MODSEQ 917162500)\r\n" +
		"* ESEARCH (TAG \"A282\") UID MIN 2 MAX 47 ALL 2,10:12,47 COUNT 5\r\n" +
		"* ESEARCH (TAG \"a1\") COUNT 0\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
