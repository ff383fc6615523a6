package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	dir, st, acc, f := newAliceIndex(t)
	f.append(t, "before")
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSearchIndex+`; `+downgradeTo2+`ALTER TABLE mailbox DROP COLUMN first_recent; PRAGMA user_version = 1`)
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

// downgradeTo7 undoes schema version 8 (the first POP3 retrieval).
const downgradeTo7 = `DROP INDEX message_retrieved; ALTER TABLE message DROP COLUMN retrieved; PRAGMA user_version = 7;`

// downgradeTo6 undoes schema versions 8 and 7 (the INTERNALDATE's zone).
const downgradeTo6 = downgradeTo7 + `ALTER TABLE message DROP COLUMN internal_zone; PRAGMA user_version = 6;`

// downgradeTo5 undoes schema versions 8 to 6 (the foreign message's head).
const downgradeTo5 = downgradeTo6 + `ALTER TABLE content DROP COLUMN foreign_head; PRAGMA user_version = 5;`

// downgradeTo4 undoes schema versions 8 to 5 (quota).
const downgradeTo4 = downgradeTo5 + undoQuotaSchema

// downgradeTo3 undoes schema versions 8 to 4 (foreign messages).
const downgradeTo3 = downgradeTo4 + `ALTER TABLE content DROP COLUMN is_foreign; PRAGMA user_version = 3;`

// downgradeTo2 undoes schema versions 8 to 3 (the expunge log's retention).
const downgradeTo2 = downgradeTo3 + `DROP INDEX expunged_at; ALTER TABLE expunged DROP COLUMN at;
ALTER TABLE mailbox DROP COLUMN expunge_floor; PRAGMA user_version = 2;`

// TestMigrateExpungeLog takes an index back to schema version 2 and
// reopens it: version 3 keeps the expunge log written before it, complete,
// with its retention counted from the migration.
func TestMigrateExpungeLog(t *testing.T) {
	ctx := context.Background()
	dir, st, acc, f := newAliceIndex(t)
	r := f.append(t, "gone")
	if _, err := f.ss.Expunge(ctx, f.inbox.ID, []store.UID{r.UID}); err != nil {
		t.Fatal(err)
	}
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSearchIndex+`; `+downgradeTo2)
	before := time.Now().Add(-time.Minute)
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	if n, err := st.PruneExpunged(ctx, before); err != nil || n != 0 {
		t.Errorf("PruneExpunged(before the migration) = %d, %v; want 0", n, err)
	}
	got, complete, err := f.ss.(store.ExpungeLogger).ExpungedSince(ctx, f.inbox.ID, r.ModSeq)
	if err != nil || !complete || len(got) != 1 || got[0] != r.UID {
		t.Errorf("ExpungedSince after migration = %v, %v, %v; want [%d], complete", got, complete, err, r.UID)
	}
}

// TestMigrateForeign: schema version 4 adds the foreign mark; content
// stored before it is not foreign, new content is marked by the rule.
func TestMigrateForeign(t *testing.T) {
	ctx := context.Background()
	dir, st, acc, f := newAliceIndex(t)
	f.append(t, "before")
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSearchIndex+`; `+downgradeTo3)
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	if _, err := f.ss.Append(ctx, f.inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: bin\r\n\r\n\x00")}); err != nil {
		t.Fatal(err)
	}
	var got []bool
	err := f.ss.MessageData(ctx, f.inbox.ID, []store.UID{1, 2}, func(md store.MessageData) error {
		got = append(got, md.Foreign)
		return nil
	})
	if err != nil || len(got) != 2 || got[0] || !got[1] {
		t.Errorf("Foreign after migration = %v, %v; want [false true]", got, err)
	}
}

// undoQuotaSchema takes an index of schema version 5 back to version 4.
const undoQuotaSchema = `DROP TRIGGER message_usage_add; DROP TRIGGER message_usage_remove; DROP TRIGGER message_usage_move;
	ALTER TABLE mailbox DROP COLUMN used_octets; ALTER TABLE mailbox DROP COLUMN used_messages;
	ALTER TABLE account DROP COLUMN quota_storage; ALTER TABLE account DROP COLUMN quota_messages;
	PRAGMA user_version = 4;
`

// TestMigrateQuota takes an index back to schema version 4 and reopens
// it: version 5 counts the usage of the messages already stored, and
// keeps it exact from then on.
func TestMigrateQuota(t *testing.T) {
	ctx := context.Background()
	dir, st, acc, f := newAliceIndex(t)
	a, b := f.append(t, "before one"), f.append(t, "before two")
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSearchIndex+`; `+downgradeTo4)
	st = openTest(t, dir, Options{})
	q, err := st.Quota(ctx, acc.ID)
	if err != nil || q.Storage.Used != a.Size+b.Size || q.Messages.Used != 2 || q.Limited() {
		t.Fatalf("after migration: %+v, %v; want %d octets in 2 messages, no limit", q, err, a.Size+b.Size)
	}
	f = openFixture(t, st, acc)
	c := f.append(t, "after")
	if q, _ = st.Quota(ctx, acc.ID); q.Storage.Used != a.Size+b.Size+c.Size || q.Messages.Used != 3 {
		t.Errorf("after an append: %+v", q)
	}
}

// TestQuotaSiteDefault: the store's default limits apply to accounts
// whose own limit is QuotaDefault, and not to the others.
func TestQuotaSiteDefault(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, t.TempDir(), Options{QuotaStorage: 1 << 20, QuotaMessages: 1})
	acc, err := st.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := st.Quota(ctx, acc.ID)
	if err != nil || q.Storage.Limit != 1<<20 || q.Messages.Limit != 1 {
		t.Fatalf("default limits: %+v, %v", q, err)
	}
	f := openFixture(t, st, acc)
	f.append(t, "one")
	if _, err := f.ss.Append(ctx, f.inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: two\r\n\r\nx\r\n")}); !errors.Is(err, store.ErrOverQuota) {
		t.Errorf("second append under the site default of 1 message: %v; want ErrOverQuota", err)
	}
	none := store.QuotaNone
	if _, err := st.UpdateAccount(ctx, "alice", store.AccountUpdate{QuotaMessages: &none}); err != nil {
		t.Fatal(err)
	}
	f.append(t, "two")
	if q, _ = st.Quota(ctx, acc.ID); q.Messages.Limited() || q.Storage.Limit != 1<<20 {
		t.Errorf("with its own message limit none: %+v", q)
	}
}

// TestMigrateInternalZone: schema version 7 keeps the zone of INTERNALDATE;
// a message stored before it reads back in UTC, as it was shown, and one
// appended after keeps its offset.
func TestMigrateInternalZone(t *testing.T) {
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
	zone := time.FixedZone("", 2*3600)
	date := time.Date(2007, 3, 25, 0, 15, 0, 0, zone)
	f := openFixture(t, st, acc)
	if _, err := f.ss.Append(ctx, f.inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: old\r\n\r\nx"), InternalDate: date}); err != nil {
		t.Fatal(err)
	}
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSearchIndex+`; `+downgradeTo6)
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	if _, err := f.ss.Append(ctx, f.inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: new\r\n\r\nx"), InternalDate: date}); err != nil {
		t.Fatal(err)
	}
	infos, err := f.ss.Messages(ctx, f.inbox.ID)
	if err != nil || len(infos) != 2 {
		t.Fatalf("Messages = %v, %v; want 2", infos, err)
	}
	if d := infos[0].InternalDate; !d.Equal(date) || d.Location() != time.UTC {
		t.Errorf("message stored before the migration: InternalDate %v, want %v in UTC", d, date)
	}
	if d := infos[1].InternalDate; !d.Equal(date) || d.Format("-0700") != "+0200" {
		t.Errorf("message stored after the migration: InternalDate %v, want %v", d, date)
	}
}

// TestMigrateRetrieved: schema version 8 records the first POP3
// retrieval; a message stored before it counts as never retrieved, so an
// upgrade expires nothing, and it can be marked afterwards.
func TestMigrateRetrieved(t *testing.T) {
	ctx := context.Background()
	dir, st, acc, f := newAliceIndex(t)
	r := f.append(t, "old")
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSearchIndex+`; `+downgradeTo7)
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, err := st.ExpireRetrieved(ctx, acc.ID, f.inbox.ID, far); err != nil || len(got) != 0 {
		t.Fatalf("ExpireRetrieved after migration = %v, %v; want nothing", got, err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.MarkRetrieved(ctx, acc.ID, f.inbox.ID, []store.UID{r.UID}, at); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ExpireRetrieved(ctx, acc.ID, f.inbox.ID, far); err != nil || len(got) != 1 || got[0] != r.UID {
		t.Errorf("ExpireRetrieved of a message marked after migration = %v, %v; want [%d]", got, err, r.UID)
	}
}

// newAliceIndex opens a store in a new directory with the account alice
// and a fixture on her INBOX, for a test that then takes the index back
// to an older schema version.
func newAliceIndex(t *testing.T) (dir string, st *Store, acc store.Account, f fixture) {
	t.Helper()
	dir = t.TempDir()
	st, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err = st.CreateAccount(context.Background(), "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, st, acc, openFixture(t, st, acc)
}

// downgradeIndex runs stmts on the closed index of dir, to take it back
// to an older schema version.
func downgradeIndex(t *testing.T, dir, stmts string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(context.Background(), stmts)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateDKIMKeys: schema version 14 adds the DKIM key table; an
// index from before it has no keys and takes one after the upgrade.
func TestMigrateDKIMKeys(t *testing.T) {
	ctx := context.Background()
	dir, st, _, f := newAliceIndex(t)
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoMetadata+`; DROP TABLE dkim_key; PRAGMA user_version = 13`)
	st = openTest(t, dir, Options{})
	if keys, err := st.DKIMKeys(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("DKIMKeys after migration = %v, %v; want none", keys, err)
	}
	k := store.DKIMKey{Domain: "example.org", Selector: "s1", Algorithm: "rsa", PrivateKey: []byte{1}}
	if err := st.AddDKIMKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if keys, err := st.DKIMKeys(ctx, "example.org"); err != nil || len(keys) != 1 || keys[0].Created.IsZero() {
		t.Errorf("DKIMKeys = %+v, %v; want the key with its creation time", keys, err)
	}
}
