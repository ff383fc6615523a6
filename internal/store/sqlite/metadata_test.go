package sqlite

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/store"
)

// undoAccountSource undoes schema versions 17 (the outbound queue) and 16
// (the account's source).
const undoAccountSource = undoQueue + `; ALTER TABLE account DROP COLUMN source`

// undoMetadata undoes schema version 15 (RFC 5464 metadata) and every
// later one, so that each downgrade below 15 starts from it.
const undoMetadata = undoAccountSource + `; DROP TRIGGER mailbox_metadata_delete; DROP TABLE metadata`

// TestMigrateAccountSource: schema version 16 records each account's
// source; every account made before it is local (issue 22).
func TestMigrateAccountSource(t *testing.T) {
	dir, st, _, f := newAliceIndex(t)
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoAccountSource+`; PRAGMA user_version = 15`)
	st = openTest(t, dir, Options{})
	acct, err := st.Account(t.Context(), "alice")
	if err != nil || acct.Source != store.SourceLocal {
		t.Fatalf("alice after migration: source %q, %v; want %q", acct.Source, err, store.SourceLocal)
	}
}

// TestMigrateMetadata: schema version 15 adds the metadata table; an
// index from before it has no entries and keeps one after the upgrade,
// which goes with its mailbox when that is deleted.
func TestMigrateMetadata(t *testing.T) {
	ctx := context.Background()
	dir, st, _, f := newAliceIndex(t)
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoMetadata+`; PRAGMA user_version = 14`)
	st = openTest(t, dir, Options{})
	acct, err := st.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	mk := ss.(store.MetadataKeeper)
	if got, err := mk.Metadata(ctx, 0, []string{"/private"}, store.MetadataDepthInfinity); err != nil || len(got) != 0 {
		t.Fatalf("Metadata after migration = %v, %v; want none", got, err)
	}
	mb, err := ss.CreateMailbox(ctx, "Work", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := mk.SetMetadata(ctx, mb.ID, []store.MetadataEntry{{Name: "/private/comment", Value: []byte("x")}}, 10); err != nil {
		t.Fatal(err)
	}
	if err := ss.DeleteMailbox(ctx, "Work"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.wdb.QueryRowContext(ctx, `SELECT count(*) FROM metadata`).Scan(&n); err != nil || n != 0 {
		t.Errorf("metadata rows after the mailbox's deletion: %d, %v", n, err)
	}
}
