package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// undoSearchIndex takes schema versions 9 to 14 (the search index, the
// imported POP3 unique-ids, Sieve, then DKIM keys) out of an index, for tests of
// older versions' migrations.
const undoSearchIndex = undoMetadata + `; DROP TABLE dkim_key; ` + undoSieve + `; ALTER TABLE message DROP COLUMN pop3_uidl; DROP TRIGGER content_search_drop; DROP TRIGGER content_search_delete;
	DROP TABLE search_text; DROP TABLE search_field; DROP TABLE search_env`

// searchRows counts the search index rows of the store; search_text
// must have one per search_env row.
func searchRows(t *testing.T, st *Store) (env, fields int) {
	t.Helper()
	var text int
	err := st.read(t.Context(), func(tx *sql.Tx) error {
		if err := tx.QueryRow(`SELECT count(*) FROM search_env`).Scan(&env); err != nil {
			return err
		}
		if err := tx.QueryRow(`SELECT count(*) FROM search_text`).Scan(&text); err != nil {
			return err
		}
		return tx.QueryRow(`SELECT count(*) FROM search_field`).Scan(&fields)
	})
	if text != env {
		t.Errorf("%d search_text rows for %d search_env rows", text, env)
	}
	if err != nil {
		t.Fatal(err)
	}
	return env, fields
}

// TestSearchIndexUpgrade takes an index back to schema version 8, before
// the search index, with mail in it, and reopens it: the old mail is
// unindexed (SEARCH reads it), new mail is unindexed until the indexer
// runs (it leaves the old mail alone), and Reindex
// indexes the old mail — resumably: a run cancelled after its first batch
// keeps that batch, and a second run does the rest, then finds nothing.
func TestSearchIndexUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(t, dir, Options{})
	const old = reindexBatch + 30
	for range old {
		f.append(t, "old quokka")
	}
	f.ss.Close()
	f.st.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, undoSearchIndex+`; PRAGMA user_version = 8`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st := openTest(t, dir, Options{IndexDelay: -1})
	f = openFixture(t, st, f.acc)
	newer := f.append(t, "new quokka")
	sr := f.ss.(store.Searcher)
	q := store.SearchQuery{Field: store.SearchSubject, Value: "QUOKKA"}
	res, err := sr.SearchIndex(ctx, f.inbox.ID, q)
	if err != nil || len(res.Unindexed) != old+1 || len(res.Matched) != 0 {
		t.Fatalf("before the indexer: %d unindexed, matched %v, %v; want %d, none", len(res.Unindexed), res.Matched, err, old+1)
	}
	if err := st.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = sr.SearchIndex(ctx, f.inbox.ID, q)
	if err != nil || len(res.Unindexed) != old || !slices.Equal(res.Matched, []store.UID{newer.UID}) {
		t.Fatalf("before reindex: %d unindexed, matched %v, %v; want %d, [%d]", len(res.Unindexed), res.Matched, err, old, newer.UID)
	}

	cctx, cancel := context.WithCancel(ctx)
	var seen []store.ReindexProgress
	_, err = st.Reindex(cctx, 0, func(p store.ReindexProgress) { seen = append(seen, p); cancel() })
	if err == nil || len(seen) != 1 || seen[0] != (store.ReindexProgress{Done: reindexBatch, Total: old}) {
		t.Fatalf("cancelled reindex: progress %+v, %v; want one batch of %d of %d and an error", seen, err, reindexBatch, old)
	}
	p, err := st.Reindex(ctx, f.acc.ID, nil)
	if err != nil || p != (store.ReindexProgress{Done: old - reindexBatch, Total: old - reindexBatch}) {
		t.Fatalf("second reindex = %+v, %v; want the remaining %d", p, err, old-reindexBatch)
	}
	if p, err := st.Reindex(ctx, 0, nil); err != nil || p != (store.ReindexProgress{}) {
		t.Errorf("third reindex = %+v, %v; want nothing to do", p, err)
	}
	res, err = sr.SearchIndex(ctx, f.inbox.ID, q)
	if err != nil || len(res.Unindexed) != 0 || len(res.Matched) != old+1 {
		t.Errorf("after reindex: %d unindexed, %d matched, %v; want 0, %d", len(res.Unindexed), len(res.Matched), err, old+1)
	}
}

// TestSearchIndexExpunge checks that a content's index rows go with its
// last message, and stay while a copy refers to it.
func TestSearchIndexExpunge(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, t.TempDir(), Options{})
	a, b := f.append(t, "one"), f.append(t, "two")
	mail, err := f.ss.Mailbox(ctx, "Mail")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ss.Copy(ctx, f.inbox.ID, []store.UID{a.UID}, mail.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.st.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	env, fields := searchRows(t, f.st)
	if env != 2 || fields != 8 {
		t.Fatalf("%d search_env and %d search_field rows; want 2 and 8", env, fields)
	}
	if _, err := f.ss.Expunge(ctx, f.inbox.ID, []store.UID{a.UID, b.UID}); err != nil {
		t.Fatal(err)
	}
	if env, fields := searchRows(t, f.st); env != 1 || fields != 4 {
		t.Errorf("after expunge: %d search_env and %d search_field rows; want the copy's 1 and 4", env, fields)
	}
	if _, err := f.ss.Expunge(ctx, mail.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	if env, fields := searchRows(t, f.st); env != 0 || fields != 0 {
		t.Errorf("after expunging the copy: %d search_env and %d search_field rows; want none", env, fields)
	}
}

// TestKeptHeadersUpgrade: entries written before schema version 10 have
// no kept fields; KeptHeaders skips those messages (the caller reads
// their files) and Reindex fills them.
func TestKeptHeadersUpgrade(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, t.TempDir(), Options{})
	for range 3 {
		f.append(t, "kept")
	}
	if err := f.st.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	err := f.st.write(ctx, func(w *wtx) error {
		_, err := w.ExecContext(ctx, `UPDATE search_env SET kept = NULL`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		err := f.ss.(store.HeaderKeeper).KeptHeaders(ctx, f.inbox.ID, []store.UID{1, 2, 3}, func(store.UID, message.Header) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Errorf("KeptHeaders gave %d messages without kept fields", n)
	}
	if p, err := f.st.Reindex(ctx, 0, nil); err != nil || p.Done != 3 {
		t.Fatalf("Reindex = %+v, %v; want 3 done", p, err)
	}
	if n := count(); n != 3 {
		t.Errorf("after Reindex, KeptHeaders gave %d messages, want 3", n)
	}
}
