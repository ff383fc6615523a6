package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// testSaveDate: RFC 8514 §3. Every message stored gets a save date, not
// its internal date: an APPEND with a date of 2001 is saved now. A COPY
// and a MOVE are saved no earlier than the original; a flag change and
// other messages' arrivals leave a save date alone. SaveDates with nil
// returns the whole mailbox, leaves absent UIDs out, and refuses another
// account's mailbox.
func testSaveDate(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	sk, ok := ss.(store.SaveDateKeeper)
	if !ok {
		t.Skip("session does not implement store.SaveDateKeeper")
	}
	inbox, mail, sent := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail"), mailbox(t, ss, "Sent")
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	r1 := appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(msg("dated")), InternalDate: old})
	r2 := appendOne(t, ss, inbox.ID, req("undated"))
	dates := func(mb store.MailboxID, uids []store.UID) map[store.UID]time.Time {
		t.Helper()
		m, err := sk.SaveDates(ctx, mb, uids)
		if err != nil {
			t.Fatalf("SaveDates(%d, %v): %v", mb, uids, err)
		}
		return m
	}
	first := dates(inbox.ID, nil)
	if len(first) != 2 {
		t.Fatalf("SaveDates(INBOX, nil) = %v, want 2 messages", first)
	}
	infos := messages(t, ss, inbox.ID)
	for _, mi := range infos {
		sd := first[mi.UID]
		if sd.IsZero() || sd.Location() != time.UTC || sd.Year() < 2020 {
			t.Errorf("save date of UID %d = %v, want a UTC time of the append", mi.UID, sd)
		}
	}
	if undated := infos[1]; first[r2.UID].Before(undated.InternalDate.Add(-time.Second)) {
		t.Errorf("save date %v is before the arrival %v", first[r2.UID], undated.InternalDate)
	}

	if _, err := ss.StoreFlags(ctx, inbox.ID, []store.UID{r1.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}}); err != nil {
		t.Fatal(err)
	}
	appendOne(t, ss, inbox.ID, req("third"))
	got := dates(inbox.ID, []store.UID{r1.UID, 999})
	if len(got) != 1 || !got[r1.UID].Equal(first[r1.UID]) {
		t.Errorf("after a flag change: SaveDates(INBOX, [%d 999]) = %v, want only %v", r1.UID, got, first[r1.UID])
	}

	copied, err := ss.Copy(ctx, inbox.ID, []store.UID{r1.UID}, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := ss.Move(ctx, inbox.ID, []store.UID{r2.UID}, mail.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := dates(sent.ID, nil)[copied.Dest[0]]; c.Before(first[r1.UID]) || c.Year() < 2020 {
		t.Errorf("save date of the copy = %v, want no earlier than the original's %v", c, first[r1.UID])
	}
	if m := dates(mail.ID, moved.Dest)[moved.Dest[0]]; m.Before(first[r2.UID]) {
		t.Errorf("save date of the moved message = %v, want no earlier than %v", m, first[r2.UID])
	}
	if still := dates(inbox.ID, nil); len(still) != 2 || !still[r1.UID].Equal(first[r1.UID]) {
		t.Errorf("INBOX after COPY and MOVE: %v, want the original's date kept", still)
	}

	_, bob := account(t, st, "bob")
	if _, err := bob.(store.SaveDateKeeper).SaveDates(ctx, inbox.ID, nil); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("SaveDates of another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
}
