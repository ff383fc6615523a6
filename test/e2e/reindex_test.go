package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReindex: mail whose search index entries are missing (as for mail
// stored before the index existed) is indexed by `postern reindex`,
// which reports what it did; a second run finds nothing to do; an
// unknown --user is an error.
func TestReindex(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	var mbox strings.Builder
	for i := range 30 {
		fmt.Fprintf(&mbox, "From sender@example.org Mon Jan  2 15:04:05 2006\nFrom: sender@example.org\nSubject: m%d\n\nbody %d\n\n", i, i)
	}
	path := filepath.Join(e.dir, "old.mbox")
	os.WriteFile(path, []byte(mbox.String()), 0o600)
	e.run("", "import", "alice", path).must(t, 0)

	db, err := sql.Open("sqlite", filepath.Join(e.data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`DELETE FROM search_env`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := e.run("", "reindex", "--user", "alice").must(t, 0)
	if !strings.Contains(r.stdout, "indexed 30 message(s) of 30") {
		t.Errorf("reindex: %q", r.stdout)
	}
	r = e.run("", "reindex").must(t, 0)
	if !strings.Contains(r.stdout, "indexed 0 message(s) of 0") {
		t.Errorf("second reindex: %q", r.stdout)
	}
	if r := e.run("", "reindex", "--user", "nobody"); r.code == 0 || !strings.Contains(r.stderr, "nobody") {
		t.Errorf("reindex of an unknown user: exit %d, %q", r.code, r.stderr)
	}
}
