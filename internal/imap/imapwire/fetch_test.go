package imapwire

import (
	"reflect"
	"testing"
)

func TestFetchItems(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []FetchItem
		response []string // ResponseName of each item
	}{
		{"macro fast", "FAST", []FetchItem{{Attr: FetchFlags}, {Attr: FetchInternalDate}, {Attr: FetchRFC822Size}}, nil},
		{"single", "uid", []FetchItem{{Attr: FetchUID}}, []string{"UID"}},
		{"typical", "(UID FLAGS RFC822.SIZE ENVELOPE)",
			[]FetchItem{{Attr: FetchUID}, {Attr: FetchFlags}, {Attr: FetchRFC822Size}, {Attr: FetchEnvelope}}, nil},
		{"body structure", "(BODY BODYSTRUCTURE)", []FetchItem{{Attr: FetchBody}, {Attr: FetchBodyStructure}}, nil},
		{"whole body", "BODY[]", []FetchItem{{Attr: FetchBodySection}}, []string{"BODY[]"}},
		{"peek header partial", "BODY.PEEK[HEADER]<0.1024>",
			[]FetchItem{{Attr: FetchBodySection, Peek: true, Section: Section{Specifier: SectionHeader}, Partial: &Partial{0, 1024}}},
			[]string{"BODY[HEADER]<0>"}},
		{"header fields", "BODY.PEEK[HEADER.FIELDS (From \"To\" x-spam)]",
			[]FetchItem{{Attr: FetchBodySection, Peek: true, Section: Section{Specifier: SectionHeaderFields, Fields: []string{"From", "To", "x-spam"}}}},
			[]string{"BODY[HEADER.FIELDS (From To x-spam)]"}},
		{"part mime", "BODY[1.2.MIME]",
			[]FetchItem{{Attr: FetchBodySection, Section: Section{Part: []uint32{1, 2}, Specifier: SectionMIME}}},
			[]string{"BODY[1.2.MIME]"}},
		{"part text not", "BODY[3.HEADER.FIELDS.NOT (Received)]",
			[]FetchItem{{Attr: FetchBodySection, Section: Section{Part: []uint32{3}, Specifier: SectionHeaderFieldsNot, Fields: []string{"Received"}}}},
			nil},
		{"part", "BODY[2]", []FetchItem{{Attr: FetchBodySection, Section: Section{Part: []uint32{2}}}}, nil},
		{"binary", "(BINARY.PEEK[1]<5.10> BINARY.SIZE[1.1] BINARY[])",
			[]FetchItem{
				{Attr: FetchBinarySection, Peek: true, Section: Section{Part: []uint32{1}}, Partial: &Partial{5, 10}},
				{Attr: FetchBinarySize, Section: Section{Part: []uint32{1, 1}}},
				{Attr: FetchBinarySection},
			},
			[]string{"BINARY[1]<5>", "BINARY.SIZE[1.1]", "BINARY[]"}},
		// Beyond RFC 3516's section-binary and RFC 9051's partial, as
		// Dovecot and the conformance suites that test it accept them.
		{"binary section text", "(BINARY.PEEK[TEXT] BINARY.SIZE[2.HEADER.FIELDS (From)] BINARY[1.MIME])",
			[]FetchItem{
				{Attr: FetchBinarySection, Peek: true, Section: Section{Specifier: SectionText}},
				{Attr: FetchBinarySize, Section: Section{Part: []uint32{2}, Specifier: SectionHeaderFields, Fields: []string{"From"}}},
				{Attr: FetchBinarySection, Section: Section{Part: []uint32{1}, Specifier: SectionMIME}},
			},
			[]string{"BINARY[TEXT]", "BINARY.SIZE[2.HEADER.FIELDS (From)]", "BINARY[1.MIME]"}},
		{"partial to the end", "BINARY.PEEK[5]<15>",
			[]FetchItem{{Attr: FetchBinarySection, Peek: true, Section: Section{Part: []uint32{5}}, Partial: &Partial{Offset: 15}}},
			[]string{"BINARY[5]<15>"}},
		{"body partial to the end", "BODY[]<1>",
			[]FetchItem{{Attr: FetchBodySection, Partial: &Partial{Offset: 1}}}, []string{"BODY[]<1>"}},
		{"rfc822", "(RFC822 RFC822.HEADER RFC822.TEXT MODSEQ)",
			[]FetchItem{{Attr: FetchRFC822}, {Attr: FetchRFC822Header}, {Attr: FetchRFC822Text}, {Attr: FetchModSeq}},
			[]string{"RFC822", "RFC822.HEADER", "RFC822.TEXT", "MODSEQ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(tt.in+"\r\n", Options{})
			var got []FetchItem
			if !d.ExpectFetchItems(&got) || !d.ExpectCRLF() {
				t.Fatal(d.Err())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i, name := range tt.response {
				if r := got[i].ResponseName(); r != name {
					t.Errorf("ResponseName %d: %q, want %q", i, r, name)
				}
			}
			// String gives back something that parses to the same items.
			if len(got) == 1 {
				d := newDecoder(got[0].String()+"\r\n", Options{})
				var again []FetchItem
				if !d.ExpectFetchItems(&again) || !reflect.DeepEqual(again, got) {
					t.Errorf("%q does not round-trip: %+v, %v", got[0].String(), again, d.Err())
				}
			}
		})
	}
	for _, in := range []string{
		"()", "BODY[MIME]", "BODY[0]", "BODY[1.]", "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
		"BODY[TEXT", "BODY[]<1.0>", "BODY[]<1.>", "BODY[]<>", "BINARY[MIME]", "BINARY.SIZE", "BINARY.SIZE[]<0.1>x",
		"FOO", "BODY.PEEK", "(UID", "BODY[HEADER.FIELDS (a:b)]", "BODY[01]",
	} {
		d := newDecoder(in+"\r\n", Options{})
		var got []FetchItem
		if d.ExpectFetchItems(&got) && d.ExpectCRLF() {
			t.Errorf("%q accepted as %+v", in, got)
		}
	}
}

func TestFetchItemSetsSeen(t *testing.T) {
	for item, want := range map[string]bool{
		"BODY[]": true, "BODY.PEEK[]": false, "BINARY[1]": true, "BINARY.PEEK[1]": false,
		"RFC822": true, "RFC822.TEXT": true, "RFC822.HEADER": false, "FLAGS": false,
	} {
		d := newDecoder(item+" ", Options{})
		var it FetchItem
		if !d.ExpectFetchItem(&it) {
			t.Fatal(d.Err())
		}
		if it.SetsSeen() != want {
			t.Errorf("%s: SetsSeen %v", item, !want)
		}
	}
}
