package mail11

import (
	"errors"
	"strings"
	"testing"
)

// vmsBackupHead is the start of an OpenVMS BACKUP saveset block: the
// block header's size 256, opsys/subsys/applic, the block number, 20
// spare octets, then structure level 1.1.
func vmsBackupHead() []byte {
	h := make([]byte, 64)
	h[0], h[1] = 0x00, 0x01
	h[32], h[33] = 0x01, 0x01
	return h
}

// TestDefaultMagic: the built-in records type the common formats from
// their first octets, and anything else is application/octet-stream.
func TestDefaultMagic(t *testing.T) {
	m := DefaultMagic()
	cases := []struct {
		name string
		head []byte
		want string
	}{
		{"PDF", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "application/pdf"},
		{"ZIP (docx)", []byte("PK\x03\x04\x14\x00\x06\x00[Content_Types].xml"), "application/zip"},
		{"OLE2 (doc)", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"), "application/x-ole-storage"},
		{"PNG", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"JPEG", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "image/jpeg"},
		{"GIF87a", []byte("GIF87a\x01\x00"), "image/gif"},
		{"GIF89a", []byte("GIF89a\x01\x00"), "image/gif"},
		{"PostScript", []byte("%!PS-Adobe-3.0\n"), "application/postscript"},
		{"gzip", []byte("\x1f\x8b\x08\x00"), "application/gzip"},
		{"VMS BACKUP saveset", vmsBackupHead(), "application/x-vms-backup"},
		{"256 without the structure level", vmsBackupHead()[:32], "application/octet-stream"},
		{"short PNG prefix", []byte("\x89PN"), "application/octet-stream"},
		{"unknown", []byte("\x00\x01\x02\x03"), "application/octet-stream"},
		{"empty", nil, "application/octet-stream"},
	}
	for _, tc := range cases {
		typ, sub := m.Type(tc.head)
		if got := typ + "/" + sub; got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestMagicFile: every documented type and escape, site records tried
// before the built-in ones, conditions that must all hold.
func TestMagicFile(t *testing.T) {
	const file = `! site records
# also a comment

4	belong	0x11223344	application/x-be
4	lelong	0x11223344	Application/X-LE
0	beshort	0xcafe		application/x-short
0	byte	7		application/x-byte
0	string	%PDF-1.0\s\t\r\n\\\x41\101	application/x-old-pdf
0	string	%PDF-			application/x-site-pdf
>8	string	END
`
	site, err := ParseMagic(strings.NewReader(file), "site.magic")
	if err != nil {
		t.Fatal(err)
	}
	m := site.Then(DefaultMagic())
	cases := []struct {
		head []byte
		want string
	}{
		{[]byte("xxxx\x11\x22\x33\x44"), "application/x-be"},
		{[]byte("xxxx\x44\x33\x22\x11"), "application/x-le"},
		{[]byte("\xca\xfe"), "application/x-short"},
		{[]byte{7}, "application/x-byte"},
		{[]byte("%PDF-1.0 \t\r\n\\AA"), "application/x-old-pdf"},
		{[]byte("%PDF-1.xEND"), "application/x-site-pdf"},
		{[]byte("%PDF-1.4 no end"), "application/pdf"}, // the site record's condition fails: built-in
	}
	for _, tc := range cases {
		typ, sub := m.Type(tc.head)
		if got := typ + "/" + sub; got != tc.want {
			t.Errorf("%q: %s, want %s", tc.head, got, tc.want)
		}
	}
}

// TestMagicFileErrors: each bad line is reported as FILE:LINE: message,
// every one of them, and the good lines still make a table.
func TestMagicFileErrors(t *testing.T) {
	const file = `>0 string x
0 string %PDF- application/pdf
0 string
0 str x a/b
x string y a/b
0 string y notamimetype
0 string \q a/b
0 string \x4 a/b
0 byte 256 a/b
4095 string ab a/b
0 leshort 1 a/b c
0 string \0 a/b
0 string y a/b@
`
	m, err := ParseMagic(strings.NewReader(file), "/etc/postern/magic.txt")
	want := []string{
		`/etc/postern/magic.txt:1: a continuation line (>0) with no record before it`,
		`/etc/postern/magic.txt:3: a record has four fields (offset type test type/subtype), found 2`,
		`/etc/postern/magic.txt:4: unknown type "str": use string, byte, beshort, leshort, belong or lelong`,
		`/etc/postern/magic.txt:5: offset "x" is not a number`,
		`/etc/postern/magic.txt:6: "notamimetype" is not a MIME type/subtype`,
		`/etc/postern/magic.txt:7: unknown escape \q`,
		`/etc/postern/magic.txt:8: \x needs two hexadecimal digits`,
		`/etc/postern/magic.txt:9: test "256" is not a number that fits in 8 bits`,
		`/etc/postern/magic.txt:10: the test reaches octet 4097; records look at the first 4096 only`,
		`/etc/postern/magic.txt:11: a record has four fields (offset type test type/subtype), found 5`,
		`/etc/postern/magic.txt:12: an octal escape needs three digits (\NNN)`,
		`/etc/postern/magic.txt:13: "a/b@" is not a MIME type/subtype`,
	}
	var got []string
	for _, e := range unwrapAll(err) {
		var le *MagicLineError
		if !errors.As(e, &le) {
			t.Errorf("not a line error: %v", e)
		}
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if typ, sub := m.Type([]byte("%PDF-1.4")); typ+"/"+sub != "application/pdf" {
		t.Errorf("the good line was lost: %s/%s", typ, sub)
	}

	long := "0 string " + strings.Repeat("a", maxMagicLine) + " a/b\n"
	_, err = ParseMagic(strings.NewReader("! one\n"+long), "big")
	if err == nil || err.Error() != "big:2: line longer than 4096 octets" {
		t.Errorf("long line: %v", err)
	}
}

func unwrapAll(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// FuzzParseMagic: the parser never panics, every error names its file and
// a line, and the table it returns types any content without panicking.
func FuzzParseMagic(f *testing.F) {
	f.Add(defaultMagic, []byte("%PDF-1.4"))
	f.Add("0 string \\x1f\\x8b application/gzip\n>2 byte 8\n", []byte("\x1f\x8b\x08"))
	f.Add(">5 lelong 0xffffffff\n4095 byte 1 a/b\n0 string \\377 a/b", []byte{0xff})
	f.Add("0 string \\x a/b\r\n\n! x", []byte{})
	f.Fuzz(func(t *testing.T, file string, head []byte) {
		m, err := ParseMagic(strings.NewReader(file), "fuzz.magic")
		for _, e := range unwrapAll(err) {
			if !strings.HasPrefix(e.Error(), "fuzz.magic:") {
				t.Fatalf("error without file and line: %v", e)
			}
		}
		typ, sub := m.Type(head)
		if !isMIMEToken(typ) || !isMIMEToken(sub) {
			t.Fatalf("Type returned %q/%q", typ, sub)
		}
	})
}
