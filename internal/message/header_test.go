package message

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const testHeader = "From: a@example.org\r\n" +
	"Subject: a folded\r\n\tsubject\r\n" +
	"X-Empty:\r\n" +
	"not a field\r\n" +
	"subject : second\r\n" +
	"To: b@example.org\r\n" +
	"\r\n" +
	"body\r\n"

func TestReadHeader(t *testing.T) {
	br := bufio.NewReader(strings.NewReader(testHeader))
	h, err := ReadHeader(br, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(h))
	for i, f := range h {
		names[i] = f.Name
	}
	if want := []string{"From", "Subject", "X-Empty", "", "subject", "To"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if got := string(h[1].Raw); got != "Subject: a folded\r\n\tsubject\r\n" {
		t.Errorf("raw %q", got)
	}
	if got := string(h[1].RawValue()); got != " a folded\r\n\tsubject\r\n" {
		t.Errorf("raw value %q", got)
	}
	if rest, _ := br.ReadString(0); rest != "body\r\n" {
		t.Errorf("reader left at %q, want the body", rest)
	}
}

var headerGetTests = []struct {
	name   string
	get    string
	want   string
	values []string
}{
	{"first of two, unfolded", "SUBJECT", "a folded\tsubject", []string{"a folded\tsubject", "second"}},
	{"empty value", "x-empty", "", []string{""}},
	{"absent", "Cc", "", nil},
}

func TestHeaderGet(t *testing.T) {
	h, _ := ReadHeader(strings.NewReader(testHeader), 0)
	for _, tc := range headerGetTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.Get(tc.get); got != tc.want {
				t.Errorf("Get %q", got)
			}
			if got := h.Values(tc.get); !reflect.DeepEqual(got, tc.values) {
				t.Errorf("Values %q", got)
			}
		})
	}
}

var selectFieldsTests = []struct {
	name  string
	names []string
	not   bool
	want  string
}{
	{"one field", []string{"from"}, false, "From: a@example.org\r\n\r\n"},
	{"folded, repeated, original order", []string{"To", "Subject"}, false, "Subject: a folded\r\n\tsubject\r\n" + "subject : second\r\n" + "To: b@example.org\r\n\r\n"},
	{"nothing matches", []string{"Cc"}, false, "\r\n"},
	{"not", []string{"subject", "x-empty"}, true, "From: a@example.org\r\nnot a field\r\nTo: b@example.org\r\n\r\n"},
	{"not nothing", nil, true, strings.TrimSuffix(testHeader, "body\r\n")},
}

func TestSelectFields(t *testing.T) {
	h, _ := ReadHeader(strings.NewReader(testHeader), 0)
	for _, tc := range selectFieldsTests {
		t.Run(tc.name, func(t *testing.T) {
			got := h.SelectFields(tc.names)
			if tc.not {
				got = h.ExcludeFields(tc.names)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelectFieldsAtEOF(t *testing.T) {
	h, err := ReadHeader(strings.NewReader("A: 1\r\nB: 2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(h.SelectFields([]string{"b"})); got != "B: 2\r\n\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestReadHeaderLimit(t *testing.T) {
	h, err := ReadHeader(strings.NewReader("A: 1\r\nB: 22222222\r\n\r\n"), 10)
	if !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("err %v", err)
	}
	if len(h) != 1 || h[0].Name != "A" {
		t.Errorf("partial header %+v", h)
	}
}

var decodeHeaderTextTests = []struct {
	name, in, want string
}{
	{"plain", "hello", "hello"},
	{"q utf-8", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"},
	{"b iso-8859-1 adjacent words", "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=", "If you can read this you understand the example."},
	{"windows-1252 via go-message charset", "=?windows-1252?Q?caf=E9_=80?=", "café €"},
	{"koi8-r", "=?koi8-r?B?8NLJ18XU?=", "Привет"},
	{"unknown charset left raw", "=?x-unknown?Q?abc?=", "=?x-unknown?Q?abc?="},
	{"folded", "a\r\n b", "a b"},
	{"invalid utf-8", "caf\xe9", "caf\uFFFD"},
}

func TestDecodeHeaderText(t *testing.T) {
	for _, tc := range decodeHeaderTextTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecodeHeaderText(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
