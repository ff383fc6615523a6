package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/postern/postern/internal/store"
)

// TestOpenFreshConcurrently opens one fresh store from several openers at
// once, as `postern serve` and `postern user add` started together do: each
// must see the schema created once, none may fail on the migration the
// other already made.
func TestOpenFreshConcurrently(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		dir := t.TempDir()
		const openers = 4
		var wg sync.WaitGroup
		errs := make([]error, openers)
		stores := make([]*Store, openers)
		for i := range openers {
			wg.Go(func() { stores[i], errs[i] = Open(ctx, dir, Options{}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
			stores[i].Close()
		}
	}
}

// TestMigrateRecent takes an index back to schema version 1 and reopens
// it: version 2 adds RFC 3501 §2.3.2 recency with nothing to claim in the
// mailboxes that existed, while new arrivals are recent.
func TestMigrateRecent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := st.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	f := openFixture(t, st, acc)
	f.append(t, "before")
	f.ss.Close()
	st.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `ALTER TABLE mailbox DROP COLUMN first_recent; PRAGMA user_version = 1`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	if s, err := f.ss.Status(ctx, f.inbox.ID); err != nil || s.Recent != 0 || s.Messages != 1 {
		t.Fatalf("after migration: %+v, %v; want 1 message, none recent", s, err)
	}
	r := f.append(t, "after")
	got, err := f.ss.ClaimRecent(ctx, f.inbox.ID)
	if err != nil || got != (store.UIDRange{First: r.UID, Next: r.UID + 1}) {
		t.Errorf("ClaimRecent after migration = %+v, %v; want only UID %d", got, err, r.UID)
	}
}
