package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// retrievalKeeper returns the store's RetrievalKeeper; it skips the test
// for a store that keeps no retrieval times (the interface is optional).
func retrievalKeeper(t *testing.T, st store.Store) store.RetrievalKeeper {
	t.Helper()
	rk, ok := st.(store.RetrievalKeeper)
	if !ok {
		t.Skip("store does not implement store.RetrievalKeeper")
	}
	return rk
}

// testRetrieved: the first POP3 retrieval time (RFC 2449 §6.7 EXPIRE) is
// kept per message, a later mark keeps the first, MOVE keeps it and COPY
// does not; ExpireRetrieved removes exactly the messages marked before its
// time, never an unmarked or a foreign one, and announces the expunge to
// the account's sessions, the caller's included.
func testRetrieved(t *testing.T, st store.Store) {
	ctx := t.Context()
	rk := retrievalKeeper(t, st)
	acc, ss := account(t, st, "alice")
	inbox, mail, sent := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail"), mailbox(t, ss, "Sent")
	uids := appendN(t, ss, inbox.ID, 4) // 1, 2 marked; 3 never; 4 marked late
	foreign := req("foreign")
	foreign.Foreign = true
	uids = append(uids, appendOne(t, ss, inbox.ID, foreign).UID) // 5: foreign, marked
	t0 := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	mark := func(at time.Time, mb store.MailboxID, u ...store.UID) {
		t.Helper()
		if err := rk.MarkRetrieved(ctx, acc.ID, mb, u, at); err != nil {
			t.Fatalf("MarkRetrieved(%v): %v", u, err)
		}
	}
	expire := func(mb store.MailboxID, before time.Time, want ...store.UID) {
		t.Helper()
		got, err := rk.ExpireRetrieved(ctx, acc.ID, mb, before)
		if err != nil {
			t.Fatalf("ExpireRetrieved(%v): %v", before, err)
		}
		if !equalUIDs(got, want) {
			t.Errorf("ExpireRetrieved(mailbox %d, %v) = %v, want %v", mb, before, got, want)
		}
	}
	mark(t0, inbox.ID, uids[1], uids[0], uids[4], 99) // a missing UID is skipped
	mark(t0.Add(10*24*time.Hour), inbox.ID, uids[0], uids[3])
	mark(t0, inbox.ID) // nothing to mark

	other := session(t, st, acc.ID)
	expire(inbox.ID, t0) // strictly before: nothing yet
	if got := messages(t, ss, inbox.ID); len(got) != 5 {
		t.Fatalf("after an early expiry: %d messages, want 5", len(got))
	}

	moved, err := ss.Move(ctx, inbox.ID, uids[1:2], mail.ID)
	if err != nil {
		t.Fatalf("Move: %v", err)
	}
	copied, err := ss.Copy(ctx, inbox.ID, uids[:1], sent.ID)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	day := t0.Add(24 * time.Hour)
	expire(inbox.ID, day, uids[0]) // the later mark did not replace the first; 4 is later, 5 foreign
	expire(mail.ID, day, moved.Dest...)
	expire(sent.ID, t0.Add(100*24*time.Hour)) // the copy was never retrieved
	expire(inbox.ID, day)                     // already gone: nothing twice
	if got := uidsOf(messages(t, ss, inbox.ID)); !slices.Equal(got, []store.UID{uids[2], uids[3], uids[4]}) {
		t.Errorf("INBOX after expiry: %v, want %v", got, []store.UID{uids[2], uids[3], uids[4]})
	}
	if got := messages(t, ss, sent.ID); len(got) != 1 || got[0].UID != copied.Dest[0] {
		t.Errorf("Sent after expiry: %v, want the copy", got)
	}
	expire(inbox.ID, t0.Add(365*24*time.Hour), uids[3]) // the foreign one stays

	// Every session of the account hears of the expunges, the caller's too.
	for _, s := range []store.Session{ss, other} {
		waitFor(t, s.Changes(), func(c store.Change) bool {
			ex, ok := c.(store.ChangeExpunge)
			return ok && ex.Mailbox == inbox.ID && equalUIDs(ex.UIDs, uids[3:4])
		})
	}

	// Another account's mailbox is out of reach.
	bob, bs := account(t, st, "bob")
	bobInbox := mailbox(t, bs, "INBOX")
	appendN(t, bs, bobInbox.ID, 1)
	if err := rk.MarkRetrieved(ctx, acc.ID, bobInbox.ID, []store.UID{1}, t0); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("MarkRetrieved of another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
	if _, err := rk.ExpireRetrieved(ctx, acc.ID, bobInbox.ID, day); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("ExpireRetrieved of another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
	if err := rk.MarkRetrieved(ctx, bob.ID, bobInbox.ID, []store.UID{1}, time.Time{}); err == nil {
		t.Errorf("MarkRetrieved with the zero time succeeded")
	}
	if got := messages(t, bs, bobInbox.ID); len(got) != 1 {
		t.Errorf("bob's INBOX: %d messages, want 1", len(got))
	}
}
