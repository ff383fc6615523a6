package mailimport

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// newMaildir creates a Maildir holding files (path under the Maildir →
// content).
func newMaildir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMaildir(t *testing.T) {
	dir := newMaildir(t, map[string]string{
		"cur/1200000000.M1P1.host,S=10:2,FRS": "third\n",
		"new/1100000000.M2P2.host":            "second\n",
		"new/1100000000.M1P1.host:2,S":        "first: no \\Seen in new/\n",
		"cur/1300000000.x.host!2,DT":          "fourth\n",
		"cur/1300000000.y.host;2,a":           "fifth: keyword letters ignored\n",
		"cur/noname":                          "sixth: no time, mtime used\n",
		"cur/.hidden":                         "skipped\n",
		"tmp/1000000000.t.host":               "skipped\n",
	})
	if err := os.Mkdir(filepath.Join(dir, "cur", "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2010, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "cur/noname"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	// The file without a time sorts first: its key is -1.
	want := []msg{
		{Key: "maildir:noname", Content: "sixth: no time, mtime used\n", Date: mtime},
		{Key: "maildir:1100000000.M1P1.host", Content: "first: no \\Seen in new/\n", Date: time.Unix(1100000000, 0)},
		{Key: "maildir:1100000000.M2P2.host", Content: "second\n", Date: time.Unix(1100000000, 0)},
		{Key: "maildir:1200000000.M1P1.host,S=10", Content: "third\n", Date: time.Unix(1200000000, 0),
			Flags: []string{store.FlagSeen, store.FlagAnswered, store.FlagFlagged}},
		{Key: "maildir:1300000000.x.host", Content: "fourth\n", Date: time.Unix(1300000000, 0),
			Flags: []string{store.FlagDeleted, store.FlagDraft}},
		{Key: "maildir:1300000000.y.host", Content: "fifth: keyword letters ignored\n", Date: time.Unix(1300000000, 0)},
	}
	src, err := Open(dir, FormatMaildir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if done, total := src.Progress(); done != 0 || total != int64(len(want)) {
		t.Errorf("Progress = %d, %d; want 0, %d", done, total, len(want))
	}
	got, err := collect(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		checkMsg(t, i, got[i], want[i])
	}
	if done, total := src.Progress(); done != total {
		t.Errorf("Progress at the end = %d, %d", done, total)
	}
}

func TestMaildirInfo(t *testing.T) {
	tests := []struct {
		name, unique string
		inNew        bool
		flags        []string
	}{
		{"1.a.h:2,S", "1.a.h", false, []string{store.FlagSeen}},
		{"1.a.h:2,S", "1.a.h", true, nil},
		{"1.a.h:2,DFRST", "1.a.h", false, []string{store.FlagSeen, store.FlagAnswered, store.FlagFlagged, store.FlagDeleted, store.FlagDraft}},
		{"1.a.h:2,", "1.a.h", false, nil},
		{"1.a.h", "1.a.h", false, nil},
		{"1.a:b.h:2,R", "1.a:b.h", false, []string{store.FlagAnswered}},
	}
	for _, tt := range tests {
		unique, info := maildirInfo(tt.name)
		flags := maildirFlags(info, tt.inNew)
		if unique != tt.unique || !reflect.DeepEqual(flags, tt.flags) {
			t.Errorf("%q (new %v): %q %q, want %q %q", tt.name, tt.inNew, unique, flags, tt.unique, tt.flags)
		}
	}
}

func TestMaildirMissingNew(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, FormatMaildir); err == nil {
		t.Error("Open of a directory without new/ succeeded")
	}
}
