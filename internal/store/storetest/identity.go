package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// identityImporter returns the session's IdentityImporter and UIDLKeeper;
// it skips the test for a store without them (the interfaces are
// optional, but come together).
func identityImporter(t *testing.T, ss store.Session) (store.IdentityImporter, store.UIDLKeeper) {
	t.Helper()
	ii, ok := ss.(store.IdentityImporter)
	if !ok {
		t.Skip("session does not implement store.IdentityImporter")
	}
	uk, ok := ss.(store.UIDLKeeper)
	if !ok {
		t.Fatal("session implements store.IdentityImporter but not store.UIDLKeeper")
	}
	return ii, uk
}

func identified(subject string, uid store.UID, uidl string, flags ...string) store.IdentifiedAppend {
	return store.IdentifiedAppend{AppendRequest: req(subject, flags...), UID: uid, POP3UIDL: uidl}
}

// uidls returns a mailbox's kept POP3 unique-ids by UID.
func uidls(t *testing.T, uk store.UIDLKeeper, mb store.MailboxID) map[store.UID]string {
	t.Helper()
	got := map[store.UID]string{}
	last := store.UID(0)
	err := uk.POP3UIDLs(t.Context(), mb, func(u store.UID, s string) error {
		if u <= last {
			t.Errorf("POP3UIDLs: UID %d after %d, want ascending", u, last)
		}
		last = u
		got[u] = s
		return nil
	})
	if err != nil {
		t.Fatalf("POP3UIDLs: %v", err)
	}
	return got
}

// testMailboxIdentity: an empty mailbox takes a given UIDVALIDITY, with
// UIDNEXT 1 and HIGHESTMODSEQ at least the floor; a non-empty one is
// refused; QRESYNC's expunge log answers in full below the floor.
func testMailboxIdentity(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	ii, _ := identityImporter(t, ss)
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	uids := appendN(t, ss, mail.ID, 2)
	if _, err := ss.Expunge(ctx, mail.ID, uids[:1]); err != nil {
		t.Fatal(err)
	}
	_, err := ii.SetMailboxIdentity(ctx, mail.ID, 1234, 10)
	wantErr(t, "SetMailboxIdentity on a mailbox with a message", err, store.ErrNotEmpty)
	if _, err := ss.Expunge(ctx, mail.ID, uids[1:]); err != nil {
		t.Fatal(err)
	}
	const floor = 5000
	for _, mb := range []store.Mailbox{inbox, mail} { // never used, and emptied
		got, err := ii.SetMailboxIdentity(ctx, mb.ID, 1234, floor)
		if err != nil {
			t.Fatalf("SetMailboxIdentity(%s): %v", mb.Name, err)
		}
		if got.ID != mb.ID || got.UIDValidity != 1234 || got.UIDNext != 1 || got.HighestModSeq < floor {
			t.Errorf("SetMailboxIdentity(%s) = %+v, want ID %d, UIDVALIDITY 1234, UIDNEXT 1, HIGHESTMODSEQ >= %d", mb.Name, got, mb.ID, floor)
		}
		if again := mailbox(t, ss, mb.Name); again != got {
			t.Errorf("Mailbox(%s) = %+v after SetMailboxIdentity returned %+v", mb.Name, again, got)
		}
	}
	_, err = ii.SetMailboxIdentity(ctx, inbox.ID, 0, 0)
	wantErr(t, "SetMailboxIdentity with UIDVALIDITY 0", err, store.ErrNotAllowed)
	if el, ok := ss.(store.ExpungeLogger); ok {
		// The old UIDs belonged to the old UIDVALIDITY; below the floor
		// the answer is not exact.
		got, complete, err := el.ExpungedSince(ctx, mail.ID, 1)
		if err != nil || len(got) != 0 || complete {
			t.Errorf("ExpungedSince(1) after SetMailboxIdentity = %v, %v, %v; want none, incomplete", got, complete, err)
		}
	}
	res, err := ii.AppendIdentified(ctx, mail.ID, identified("one", 1, ""))
	if err != nil || res[0].ModSeq <= floor || res[0].UIDValidity != 1234 {
		t.Fatalf("AppendIdentified after the floor = %+v, %v; want MODSEQ above %d, UIDVALIDITY 1234", res, err, floor)
	}
	_, err = ii.SetMailboxIdentity(ctx, mail.ID, 99, 0)
	wantErr(t, "SetMailboxIdentity on a filled mailbox", err, store.ErrNotEmpty)
}

// testAppendIdentified: messages keep the UIDs, flags, keywords, dates
// and POP3 unique-ids they are given; UIDs must ascend from UIDNEXT; a
// UID already there is a duplicate (resumable imports); the messages are
// not recent; MOVE keeps the unique-id and COPY does not.
func testAppendIdentified(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	ii, uk := identityImporter(t, ss)
	inbox, mail, sent := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail"), mailbox(t, ss, "Sent")
	if _, err := ii.SetMailboxIdentity(ctx, inbox.ID, 777, 0); err != nil {
		t.Fatal(err)
	}
	other := session(t, st, acc.ID)
	date := time.Date(2019, 3, 4, 5, 6, 7, 0, time.FixedZone("", 2*3600))
	first := identified("three", 3, "0000000300000309", store.FlagSeen, "$Forwarded", "Work")
	first.InternalDate = date
	res, err := ii.AppendIdentified(ctx, inbox.ID, first, identified("seven", 7, "custom-uidl.7", store.FlagDeleted))
	if err != nil {
		t.Fatalf("AppendIdentified: %v", err)
	}
	if res[0].UID != 3 || res[1].UID != 7 || res[0].UIDValidity != 777 {
		t.Fatalf("AppendIdentified = %+v, want UIDs 3 and 7 in UIDVALIDITY 777", res)
	}
	waitFor(t, other.Changes(), func(c store.Change) bool {
		a, ok := c.(store.ChangeAdd)
		return ok && a.Mailbox == inbox.ID && a.Info.UID == 7
	})
	infos := messages(t, ss, inbox.ID)
	if len(infos) != 2 || !slices.Equal([]string(infos[0].Flags), []string{"$Forwarded", store.FlagSeen, "Work"}) ||
		!infos[0].InternalDate.Equal(date) || !slices.Equal([]string(infos[1].Flags), []string{store.FlagDeleted}) {
		t.Errorf("messages = %+v; want UID 3 \\Seen $Forwarded Work at %v, UID 7 \\Deleted", infos, date)
	}
	if s := status(t, ss, inbox.ID); s.UIDNext != 8 || s.Recent != 0 {
		t.Errorf("status after AppendIdentified: UIDNEXT %d, recent %d; want 8, 0", s.UIDNext, s.Recent)
	}

	_, err = ii.AppendIdentified(ctx, inbox.ID, identified("three again", 3, ""))
	wantErr(t, "AppendIdentified of a UID present", err, store.ErrDuplicate)
	_, err = ii.AppendIdentified(ctx, inbox.ID, identified("five", 5, ""))
	wantErr(t, "AppendIdentified of a UID below UIDNEXT", err, store.ErrUIDOrder)
	_, err = ii.AppendIdentified(ctx, inbox.ID, identified("nine", 9, ""), identified("eight", 8, ""))
	wantErr(t, "AppendIdentified of descending UIDs", err, store.ErrUIDOrder)
	_, err = ii.AppendIdentified(ctx, inbox.ID, identified("bad uidl", 9, "has space"))
	wantErr(t, "AppendIdentified with an invalid unique-id", err, store.ErrInvalidName)
	_, err = ii.AppendIdentified(ctx, inbox.ID, identified("nine", 9, ""), identified("three", 3, ""))
	if !errors.Is(err, store.ErrDuplicate) && !errors.Is(err, store.ErrUIDOrder) {
		t.Errorf("AppendIdentified of 9 then 3: %v, want ErrDuplicate or ErrUIDOrder", err)
	}
	if got := uidsOf(messages(t, ss, inbox.ID)); !equalUIDs(got, []store.UID{3, 7}) {
		t.Fatalf("after refused appends: UIDs %v, want [3 7] (all or none)", got)
	}

	res, err = ii.AppendIdentified(ctx, inbox.ID, identified("next", 0, ""))
	if err != nil || res[0].UID != 8 {
		t.Fatalf("AppendIdentified with UID 0 = %+v, %v; want UID 8", res, err)
	}
	for _, next := range []store.UID{20, 10} {
		mb, err := ii.RaiseUIDNext(ctx, inbox.ID, next)
		if err != nil || mb.UIDNext != 20 {
			t.Errorf("RaiseUIDNext(%d) = %+v, %v; want UIDNEXT 20", next, mb, err)
		}
	}
	if got := appendOne(t, ss, inbox.ID, req("delivered")); got.UID != 20 {
		t.Errorf("Append after RaiseUIDNext(20): UID %d, want 20", got.UID)
	}

	want := map[store.UID]string{3: "0000000300000309", 7: "custom-uidl.7"}
	if got := uidls(t, uk, inbox.ID); !mapsEqual(got, want) {
		t.Errorf("POP3UIDLs = %v, want %v", got, want)
	}
	moved, err := ss.Move(ctx, inbox.ID, []store.UID{7}, mail.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Copy(ctx, inbox.ID, []store.UID{3}, sent.ID); err != nil {
		t.Fatal(err)
	}
	if got := uidls(t, uk, mail.ID); !mapsEqual(got, map[store.UID]string{moved.Dest[0]: "custom-uidl.7"}) {
		t.Errorf("POP3UIDLs of Mail after MOVE = %v, want the unique-id moved along", got)
	}
	if got := uidls(t, uk, sent.ID); len(got) != 0 {
		t.Errorf("POP3UIDLs of Sent after COPY = %v, want none", got)
	}
	if got := uidls(t, uk, inbox.ID); !mapsEqual(got, map[store.UID]string{3: "0000000300000309"}) {
		t.Errorf("POP3UIDLs of INBOX after MOVE = %v", got)
	}
	err = uk.POP3UIDLs(ctx, store.MailboxID(1<<40), func(store.UID, string) error { return nil })
	wantErr(t, "POP3UIDLs of a missing mailbox", err, store.ErrNoSuchMailbox)
}

func mapsEqual(a, b map[store.UID]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
