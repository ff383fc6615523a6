package mailimport

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// msg is what a test sees of one Item.
type msg struct {
	Key     string
	Content string
	Date    time.Time
	Flags   []string
	VMS     *store.VMSEnvelope
	Line    int
}

// collect reads every message of src, each Content to the end.
func collect(t testing.TB, src Source) ([]msg, error) {
	t.Helper()
	var out []msg
	for {
		it, err := src.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(it.Content)
		if err != nil {
			return out, err
		}
		out = append(out, msg{it.Key, string(b), it.InternalDate, it.Flags, it.VMS, it.Line})
	}
}

// openAll opens path in format f and collects its messages.
func openAll(t testing.TB, path string, f Format) ([]msg, error) {
	t.Helper()
	src, err := Open(path, f)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return collect(t, src)
}

// writeTemp writes data to a new file in a temporary directory.
func writeTemp(t testing.TB, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDetect(t *testing.T) {
	maildir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(maildir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	noTmp := t.TempDir()
	for _, sub := range []string{"cur", "new"} {
		if err := os.Mkdir(filepath.Join(noTmp, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		path string
		want Format // "" for an error wrapping ErrUnknownFormat
	}{
		{"maildir", maildir, FormatMaildir},
		{"maildir without tmp", noTmp, FormatMaildir},
		{"plain directory", t.TempDir(), ""},
		{"mbox", "testdata/basic.mbox", FormatMbox},
		{"mbox crlf", "testdata/crlf.mbox", FormatMbox},
		{"vms with form feed", "testdata/extract.txt", FormatVMS},
		{"vms without form feed", writeTemp(t, "x.txt", "\nFrom:\tSMITH  1-JAN-2000 10:00:00.00\nSubj:\thi\n\nbody\n"), FormatVMS},
		{"vms form feed on the From line", writeTemp(t, "x.txt", "\fFrom: A::B \"N\" 1-JAN-2000 10:00:00\nTo: C\n"), FormatVMS},
		{"vms From without To/Subj", writeTemp(t, "x.txt", "From:\tSMITH  1-JAN-2000 10:00:00.00\n\nbody\n"), ""},
		{"rfc 5322 message", writeTemp(t, "x.eml", "From: a@b\nTo: c@d\n\nbody\n"), ""},
		{"empty", writeTemp(t, "x", ""), ""},
		{"mbox after a blank line", writeTemp(t, "x", "\nFrom a@b Mon Jan  2 15:04:05 2006\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.path)
			if tt.want == "" {
				if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "--format") {
					t.Fatalf("Detect = %q, %v; want an ErrUnknownFormat suggesting --format", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := Detect(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Detect(missing) = %v, want ErrNotExist", err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"mbox", "maildir", "vms"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("pst"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(pst) = %v, want ErrUnknownFormat", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, FormatMbox); err == nil {
		t.Error("Open(dir, mbox) succeeded")
	}
	if _, err := Open(dir, FormatVMS); err == nil {
		t.Error("Open(dir, vms) succeeded")
	}
	if _, err := Open("testdata/basic.mbox", FormatMaildir); err == nil {
		t.Error("Open(file, maildir) succeeded")
	}
	if _, err := Open("testdata/basic.mbox", "pst"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Open(pst) = %v, want ErrUnknownFormat", err)
	}
}

// A Content read after the next call to Next fails instead of returning
// another message's bytes, for every format.
func TestStaleContent(t *testing.T) {
	md := newMaildir(t, map[string]string{"cur/1.a:2,S": "A\n", "cur/2.b:2,": "B\n"})
	for _, tt := range []struct {
		path string
		f    Format
	}{{"testdata/basic.mbox", FormatMbox}, {"testdata/extract.txt", FormatVMS}, {md, FormatMaildir}} {
		src, err := Open(tt.path, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		first, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := first.Content.Read(make([]byte, 10)); !errors.Is(err, errStale) {
			t.Errorf("%s: stale read = %v, want errStale", tt.f, err)
		}
		src.Close()
		if _, err := src.Next(); err == nil {
			t.Errorf("%s: Next after Close succeeded", tt.f)
		}
	}
}

// Next skips whatever of a Content was not read, for every format.
func TestPartialRead(t *testing.T) {
	for _, tt := range []struct {
		path string
		f    Format
	}{{"testdata/basic.mbox", FormatMbox}, {"testdata/mboxrd.mbox", FormatMbox}, {"testdata/extract.txt", FormatVMS}} {
		want, err := openAll(t, tt.path, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 3, 30} {
			src, err := Open(tt.path, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for {
				it, err := src.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, it.Key)
				buf := make([]byte, n)
				if _, err := io.ReadFull(it.Content, buf); err != nil && n < 3 {
					t.Fatal(err)
				}
			}
			src.Close()
			var wantKeys []string
			for _, m := range want {
				wantKeys = append(wantKeys, m.Key)
			}
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("%s reading %d bytes each: keys %q, want %q", tt.path, n, keys, wantKeys)
			}
		}
	}
}

func TestProgress(t *testing.T) {
	src, err := Open("testdata/basic.mbox", FormatMbox)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := collect(t, src); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat("testdata/basic.mbox")
	if done, total := src.Progress(); done != fi.Size() || total != fi.Size() {
		t.Errorf("Progress = %d, %d; want %d, %d", done, total, fi.Size(), fi.Size())
	}
}
