package mailimport

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzSource reads data as a file in format f to the end, reading every
// Content, and checks the invariants: no more messages than lines, no more
// bytes out than in plus overhead bytes per message, keys unique and in
// file order, progress within the total.
func fuzzSource(t *testing.T, dir string, f Format, data []byte, overhead int) {
	path := filepath.Join(dir, "input")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, f)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	maxMsgs := strings.Count(string(data), "\n") + 1
	var msgs, out int
	last := int64(-1)
	for {
		it, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error that is not a SyntaxError: %v", err)
			}
			if _, err2 := src.Next(); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
			break
		}
		msgs++
		if msgs > maxMsgs {
			t.Fatalf("more than %d messages from %d lines", msgs, maxMsgs)
		}
		_, offStr, _ := strings.Cut(it.Key, ":")
		off, err := strconv.ParseInt(offStr, 10, 64)
		if err != nil || off <= last || off >= int64(len(data)) {
			t.Fatalf("key %q after offset %d", it.Key, last)
		}
		last = off
		n, err := io.Copy(io.Discard, it.Content)
		if err != nil {
			t.Fatal(err)
		}
		out += int(n)
		if done, total := src.Progress(); done > total || total != int64(len(data)) {
			t.Fatalf("Progress = %d, %d for %d bytes", done, total, len(data))
		}
	}
	if out > len(data)+overhead*msgs {
		t.Fatalf("%d bytes out of %d in, for %d messages", out, len(data), msgs)
	}
}

// addSeeds adds the testdata files with the given suffix to the corpus.
func addSeeds(f *testing.F, suffix string, extra ...string) {
	names, _ := filepath.Glob("testdata/*" + suffix)
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func FuzzMbox(f *testing.F) {
	addSeeds(f, ".mbox",
		"",
		"From a@x Sat Jan  3 01:05:34 1996\rSubject: x\r\r",
		"From a@x Sat Jan  3 01:05:34 1996\n\n\n\nFrom b@x Sat Jan  3 01:05:34 1996\n>From \n\n",
		"From \nFrom x Jan 1 0:0\r\n\r\n\x00",
	)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzSource(t, dir, FormatMbox, data, 0)
	})
}

func FuzzVMS(f *testing.F) {
	addSeeds(f, ".txt",
		"",
		"\fFrom: A 1-JAN-2000 1:00\n\f\n",
		"From:\tA::\"x y\" \"n\" 1-jan-2000 1:00:00.1\nTo: a\n b\nCC:\nSubj:\n\nDate: x\n\n\f",
		"From: A 1-JAN-2000 1:00\n\f\r\n\r\n\fFrom: B 2-JAN-2000 2:00\r\n",
	)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzSource(t, dir, FormatVMS, data, len(emptyHeader))
	})
}
