package sqlite

import (
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// undoSaveDate undoes schema version 18 (RFC 8514 save dates).
const undoSaveDate = undoSearchPending + `; ALTER TABLE message DROP COLUMN saved`

// TestSaveDateClock: with a clock that moves, each way of saving a
// message takes the time it happened (RFC 8514 §3): APPEND, COPY and
// MOVE, and the messages RENAME INBOX moves to the new mailbox; the
// original of a copy keeps its date.
func TestSaveDateClock(t *testing.T) {
	ctx := t.Context()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Hour)
		return now
	}
	opts := testOptions()
	opts.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := openTest(t, t.TempDir(), opts)
	acc, err := st.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	f := openFixture(t, st, acc)
	sk := f.ss.(store.SaveDateKeeper)
	appended := f.append(t, "one").UID
	tAppend := now
	tCopy := tick()
	sent, err := f.ss.Mailbox(ctx, "Sent")
	if err != nil {
		t.Fatal(err)
	}
	copied, err := f.ss.Copy(ctx, f.inbox.ID, []store.UID{appended}, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, mb store.MailboxID, uid store.UID, want time.Time) {
		t.Helper()
		got, err := sk.SaveDates(ctx, mb, []store.UID{uid})
		if err != nil || len(got) != 1 || !got[uid].Equal(want) {
			t.Errorf("%s: SaveDates = %v, %v; want UID %d at %v", what, got, err, uid, want)
		}
	}
	check("appended", f.inbox.ID, appended, tAppend)
	check("copy", sent.ID, copied.Dest[0], tCopy)
	tMove := tick()
	mail, err := f.ss.Mailbox(ctx, "Mail")
	if err != nil {
		t.Fatal(err)
	}
	moved, err := f.ss.Move(ctx, sent.ID, copied.Dest, mail.ID)
	if err != nil {
		t.Fatal(err)
	}
	tRename := tick()
	if err := f.ss.RenameMailbox(ctx, "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	old, err := f.ss.Mailbox(ctx, "Old")
	if err != nil {
		t.Fatal(err)
	}
	check("moved", mail.ID, moved.Dest[0], tMove)
	check("renamed INBOX", old.ID, appended, tRename)
}

// TestMigrateSaveDate: messages stored before schema version 18 have no
// save date (the zero time, FETCH SAVEDATE NIL); those stored after have.
func TestMigrateSaveDate(t *testing.T) {
	ctx := t.Context()
	dir, st, acc, f := newAliceIndex(t)
	before := f.append(t, "before").UID
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoSaveDate+`; PRAGMA user_version = 17`)
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	after := f.append(t, "after").UID
	got, err := f.ss.(store.SaveDateKeeper).SaveDates(ctx, f.inbox.ID, nil)
	if err != nil || len(got) != 2 || !got[before].IsZero() || got[after].IsZero() {
		t.Errorf("SaveDates after migration = %v, %v; want UID %d zero, UID %d set", got, err, before, after)
	}
}
