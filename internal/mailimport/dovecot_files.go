package mailimport

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// UIDList is what a Dovecot dovecot-uidlist file holds: the mailbox's
// UIDVALIDITY and UIDNEXT and, for each message Dovecot has given a UID,
// the base of its file name and the extension fields of its line.
type UIDList struct {
	Version     int
	UIDValidity uint32
	UIDNext     uint32
	Entries     []UIDListEntry // in file order, which is ascending UID order
}

// UIDListEntry is one message line of a dovecot-uidlist.
type UIDListEntry struct {
	UID uint32
	// Base is the file name up to its ":2," info (Dovecot writes the base
	// only; an info found anyway is cut).
	Base string
	// POP3UIDL is the 'P' field: the POP3 unique-id Dovecot serves the
	// message under, when it is not the one pop3_uidl_format gives.
	POP3UIDL string
	// VSize is the 'W' field (the size with CRLF line endings), -1 if absent.
	VSize int64
}

// maxUIDListLine bounds one line of a dovecot-uidlist (a file name is at
// most 255 octets; the fields add little).
const maxUIDListLine = 64 << 10

// ParseUIDList reads a dovecot-uidlist file of version 1 ("1 V N") or 3
// ("3 V<uidvalidity> N<uidnext> G<guid> ..."), the formats Dovecot 1.0 and
// later write. Message lines are "<uid> <file name>" (version 1) and
// "<uid>[ <key><value>...] :<file name>" (version 3). UIDs must ascend:
// anything else is a *SyntaxError with its line. UIDNext is raised above
// the last UID when the header lags behind lines Dovecot appended.
func ParseUIDList(path string, r io.Reader) (*UIDList, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxUIDListLine)
	bad := func(line int, format string, args ...any) error {
		return &SyntaxError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return nil, bad(1, "empty dovecot-uidlist")
	}
	ul, err := parseUIDListHeader(sc.Text())
	if err != nil {
		return nil, bad(1, "%v", err)
	}
	line := 1
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			continue
		}
		e, err := parseUIDListEntry(ul.Version, text)
		if err != nil {
			return nil, bad(line, "%v", err)
		}
		if n := len(ul.Entries); n > 0 && e.UID <= ul.Entries[n-1].UID {
			return nil, bad(line, "UID %d after UID %d: UIDs must ascend", e.UID, ul.Entries[n-1].UID)
		}
		// Dovecot appends lines without rewriting the header: a UID at
		// or above the header's next UID raises it.
		if e.UID >= ul.UIDNext {
			if e.UID == 1<<32-1 {
				return nil, bad(line, "UID %d leaves no next UID", e.UID)
			}
			ul.UIDNext = e.UID + 1
		}
		ul.Entries = append(ul.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ul, nil
}

func parseUIDListHeader(text string) (*UIDList, error) {
	f := strings.Fields(text)
	if len(f) < 3 {
		return nil, fmt.Errorf("header %q: want a version, a UIDVALIDITY and a next UID", text)
	}
	ul := &UIDList{}
	switch f[0] {
	case "1":
		ul.Version = 1
		v, err1 := parseUint32(f[1])
		n, err2 := parseUint32(f[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("header %q: bad numbers", text)
		}
		ul.UIDValidity, ul.UIDNext = v, n
	case "3":
		ul.Version = 3
		for _, field := range f[1:] {
			var err error
			switch field[0] {
			case 'V':
				ul.UIDValidity, err = parseUint32(field[1:])
			case 'N':
				ul.UIDNext, err = parseUint32(field[1:])
			}
			if err != nil {
				return nil, fmt.Errorf("header field %q: %v", field, err)
			}
		}
	default:
		return nil, fmt.Errorf("dovecot-uidlist version %q: only versions 1 and 3 are known", f[0])
	}
	if ul.UIDValidity == 0 || ul.UIDNext == 0 {
		return nil, fmt.Errorf("header %q: UIDVALIDITY and next UID must be given and not 0", text)
	}
	return ul, nil
}

func parseUIDListEntry(version int, text string) (UIDListEntry, error) {
	e := UIDListEntry{VSize: -1}
	uidText, rest, ok := strings.Cut(text, " ")
	if !ok {
		return e, fmt.Errorf("line %q: no file name", text)
	}
	uid, err := parseUint32(uidText)
	if err != nil || uid == 0 {
		return e, fmt.Errorf("line %q: bad UID", text)
	}
	e.UID = uid
	name := rest
	if version == 3 {
		i := strings.Index(" "+rest, " :")
		if i < 0 {
			return e, fmt.Errorf("line %q: no ':' before the file name", text)
		}
		name = rest[i+1:]
		for _, field := range strings.Fields(rest[:i]) {
			switch field[0] {
			case 'P':
				e.POP3UIDL = field[1:]
			case 'W':
				if e.VSize, err = strconv.ParseInt(field[1:], 10, 64); err != nil {
					return e, fmt.Errorf("line %q: bad W field", text)
				}
			}
		}
	}
	e.Base, _ = maildirInfo(name)
	if e.Base == "" || strings.ContainsAny(e.Base, "/\x00") {
		return e, fmt.Errorf("line %q: bad file name", text)
	}
	return e, nil
}

func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// ParseKeywords reads a dovecot-keywords file: lines "<n> <keyword>",
// n from 0 to 25, keyword n being the maildir flag letter 'a'+n.
// Malformed lines are a *SyntaxError.
func ParseKeywords(path string, r io.Reader) (map[byte]string, error) {
	kw := make(map[byte]string)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxUIDListLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			continue
		}
		numText, name, ok := strings.Cut(text, " ")
		n, err := strconv.Atoi(numText)
		if !ok || err != nil || n < 0 || n > 25 || name == "" {
			return nil, &SyntaxError{Path: path, Line: line, Msg: fmt.Sprintf("keyword line %q: want \"<0-25> <keyword>\"", text)}
		}
		kw[byte('a'+n)] = name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return kw, nil
}

// ParseSubscriptions reads a Dovecot subscriptions file: version 2
// ("V\t2", a blank line, then one name a line with levels separated by a
// tab) or the older form (one name a line, levels separated by sep). The
// names come back with levels separated by '/'.
func ParseSubscriptions(r io.Reader, sep byte) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxUIDListLine)
	var names []string
	first, v2 := true, false
	for sc.Scan() {
		text := sc.Text()
		if first && text == "V\t2" {
			first, v2 = false, true
			continue
		}
		first = false
		if text == "" {
			continue
		}
		if v2 {
			names = append(names, strings.ReplaceAll(text, "\t", "/"))
		} else {
			names = append(names, strings.ReplaceAll(text, string(sep), "/"))
		}
	}
	return names, sc.Err()
}

// DefaultPOP3UIDLFormat is Dovecot's default pop3_uidl_format: the UID and
// the UIDVALIDITY in eight hex digits each (lower case, as Dovecot writes
// them).
const DefaultPOP3UIDLFormat = "%08Xu%08Xv"

// FormatPOP3UIDL expands a Dovecot pop3_uidl_format for one message: %u
// (UID), %v (UIDVALIDITY) and %f (the file's base name), each with an
// optional zero-padded width and X or x for lower-case hex, and %% for
// '%'. Other
// variables (%m, %g) need what a Maildir does not keep: an error.
func FormatPOP3UIDL(format string, uid, uidValidity uint32, base string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		width := format[i+1 : j]
		if len(width) > 2 {
			// A unique-id is at most 70 octets (RFC 1939 §7).
			return "", fmt.Errorf("pop3_uidl_format %q: width %s is more than a unique-id holds", format, width)
		}
		hex := byte(0)
		if j < len(format) && (format[j] == 'X' || format[j] == 'x') {
			hex = format[j]
			j++
		}
		if j >= len(format) {
			return "", fmt.Errorf("pop3_uidl_format %q: ends inside a variable", format)
		}
		var n uint32
		switch format[j] {
		case '%':
			b.WriteByte('%')
			i = j
			continue
		case 'u':
			n = uid
		case 'v':
			n = uidValidity
		case 'f':
			b.WriteString(base)
			i = j
			continue
		default:
			return "", fmt.Errorf("pop3_uidl_format %q: variable %%%c is not supported (only %%u, %%v, %%f)", format, format[j])
		}
		verb := "d"
		if hex != 0 {
			// QUIRK: Dovecot's var_expand writes X in lower case too
			// ("%08Xu" gives "0000002a"), as its POP3 server shows.
			verb = "x"
		}
		fmt.Fprintf(&b, "%"+width+verb, n)
		i = j
	}
	return b.String(), nil
}

// maxInitialModSeq bounds the initial_modseq a log may claim, so that the
// ceiling (plus the records, at most one per 8 octets of a file) stays a
// valid mod-sequence.
const maxInitialModSeq = 1 << 61

// logHeaderMin is the size of a dovecot.index.log header that records
// initial_modseq (log version 1.1 and later): major, minor (1 octet
// each), hdr_size (2), indexid, file_seq, prev_file_seq,
// prev_file_offset, create_stamp (4 each), initial_modseq (8).
const logHeaderMin = 32

// ModSeqCeiling returns a MODSEQ at least as high as any Dovecot handed
// out for the mailbox whose index log is at path (dovecot.index.log), and
// whether the log was found. The log's header holds the HIGHESTMODSEQ
// when the log was started (initial_modseq); each change since adds a
// record of at least 8 octets and raises the MODSEQ by at most one
// (Dovecot's mail-transaction-log-modseq), so initial_modseq plus the
// number of records is a ceiling. Records of dsync's MODSEQ_UPDATE, which
// set a higher MODSEQ outright, are not read (docs/migration.md).
func ModSeqCeiling(path string) (uint64, bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	c, err := modSeqCeiling(path, f)
	if err != nil {
		return 0, false, err
	}
	return c, true, nil
}

// modSeqCeiling reads a transaction log from r (ModSeqCeiling).
func modSeqCeiling(path string, r io.Reader) (uint64, error) {
	br := bufio.NewReader(r)
	hdr := make([]byte, logHeaderMin)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return 0, fmt.Errorf("read %s: header: %w", path, err)
	}
	hdrSize := int(binary.LittleEndian.Uint16(hdr[2:4]))
	if hdr[0] != 1 || hdrSize < logHeaderMin {
		return 0, fmt.Errorf("%s: transaction log version %d.%d (header %d octets) is not one this reader knows", path, hdr[0], hdr[1], hdrSize)
	}
	ceiling := binary.LittleEndian.Uint64(hdr[24:32])
	if ceiling > maxInitialModSeq {
		// RFC 7162 §7: a mod-sequence is at most 2^63-1; leave room.
		return 0, fmt.Errorf("%s: initial MODSEQ %d is not plausible", path, ceiling)
	}
	if _, err := br.Discard(hdrSize - logHeaderMin); err != nil {
		return 0, fmt.Errorf("read %s: header: %w", path, err)
	}
	rec := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, rec); err != nil {
			// The end, or a torn last record: a ceiling all the same.
			return ceiling + 1, nil
		}
		ceiling++
		size := logRecordSize(rec[:4])
		if size < 8 {
			// Not a record: count what is left as if every 8 octets were one.
			rest, _ := io.Copy(io.Discard, br)
			return ceiling + uint64(rest/8) + 1, nil
		}
		if _, err := br.Discard(size - 8); err != nil {
			return ceiling + 1, nil
		}
	}
}

// logRecordSize decodes the size of a transaction log record, which
// Dovecot writes with mail_index_uint32_to_offset: 7 bits in each octet,
// the high bit of each set, the value a multiple of 4. 0 when the octets
// are not in that form.
func logRecordSize(b []byte) int {
	if b[0]&b[1]&b[2]&b[3]&0x80 == 0 {
		return 0
	}
	return int(b[3]&0x7f)<<2 | int(b[2]&0x7f)<<9 | int(b[1]&0x7f)<<16 | int(b[0]&0x7f)<<23
}
