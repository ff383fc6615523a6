package mail11

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The magic file (hp-system §6.3): the original IMAP server recognised
// the type of a foreign (binary) VMS MAIL message from its first bytes,
// comparing them with the records of TCPIP$IMAP_MAGIC.TXT, which worked
// like the Unix magic file, and gave the client that MIME type. The
// manual's Table 5-4 names two of a record's fields, Type and Test; the
// rest of the format was not retrievable, so Postern's follows magic(5):
//
//	! comment
//	offset  type    test            type/subtype
//	0       string  %PDF-           application/pdf
//	0       leshort 256             application/x-vms-backup
//	>32     leshort 0x0101
//
// One record a line, four fields separated by spaces or tabs. offset is
// where the test applies, in octets from the start of the message's
// content (decimal, or hexadecimal with 0x), at most MagicPeek minus the
// length tested. type is string, byte, beshort, leshort, belong or lelong.
// test is, for string, the octets to find there, with the escapes \\, \s
// (space), \t, \r, \n, \xHH and \NNN (octal); for the numeric types a
// number (decimal or 0x) the octet, 16- or 32-bit value there must equal.
// The last field is the MIME type and subtype given to the client. A line
// whose offset starts with ">" has three fields and adds a condition to
// the record before it: a record matches only if all its lines do.
// Records are tried in file order; the first that matches gives the type.
// A message no record matches is application/octet-stream.

// MagicPeek is how many octets of a message's content the magic records
// may look at.
const MagicPeek = 4096

// maxMagicLine bounds one line of a magic file.
const maxMagicLine = 4096

// Magic is a parsed magic table. The zero value matches nothing.
type Magic struct {
	records []magicRecord
}

type magicRecord struct {
	tests    []magicTest // all must match
	typ, sub string
}

type magicTest struct {
	offset int
	want   []byte // the octets to find at offset (numbers are encoded)
}

// MagicLineError is a problem on one line of a magic file. Error gives
// it as FILE:LINE: message, the form `postern check` prints.
type MagicLineError struct {
	File string
	Line int
	Msg  string
}

func (e *MagicLineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// defaultMagic is the built-in table, in the magic-file format. Site
// records (Magic-File) are tried before it.
const defaultMagic = `! Postern's built-in magic records (hp-system §6.3).
0	string	%PDF-			application/pdf
! ZIP, and the Office formats (docx, xlsx, pptx, odt) that are ZIP files.
0	string	PK\x03\x04		application/zip
! Office 97-2003 documents (doc, xls, ppt): OLE2 compound files.
0	string	\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1	application/x-ole-storage
0	string	\x89PNG\r\n\x1a\n	image/png
0	string	\xff\xd8\xff		image/jpeg
0	string	GIF87a			image/gif
0	string	GIF89a			image/gif
0	string	%!			application/postscript
0	string	\x1f\x8b		application/gzip
! OpenVMS BACKUP saveset: the block header's size (256) and
! structure level 1.1, both little-endian.
0	leshort	256			application/x-vms-backup
>32	leshort	0x0101
`

// DefaultMagic returns the built-in table: PDF, ZIP (and so the Office
// Open XML and OpenDocument formats), OLE2 Office files, PNG, JPEG, GIF,
// PostScript, gzip and OpenVMS BACKUP savesets.
func DefaultMagic() *Magic {
	m, err := ParseMagic(strings.NewReader(defaultMagic), "built-in")
	if err != nil {
		panic("mail11: built-in magic table: " + err.Error()) // a bug, caught by the tests
	}
	return m
}

// Then returns a table that tries m's records first, then next's.
func (m *Magic) Then(next *Magic) *Magic {
	out := &Magic{}
	if m != nil {
		out.records = append(out.records, m.records...)
	}
	if next != nil {
		out.records = append(out.records, next.records...)
	}
	return out
}

// Type returns the MIME type and subtype of content whose first octets
// are head (at most MagicPeek of them are looked at):
// application/octet-stream when no record matches.
func (m *Magic) Type(head []byte) (typ, subtype string) {
	if m != nil {
		for _, r := range m.records {
			if r.matches(head) {
				return r.typ, r.sub
			}
		}
	}
	return "application", "octet-stream"
}

func (r *magicRecord) matches(head []byte) bool {
	for _, t := range r.tests {
		end := t.offset + len(t.want)
		if end > len(head) || !bytes.Equal(head[t.offset:end], t.want) {
			return false
		}
	}
	return true
}

// ParseMagic reads a magic table. name is the file's name in error
// messages. Every bad line is reported (errors.Join of *MagicLineError),
// together with the table of the good ones.
func ParseMagic(r io.Reader, name string) (*Magic, error) {
	m := &Magic{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxMagicLine)
	n := 0
	for sc.Scan() {
		n++
		if err := m.parseLine(sc.Text(), name, n); err != nil {
			errs = append(errs, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = &MagicLineError{File: name, Line: n + 1, Msg: fmt.Sprintf("line longer than %d octets", maxMagicLine)}
		} else {
			err = fmt.Errorf("read %s: %w", name, err)
		}
		errs = append(errs, err)
	}
	return m, errors.Join(errs...)
}

// parseLine adds one line's record or condition to m.
func (m *Magic) parseLine(line, file string, n int) error {
	fail := func(format string, args ...any) error {
		return &MagicLineError{File: file, Line: n, Msg: fmt.Sprintf(format, args...)}
	}
	text := strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	if text == "" || text[0] == '!' || text[0] == '#' {
		return nil
	}
	f := strings.Fields(text)
	cont := strings.HasPrefix(f[0], ">")
	want := 4
	if cont {
		want = 3
		f[0] = f[0][1:]
	}
	if len(f) != want {
		if cont {
			return fail("a continuation line has three fields (>offset type test), found %d", len(f))
		}
		return fail("a record has four fields (offset type test type/subtype), found %d", len(f))
	}
	t, err := parseMagicTest(f[0], f[1], f[2])
	if err != nil {
		return fail("%v", err)
	}
	if cont {
		if len(m.records) == 0 {
			return fail("a continuation line (>%s) with no record before it", f[0])
		}
		last := &m.records[len(m.records)-1]
		last.tests = append(last.tests, t)
		return nil
	}
	typ, sub, ok := parseMediaType(f[3])
	if !ok {
		return fail("%q is not a MIME type/subtype", f[3])
	}
	m.records = append(m.records, magicRecord{tests: []magicTest{t}, typ: typ, sub: sub})
	return nil
}

// parseMagicTest parses the offset, type and test fields of a line.
func parseMagicTest(offset, kind, test string) (magicTest, error) {
	off, err := strconv.ParseUint(offset, 0, 32)
	if err != nil {
		return magicTest{}, fmt.Errorf("offset %q is not a number", offset)
	}
	var want []byte
	switch kind = strings.ToLower(kind); kind {
	case "string":
		if want, err = unescapeMagic(test); err != nil {
			return magicTest{}, err
		}
		if len(want) == 0 {
			return magicTest{}, errors.New("empty string test")
		}
	case "byte", "beshort", "leshort", "belong", "lelong":
		if want, err = encodeMagicNumber(kind, test); err != nil {
			return magicTest{}, err
		}
	default:
		return magicTest{}, fmt.Errorf("unknown type %q: use string, byte, beshort, leshort, belong or lelong", kind)
	}
	if off+uint64(len(want)) > MagicPeek {
		return magicTest{}, fmt.Errorf("the test reaches octet %d; records look at the first %d only", off+uint64(len(want)), MagicPeek)
	}
	return magicTest{offset: int(off), want: want}, nil
}

// encodeMagicNumber returns the octets a numeric test must find.
func encodeMagicNumber(kind, test string) ([]byte, error) {
	bits := map[string]int{"byte": 8, "beshort": 16, "leshort": 16, "belong": 32, "lelong": 32}[kind]
	v, err := strconv.ParseUint(test, 0, bits)
	if err != nil {
		return nil, fmt.Errorf("test %q is not a number that fits in %d bits", test, bits)
	}
	switch kind {
	case "byte":
		return []byte{byte(v)}, nil
	case "beshort":
		return binary.BigEndian.AppendUint16(nil, uint16(v)), nil
	case "leshort":
		return binary.LittleEndian.AppendUint16(nil, uint16(v)), nil
	case "belong":
		return binary.BigEndian.AppendUint32(nil, uint32(v)), nil
	}
	return binary.LittleEndian.AppendUint32(nil, uint32(v)), nil
}

// unescapeMagic decodes a string test: \\, \s, \t, \r, \n, \xHH, \NNN.
func unescapeMagic(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 == len(s) {
			return nil, errors.New(`a string test ends with a lone "\"`)
		}
		i++
		switch c = s[i]; c {
		case '\\':
			out = append(out, '\\')
		case 's':
			out = append(out, ' ')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 'x':
			if i+2 >= len(s) {
				return nil, errors.New(`\x needs two hexadecimal digits`)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf(`\x%s: not two hexadecimal digits`, s[i+1:i+3])
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3':
			if i+2 >= len(s) {
				return nil, errors.New(`an octal escape needs three digits (\NNN)`)
			}
			v, err := strconv.ParseUint(s[i:i+3], 8, 8)
			if err != nil {
				return nil, fmt.Errorf(`\%s: not three octal digits`, s[i:i+3])
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf(`unknown escape \%c`, c)
		}
	}
	return out, nil
}

// parseMediaType splits "type/subtype" (RFC 2045 §5.1 tokens), lower-cased.
func parseMediaType(s string) (typ, sub string, ok bool) {
	typ, sub, ok = strings.Cut(strings.ToLower(s), "/")
	if !ok || !isMIMEToken(typ) || !isMIMEToken(sub) {
		return "", "", false
	}
	return typ, sub, true
}

// isMIMEToken reports whether s is an RFC 2045 token: printable ASCII
// without space and tspecials.
func isMIMEToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}
