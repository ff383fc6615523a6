package mailimport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

const uidListV3 = "3 V1700000000 N12 G0123456789abcdef0123456789abcdef\n" +
	"1 :1700000001.M1P1.host,S=100\n" +
	"4 W210 S200 P0000000400000001-kept :1700000004.M1P4.host,S=200\n" +
	"9 G00aa :1700000009.M1P9.host:2,S\n"

func TestParseUIDList(t *testing.T) {
	ul, err := ParseUIDList("u", strings.NewReader(uidListV3))
	if err != nil {
		t.Fatal(err)
	}
	if ul.Version != 3 || ul.UIDValidity != 1700000000 || ul.UIDNext != 12 || len(ul.Entries) != 3 {
		t.Fatalf("ParseUIDList = %+v", ul)
	}
	want := []UIDListEntry{
		{UID: 1, Base: "1700000001.M1P1.host,S=100", VSize: -1},
		{UID: 4, Base: "1700000004.M1P4.host,S=200", POP3UIDL: "0000000400000001-kept", VSize: 210},
		{UID: 9, Base: "1700000009.M1P9.host", VSize: -1},
	}
	if !slices.Equal(ul.Entries, want) {
		t.Errorf("entries %+v, want %+v", ul.Entries, want)
	}
	lag, err := ParseUIDList("u", strings.NewReader("3 V1 N5\n5 :a\n8 :b\n"))
	if err != nil || lag.UIDNext != 9 {
		t.Errorf("a header behind its lines: %+v, %v; want UIDNEXT 9", lag, err)
	}
	v1, err := ParseUIDList("u", strings.NewReader("1 1234 3\n1 a.b.c\n2 d.e.f:2,RS\n"))
	if err != nil || v1.UIDValidity != 1234 || v1.UIDNext != 3 || len(v1.Entries) != 2 || v1.Entries[1].Base != "d.e.f" {
		t.Errorf("version 1: %+v, %v", v1, err)
	}
	for name, bad := range map[string]string{
		"empty":          "",
		"version 2":      "2 1 2\n",
		"no UIDVALIDITY": "3 N5\n",
		"descending":     "3 V1 N9\n5 :a\n4 :b\n",
		"repeated":       "3 V1 N9\n5 :a\n5 :b\n",
		"last UID":       "3 V1 N5\n4294967295 :a\n",
		"no colon":       "3 V1 N9\n5 a\n",
		"UID 0":          "3 V1 N9\n0 :a\n",
		"slash in name":  "3 V1 N9\n1 :../a\n",
	} {
		_, err := ParseUIDList("u", strings.NewReader(bad))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v, want a SyntaxError", name, err)
		}
	}
}

func TestParseKeywords(t *testing.T) {
	kw, err := ParseKeywords("k", strings.NewReader("0 $Forwarded\n1 Work\n25 z-last\n"))
	if err != nil || kw['a'] != "$Forwarded" || kw['b'] != "Work" || kw['z'] != "z-last" || len(kw) != 3 {
		t.Fatalf("ParseKeywords = %v, %v", kw, err)
	}
	for _, bad := range []string{"26 x\n", "-1 x\n", "a x\n", "3\n", "3 \n"} {
		if _, err := ParseKeywords("k", strings.NewReader(bad)); err == nil {
			t.Errorf("ParseKeywords(%q) accepted", bad)
		}
	}
}

func TestParseSubscriptions(t *testing.T) {
	got, err := ParseSubscriptions(strings.NewReader("V\t2\n\nINBOX\nArchive\t2020\n"), '.')
	if err != nil || !slices.Equal(got, []string{"INBOX", "Archive/2020"}) {
		t.Errorf("version 2: %q, %v", got, err)
	}
	got, err = ParseSubscriptions(strings.NewReader("INBOX\nArchive.2020\n"), '.')
	if err != nil || !slices.Equal(got, []string{"INBOX", "Archive/2020"}) {
		t.Errorf("old form: %q, %v", got, err)
	}
}

func TestFormatPOP3UIDL(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{DefaultPOP3UIDLFormat, "0000002a65f1b0c0"},
		{"%u.%v", "42.1710338240"},
		{"%08xu-%f-%%", "0000002a-base-%"},
	} {
		got, err := FormatPOP3UIDL(tc.format, 42, 1710338240, "base")
		if err != nil || got != tc.want {
			t.Errorf("FormatPOP3UIDL(%q) = %q, %v; want %q", tc.format, got, err, tc.want)
		}
	}
	for _, bad := range []string{"%m", "%g", "%08X", "%2000u"} {
		if _, err := FormatPOP3UIDL(bad, 1, 1, "b"); err == nil {
			t.Errorf("FormatPOP3UIDL(%q) accepted", bad)
		}
	}
}

// logRecord encodes a transaction log record header as Dovecot does
// (mail_index_uint32_to_offset), followed by size-8 octets.
func logRecord(size int) []byte {
	b := []byte{byte(size>>23) | 0x80, byte(size>>16)&0x7f | 0x80, byte(size>>9)&0x7f | 0x80, byte(size>>2)&0x7f | 0x80, 4, 0, 0, 0}
	return append(b, make([]byte, size-8)...)
}

func TestModSeqCeiling(t *testing.T) {
	dir := t.TempDir()
	hdr := make([]byte, 40)
	hdr[0], hdr[1] = 1, 3
	binary.LittleEndian.PutUint16(hdr[2:], 40)
	binary.LittleEndian.PutUint64(hdr[24:], 100)
	data := append(hdr, logRecord(24)...)
	data = append(data, logRecord(12)...)
	data = append(data, logRecord(1024)...)
	path := filepath.Join(dir, "dovecot.index.log")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ModSeqCeiling(path)
	if err != nil || !ok || got < 103 || got > 104 {
		t.Errorf("ModSeqCeiling = %d, %v, %v; want 103 or 104 (100 + 3 records)", got, ok, err)
	}
	if _, ok, err := ModSeqCeiling(filepath.Join(dir, "missing")); ok || err != nil {
		t.Errorf("missing log: %v, %v; want not found, no error", ok, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ModSeqCeiling(path); err == nil {
		t.Error("a log shorter than its header was accepted")
	}
}

// writeFile creates path with content and its parents.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkMaildir(t *testing.T, dir string) {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadDovecotFolders reads a Maildir++ tree: folders (with a modified
// UTF-7 name), subscriptions, UIDs, keywords, kept and formatted POP3
// unique-ids, files Dovecot never listed and entries whose file is gone.
func TestReadDovecotFolders(t *testing.T) {
	root := t.TempDir()
	mkMaildir(t, root)
	mkMaildir(t, filepath.Join(root, ".Archive.2020"))
	mkMaildir(t, filepath.Join(root, ".Entw&APw-rfe"))
	writeFile(t, filepath.Join(root, "subscriptions"), "V\t2\n\nArchive\t2020\nEntw&APw-rfe\n")
	writeFile(t, filepath.Join(root, "dovecot-uidlist"), uidListV3)
	writeFile(t, filepath.Join(root, "dovecot-keywords"), "0 $Forwarded\n1 Work\n")
	msg := "From: a@example.org\n\nhi\n"
	writeFile(t, filepath.Join(root, "cur", "1700000001.M1P1.host,S=100:2,Sac"), msg)
	writeFile(t, filepath.Join(root, "cur", "1700000009.M1P9.host:2,RT"), msg)
	writeFile(t, filepath.Join(root, "new", "1700000020.M1P20.host"), msg)

	md, err := OpenDovecot(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range md.Folders {
		names = append(names, f.Name)
	}
	if want := []string{"INBOX", "Archive/2020", "Entwürfe"}; !slices.Equal(names, want) {
		t.Errorf("folders %q, want %q", names, want)
	}
	if want := []string{"Archive/2020", "Entwürfe"}; !slices.Equal(md.Subscriptions, want) {
		t.Errorf("subscriptions %q, want %q", md.Subscriptions, want)
	}
	mb, err := ReadFolder(md.Folders[0], DefaultPOP3UIDLFormat)
	if err != nil {
		t.Fatal(err)
	}
	if mb.UIDValidity != 1700000000 || mb.UIDNext != 12 || mb.Vanished != 1 || len(mb.Messages) != 2 || len(mb.Unlisted) != 1 {
		t.Fatalf("ReadFolder = %+v", mb)
	}
	m1, m9 := mb.Messages[0], mb.Messages[1]
	if m1.UID != 1 || !slices.Equal(m1.Flags, []string{store.FlagSeen, "$Forwarded"}) || m1.Unknown != "c" || m1.POP3UIDL != "000000016553f100" {
		t.Errorf("message 1 = %+v", m1)
	}
	if m9.UID != 9 || !slices.Equal(m9.Flags, []string{store.FlagAnswered, store.FlagDeleted}) || m9.Key != "dovecot:1700000000:1700000009.M1P9.host" {
		t.Errorf("message 9 = %+v", m9)
	}
	if u := mb.Unlisted[0]; u.UID != 0 || u.POP3UIDL != "" || len(u.Flags) != 0 {
		t.Errorf("unlisted = %+v", u)
	}
	// A folder Dovecot never opened has no UIDs to keep.
	mb, err = ReadFolder(md.Folders[1], DefaultPOP3UIDLFormat)
	if err != nil || mb.UIDValidity != 0 || mb.ModSeqKnown {
		t.Errorf("ReadFolder(Archive/2020) = %+v, %v", mb, err)
	}
}

// TestReadDovecotFS reads the LAYOUT=fs form: folders are plain
// subdirectories.
func TestReadDovecotFS(t *testing.T) {
	root := t.TempDir()
	mkMaildir(t, root)
	mkMaildir(t, filepath.Join(root, "Sent"))
	mkMaildir(t, filepath.Join(root, "Lists", "go"))
	md, err := OpenDovecot(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range md.Folders {
		names = append(names, f.Name)
	}
	if want := []string{"INBOX", "Lists/go", "Sent"}; !slices.Equal(names, want) {
		t.Errorf("folders %q, want %q", names, want)
	}
}

func FuzzUIDList(f *testing.F) {
	f.Add(uidListV3)
	f.Add("1 1234 3\n1 a.b.c\n2 d.e.f:2,RS\n")
	f.Add("3 V1 N9\n5 P :a\n")
	f.Add("3 V4294967295 N4294967295\n4294967294 W :x\n")
	f.Fuzz(func(t *testing.T, data string) {
		ul, err := ParseUIDList("u", strings.NewReader(data))
		if err != nil {
			return
		}
		last := uint32(0)
		for _, e := range ul.Entries {
			if e.UID <= last || e.UID >= ul.UIDNext || e.Base == "" || strings.ContainsAny(e.Base, "/\x00") {
				t.Fatalf("accepted a bad entry %+v (after UID %d, next %d)", e, last, ul.UIDNext)
			}
			last = e.UID
		}
	})
}

func FuzzKeywords(f *testing.F) {
	f.Add("0 $Forwarded\n1 Work\n25 z\n")
	f.Add("3 a b\n\n")
	f.Fuzz(func(t *testing.T, data string) {
		kw, err := ParseKeywords("k", strings.NewReader(data))
		if err != nil {
			return
		}
		for c, name := range kw {
			if c < 'a' || c > 'z' || name == "" {
				t.Fatalf("accepted keyword %q for letter %q", name, c)
			}
		}
	})
}

func FuzzModSeqCeiling(f *testing.F) {
	hdr := make([]byte, 40)
	hdr[0], hdr[1] = 1, 3
	binary.LittleEndian.PutUint16(hdr[2:], 40)
	binary.LittleEndian.PutUint64(hdr[24:], 100)
	f.Add(append(append(hdr, logRecord(24)...), logRecord(12)...))
	f.Add(append(hdr, 1, 2, 3))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := modSeqCeiling("log", bytes.NewReader(data))
		if err != nil {
			return
		}
		initial := binary.LittleEndian.Uint64(data[24:32])
		if c <= initial || c > initial+uint64(len(data)) || c >= 1<<63 {
			t.Fatalf("ceiling %d for initial MODSEQ %d and %d octets", c, initial, len(data))
		}
	})
}

func FuzzSubscriptions(f *testing.F) {
	f.Add("V\t2\n\nINBOX\nArchive\t2020\n")
	f.Add("INBOX\nArchive.2020\n")
	f.Fuzz(func(t *testing.T, data string) {
		names, err := ParseSubscriptions(strings.NewReader(data), '.')
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" || strings.Contains(n, "\n") {
				t.Fatalf("name %q", n)
			}
		}
	})
}

func FuzzPOP3UIDLFormat(f *testing.F) {
	f.Add(DefaultPOP3UIDLFormat, uint32(42), uint32(1710338240), "base")
	f.Add("%%%u%999999999Xv", uint32(1), uint32(2), "b")
	f.Fuzz(func(t *testing.T, format string, uid, uidValidity uint32, base string) {
		if len(format) > 64 {
			return
		}
		s, err := FormatPOP3UIDL(format, uid, uidValidity, base)
		if err == nil && len(s) > 64*(99+len(base)) {
			t.Fatalf("%q expanded to %d octets", format, len(s))
		}
	})
}
