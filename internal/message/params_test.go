package message

import (
	"reflect"
	"testing"
)

var parseContentTypeTests = []struct {
	name     string
	in       string
	typ, sub string
	params   []Param
	ok       bool
}{
	{"simple", "text/plain", "text", "plain", nil, true},
	{"case and spaces", " Text / HTML ; Charset = \"UTF-8\" ", "text", "html", []Param{{"charset", "UTF-8"}}, true},
	{"order kept", "multipart/mixed; b=2; a=1; boundary=x", "multipart", "mixed", []Param{{"b", "2"}, {"a", "1"}, {"boundary", "x"}}, true},
	{"unquoted tspecials", "multipart/alternative; boundary=----=_Part_1_2.3", "multipart", "alternative", []Param{{"boundary", "----=_Part_1_2.3"}}, true},
	{"comment", "text/plain (a comment); charset=us-ascii (another)", "text", "plain", []Param{{"charset", "us-ascii (another)"}}, true},
	{"quoted pair", `text/plain; name="a \"b\"; c"`, "text", "plain", []Param{{"name", `a "b"; c`}}, true},
	{"duplicate keeps first", "text/plain; charset=a; charset=b", "text", "plain", []Param{{"charset", "a"}}, true},
	{"junk and empty params skipped", "text/plain; ; junk; =x; charset=utf-8;", "text", "plain", []Param{{"charset", "utf-8"}}, true},
	{"unterminated quote", `text/plain; name="abc`, "text", "plain", []Param{{"name", "abc"}}, true},
	{"rfc2231 continuation", "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
		"application", "x-stuff", []Param{{"title", "This is even more ***fun*** isn't it!"}}, true},
	{"rfc2231 out of order", "a/b; n*1=B; n*0=A; n*3=D", "a", "b", []Param{{"n", "AB"}}, true},
	{"rfc2231 charset", "a/b; name*=iso-8859-1'fr'%E9t%E9", "a", "b", []Param{{"name", "été"}}, true},
	{"rfc2231 utf-8", "a/b; name*=UTF-8''%E2%82%AC", "a", "b", []Param{{"name", "€"}}, true},
	{"rfc2231 preferred over plain", "a/b; name=plain.txt; name*=utf-8''ext.txt", "a", "b", []Param{{"name", "ext.txt"}}, true},
	{"rfc2231 unknown charset kept", "a/b; name*=x-bogus''%41%42", "a", "b", []Param{{"name", "AB"}}, true},
	{"rfc2231 bad escape kept", "a/b; name*=utf-8''100%zz%4", "a", "b", []Param{{"name", "100%zz%4"}}, true},
	{"no subtype", "text", "", "", nil, false},
	{"empty subtype", "text/; charset=x", "", "", nil, false},
	{"empty", "", "", "", nil, false},
}

func TestParseContentType(t *testing.T) {
	for _, tc := range parseContentTypeTests {
		t.Run(tc.name, func(t *testing.T) {
			typ, sub, params, ok := parseContentType(tc.in)
			if typ != tc.typ || sub != tc.sub || ok != tc.ok || !reflect.DeepEqual(params, tc.params) {
				t.Errorf("parseContentType(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
					tc.in, typ, sub, params, ok, tc.typ, tc.sub, tc.params, tc.ok)
			}
		})
	}
}

var parseDispositionTests = []struct {
	name   string
	in     string
	disp   string
	params []Param
}{
	{"inline", "inline", "inline", nil},
	{"attachment", `Attachment; filename="a b.pdf"; size=10`, "attachment", []Param{{"filename", "a b.pdf"}, {"size", "10"}}},
	{"rfc2231 filename", "attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", "attachment", []Param{{"filename", "€ rates.txt"}}},
	{"empty", "", "", nil},
}

func TestParseDisposition(t *testing.T) {
	for _, tc := range parseDispositionTests {
		t.Run(tc.name, func(t *testing.T) {
			disp, params := parseDisposition(tc.in)
			if disp != tc.disp || !reflect.DeepEqual(params, tc.params) {
				t.Errorf("parseDisposition(%q) = %q, %q; want %q, %q", tc.in, disp, params, tc.disp, tc.params)
			}
		})
	}
}
