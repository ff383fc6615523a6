package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// undoSearchPending undoes schema version 20 (the indexer's queue).
const undoSearchPending = undoPreview + `; DROP TABLE search_pending`

// pendingRows counts the contents waiting for the indexer.
func pendingRows(t *testing.T, st *Store) int {
	t.Helper()
	var n int
	err := st.read(t.Context(), func(tx *sql.Tx) error {
		return tx.QueryRow(`SELECT count(*) FROM search_pending`).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIndexerAfterCrash: what a store left pending when it stopped
// (closed with its indexer off, as a crash leaves it) is indexed by the
// indexer of the next store to open the directory, without a wake-up;
// searches meanwhile report the messages unindexed, never missing.
func TestIndexerAfterCrash(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir, Options{IndexDelay: -1})
	for range 3 {
		f.append(t, "pending quokka")
	}
	q := store.SearchQuery{Field: store.SearchSubject, Value: "quokka"}
	res, err := f.ss.(store.Searcher).SearchIndex(t.Context(), f.inbox.ID, q)
	if err != nil || len(res.Matched) != 0 || !slices.Equal(res.Unindexed, []store.UID{1, 2, 3}) {
		t.Fatalf("before indexing: %+v, %v; want all three unindexed", res, err)
	}
	if n := pendingRows(t, f.st); n != 3 {
		t.Fatalf("%d pending rows, want 3", n)
	}
	f.ss.Close()
	f.st.Close()

	st := openTest(t, dir, Options{IndexDelay: 1})
	f = openFixture(t, st, f.acc)
	// The indexer's first pass needs no wake-up.
	for {
		pass := st.idx.nextPass()
		if pendingRows(t, st) == 0 {
			break
		}
		<-pass
	}
	res, err = f.ss.(store.Searcher).SearchIndex(t.Context(), f.inbox.ID, q)
	if err != nil || len(res.Unindexed) != 0 || !slices.Equal(res.Matched, []store.UID{1, 2, 3}) {
		t.Errorf("after the indexer: %+v, %v; want all three matched", res, err)
	}
}

// TestIndexerSkipsExpunged: a content expunged before the indexer reached
// it is dropped from the queue and gets no index rows; one whose file
// cannot be read is dropped too, and stays scanned.
func TestIndexerSkipsExpunged(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, t.TempDir(), Options{IndexDelay: -1})
	a, b, c := f.append(t, "one"), f.append(t, "two"), f.append(t, "three")
	if _, err := f.ss.Expunge(ctx, f.inbox.ID, []store.UID{a.UID}); err != nil {
		t.Fatal(err)
	}
	var file string
	err := f.st.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`SELECT c.file FROM content c JOIN message m ON m.content = c.id WHERE m.mailbox = ? AND m.uid = ?`, f.inbox.ID, c.UID).Scan(&file)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.st.contentPath(file)); err != nil {
		t.Fatal(err)
	}
	if err := f.st.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pendingRows(t, f.st); n != 0 {
		t.Errorf("%d pending rows after FlushIndex", n)
	}
	if env, _ := searchRows(t, f.st); env != 1 {
		t.Errorf("%d search_env rows, want 1 (message %d only)", env, b.UID)
	}
	res, err := f.ss.(store.Searcher).SearchIndex(ctx, f.inbox.ID, store.SearchQuery{Field: store.SearchSubject, Value: "t"})
	if err != nil || !slices.Equal(res.Matched, []store.UID{b.UID}) || !slices.Equal(res.Unindexed, []store.UID{c.UID}) {
		t.Errorf("SearchIndex = %+v, %v; want %d matched, %d unindexed", res, err, b.UID, c.UID)
	}
}

// TestMigrateSearchPending: schema version 20 adds the indexer's queue to
// an index whose mail was indexed when stored; new mail goes through it.
func TestMigrateSearchPending(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(t, dir, Options{})
	f.append(t, "old quokka")
	if err := f.st.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	f.ss.Close()
	f.st.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, undoSearchPending+`; PRAGMA user_version = 19`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st := openTest(t, dir, Options{IndexDelay: -1})
	f = openFixture(t, st, f.acc)
	f.append(t, "new quokka")
	if n := pendingRows(t, st); n != 1 {
		t.Errorf("%d pending rows, want the new message's", n)
	}
	if err := st.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := f.ss.(store.Searcher).SearchIndex(ctx, f.inbox.ID, store.SearchQuery{Field: store.SearchSubject, Value: strings.ToUpper("quokka")})
	if err != nil || !slices.Equal(res.Matched, []store.UID{1, 2}) || len(res.Unindexed) != 0 {
		t.Errorf("SearchIndex = %+v, %v; want both matched", res, err)
	}
}
