package imapwire

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
)

func TestParseMetadataArgs(t *testing.T) {
	gets := map[string]GetMetadataArgs{
		` "" /private/Comment`: {MaxSize: -1, Mailbox: "", Entries: []string{"/private/comment"}},
		` (DEPTH infinity MAXSIZE 10) INBOX (/shared /private/a)`: {MaxSize: 10, Depth: DepthInfinity, Mailbox: "INBOX", Entries: []string{"/shared", "/private/a"}},
		` (depth 1) x /shared/vendor/x`:                           {MaxSize: -1, Depth: 1, Mailbox: "x", Entries: []string{"/shared/vendor/x"}},
		` (DEPTH 0) x {8}` + "\r\n" + `/private`:                  {MaxSize: -1, Mailbox: "x", Entries: []string{"/private"}},
	}
	for in, want := range gets {
		d := newDecoder(in+"\r\n", Options{})
		got := ParseGetMetadataArgs(d)
		if !d.ExpectCRLF() || !reflect.DeepEqual(got, want) {
			t.Errorf("GET %q: %+v, %v; want %+v", in, got, d.Err(), want)
		}
	}
	sets := map[string]SetMetadataArgs{
		` INBOX (/private/a "x" /shared/B NIL)`: {Mailbox: "INBOX", Entries: []MetadataValue{{Name: "/private/a", Value: []byte("x")}, {Name: "/shared/b", Nil: true}}},
		" \"\" (/shared/c ~{3}\r\na\x00b)":      {Mailbox: "", Entries: []MetadataValue{{Name: "/shared/c", Value: []byte("a\x00b")}}},
		" x (/private/d {2}\r\nhi)":             {Mailbox: "x", Entries: []MetadataValue{{Name: "/private/d", Value: []byte("hi")}}},
	}
	for in, want := range sets {
		d := newDecoder(in+"\r\n", Options{})
		got := ParseSetMetadataArgs(d)
		if !d.ExpectCRLF() || !reflect.DeepEqual(got, want) {
			t.Errorf("SET %q: %+v, %v; want %+v", in, got, d.Err(), want)
		}
	}
	badGets := []string{` ""`, ` "" ()`, ` "" /bogus`, ` "" /private/*`, ` "" /private/a%`, ` "" /private//a`, ` "" /private/a/`,
		` (DEPTH 2) "" /private`, ` (MAXSIZE x) "" /private`, ` (FOO 1) "" /private`, ` () "" /private`, ` "" /privatex`}
	for _, in := range badGets {
		d := newDecoder(in+"\r\n", Options{})
		ParseGetMetadataArgs(d)
		if d.ExpectCRLF() {
			t.Errorf("GET %q parsed", in)
		}
	}
	badSets := []string{` INBOX ()`, ` INBOX (/private/a)`, ` INBOX (/private/a x)`, ` INBOX /private/a "x"`, ` INBOX (/x "1")`}
	for _, in := range badSets {
		d := newDecoder(in+"\r\n", Options{})
		ParseSetMetadataArgs(d)
		if d.ExpectCRLF() {
			t.Errorf("SET %q parsed", in)
		}
	}
}

func TestEncodeMetadata(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	enc := NewEncoder(w, EncoderOptions{})
	enc.Metadata("", []MetadataEntry{{Name: "/private/comment", Value: []byte("My comment")}, {Name: "/shared/x", Value: nil}, {Name: "/shared/bin", Value: []byte("a\x00b")}})
	w.Flush()
	want := "* METADATA \"\" (/private/comment \"My comment\" /shared/x NIL /shared/bin ~{3}\r\na\x00b)\r\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestEncodeMetadataChanged: the unsolicited form of RFC 5464 §4.4.2,
// entry names without values; a name that is no atom is quoted.
func TestEncodeMetadataChanged(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	enc := NewEncoder(w, EncoderOptions{})
	enc.MetadataChanged("INBOX", []string{"/private/comment", "/shared/a b"})
	enc.MetadataChanged("", []string{"/shared/motd"})
	w.Flush()
	want := "* METADATA INBOX /private/comment \"/shared/a b\"\r\n* METADATA \"\" /shared/motd\r\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestFetchPreview: PREVIEW and PREVIEW (LAZY) (RFC 8970 §6), alone and
// among other items; any other modifier, or none in the parentheses, is
// a syntax error.
func TestFetchPreview(t *testing.T) {
	good := map[string][]FetchItem{
		" PREVIEW":                 {{Attr: FetchPreview}},
		" (UID PREVIEW (LAZY))":    {{Attr: FetchUID}, {Attr: FetchPreview, Lazy: true}},
		" (preview (lazy) FLAGS)":  {{Attr: FetchPreview, Lazy: true}, {Attr: FetchFlags}},
		" (PREVIEW FLAGS PREVIEW)": {{Attr: FetchPreview}, {Attr: FetchFlags}, {Attr: FetchPreview}},
	}
	for in, want := range good {
		d := newDecoder(in+"\r\n", Options{})
		var got []FetchItem
		if !d.ExpectSP() || !d.ExpectFetchItems(&got) || !d.ExpectCRLF() || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, %v; want %+v", in, got, d.Err(), want)
		}
	}
	for _, in := range []string{" PREVIEW ()", " PREVIEW (FUZZY)", " (PREVIEW (LAZY LAZY X))", " PREVIEW (LAZY"} {
		d := newDecoder(in+"\r\n", Options{})
		var got []FetchItem
		if d.ExpectSP() && d.ExpectFetchItems(&got) && d.ExpectCRLF() {
			t.Errorf("%q parsed: %+v", in, got)
		}
	}
}
