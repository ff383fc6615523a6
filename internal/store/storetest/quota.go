package storetest

import (
	"sync"
	"testing"

	"github.com/postern/postern/internal/store"
)

// quotaOf returns the account's quota; it skips the test for a store that
// keeps none (store.QuotaKeeper is optional).
func quotaOf(t *testing.T, st store.Store, id store.AccountID) store.Quota {
	t.Helper()
	qk, ok := st.(store.QuotaKeeper)
	if !ok {
		t.Skip("store does not implement store.QuotaKeeper")
	}
	q, err := qk.Quota(t.Context(), id)
	if err != nil {
		t.Fatalf("Quota: %v", err)
	}
	return q
}

func setQuota(t *testing.T, st store.Store, name string, octets, messages int64) store.Account {
	t.Helper()
	acc, err := st.UpdateAccount(t.Context(), name, store.AccountUpdate{QuotaStorage: &octets, QuotaMessages: &messages})
	if err != nil {
		t.Fatalf("UpdateAccount quota: %v", err)
	}
	return acc
}

func wantUsage(t *testing.T, what string, q store.Quota, octets, messages int64) {
	t.Helper()
	if q.Storage.Used != octets || q.Messages.Used != messages {
		t.Errorf("%s: usage %d octets, %d messages; want %d, %d", what, q.Storage.Used, q.Messages.Used, octets, messages)
	}
}

// testQuotaLimits: limits are stored per account, read back, reset to
// the default and taken away; the limits in force follow at once.
func testQuotaLimits(t *testing.T, st store.Store) {
	acc, _ := account(t, st, "alice")
	if acc.QuotaStorage != store.QuotaDefault || acc.QuotaMessages != store.QuotaDefault {
		t.Errorf("new account limits %d, %d; want QuotaDefault", acc.QuotaStorage, acc.QuotaMessages)
	}
	q := quotaOf(t, st, acc.ID)
	if q.Limited() {
		t.Errorf("new account without site default: %+v; want no limit", q)
	}
	acc = setQuota(t, st, "alice", 10240, 5)
	if acc.QuotaStorage != 10240 || acc.QuotaMessages != 5 {
		t.Errorf("UpdateAccount returned %d, %d", acc.QuotaStorage, acc.QuotaMessages)
	}
	if got, _ := st.Account(t.Context(), "ALICE"); got.QuotaStorage != 10240 || got.QuotaMessages != 5 {
		t.Errorf("Account reads %d, %d", got.QuotaStorage, got.QuotaMessages)
	}
	q = quotaOf(t, st, acc.ID)
	if q.Storage.Limit != 10240 || q.Messages.Limit != 5 {
		t.Errorf("Quota limits %+v; want 10240 octets, 5 messages", q)
	}
	acc = setQuota(t, st, "alice", store.QuotaNone, store.QuotaDefault)
	if acc.QuotaStorage != store.QuotaNone || acc.QuotaMessages != store.QuotaDefault {
		t.Errorf("after none/default: %d, %d", acc.QuotaStorage, acc.QuotaMessages)
	}
	if q = quotaOf(t, st, acc.ID); q.Limited() {
		t.Errorf("after none/default: %+v; want no limit", q)
	}
	bad := int64(-7)
	_, err := st.UpdateAccount(t.Context(), "alice", store.AccountUpdate{QuotaStorage: &bad})
	if err == nil {
		t.Error("UpdateAccount with limit -7 succeeded")
	}
	if _, err := st.(store.QuotaKeeper).Quota(t.Context(), store.AccountID(1<<40)); err == nil {
		t.Error("Quota of a missing account succeeded")
	} else {
		wantErr(t, "Quota of a missing account", err, store.ErrNoSuchAccount)
	}
}

// testQuotaUsage: usage is exact after every append, copy, move,
// expunge, rename of INBOX and mailbox deletion, and other accounts do
// not count.
func testQuotaUsage(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	_, other := account(t, st, "bob")
	quotaOf(t, st, acc.ID)
	inbox := mailbox(t, ss, "INBOX")
	var sizes []int64
	for _, s := range []string{"a", "bb", "ccc"} {
		sizes = append(sizes, appendOne(t, ss, inbox.ID, req(s)).Size)
	}
	appendOne(t, other, mailbox(t, other, "INBOX").ID, req("bob's"))
	total := sizes[0] + sizes[1] + sizes[2]
	wantUsage(t, "after 3 appends", quotaOf(t, st, acc.ID), total, 3)

	box, err := ss.CreateMailbox(ctx, "Box", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Copy(ctx, inbox.ID, []store.UID{1, 2}, box.ID); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "after copying 2 (a copy counts again)", quotaOf(t, st, acc.ID), total+sizes[0]+sizes[1], 5)
	if _, err := ss.Move(ctx, inbox.ID, []store.UID{3}, box.ID); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "after a move", quotaOf(t, st, acc.ID), total+sizes[0]+sizes[1], 5)
	if _, err := ss.Expunge(ctx, inbox.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "after an expunge", quotaOf(t, st, acc.ID), total+sizes[1], 4)
	if err := ss.RenameMailbox(ctx, "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "after renaming INBOX", quotaOf(t, st, acc.ID), total+sizes[1], 4)
	if err := ss.DeleteMailbox(ctx, "Box"); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "after deleting Box", quotaOf(t, st, acc.ID), sizes[1], 1)
}

// testQuotaEnforced: an append or copy that would pass a limit fails with
// ErrOverQuota and adds nothing; a move within the account, an expunge and
// a lowered limit behave; a new limit applies to an open session at once.
func testQuotaEnforced(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	quotaOf(t, st, acc.ID)
	inbox := mailbox(t, ss, "INBOX")
	one := appendOne(t, ss, inbox.ID, req("x")).Size
	setQuota(t, st, "alice", 3*one, 10)
	appendOne(t, ss, inbox.ID, req("y"))
	// MULTIAPPEND of two: one would fit, both do not; none is added.
	_, err := ss.Append(ctx, inbox.ID, req("z"), req("w"))
	wantErr(t, "MULTIAPPEND past the storage limit", err, store.ErrOverQuota)
	if s := status(t, ss, inbox.ID); s.Messages != 2 || s.UIDNext != 3 {
		t.Errorf("after the refused append: %d messages, UIDNEXT %d; want 2, 3", s.Messages, s.UIDNext)
	}
	appendOne(t, ss, inbox.ID, req("z")) // exactly at the limit
	_, err = ss.Append(ctx, inbox.ID, req("v"))
	wantErr(t, "append to a full account", err, store.ErrOverQuota)
	trash := mailbox(t, ss, "Trash")
	_, err = ss.Copy(ctx, inbox.ID, []store.UID{1}, trash.ID)
	wantErr(t, "copy in a full account", err, store.ErrOverQuota)
	if s := status(t, ss, trash.ID); s.Messages != 0 || s.UIDNext != 1 {
		t.Errorf("after the refused copy: Trash %d messages, UIDNEXT %d", s.Messages, s.UIDNext)
	}
	if _, err := ss.Move(ctx, inbox.ID, []store.UID{1}, trash.ID); err != nil {
		t.Errorf("move in a full account: %v", err)
	}
	if _, err := ss.Expunge(ctx, trash.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	appendOne(t, ss, inbox.ID, req("v")) // room again after the expunge
	// The message limit, set while the session is open.
	setQuota(t, st, "alice", store.QuotaNone, 3)
	_, err = ss.Append(ctx, inbox.ID, req("u"))
	wantErr(t, "append past the message limit", err, store.ErrOverQuota)
	// A limit lowered below the usage refuses more, refuses nothing else.
	setQuota(t, st, "alice", 1, store.QuotaNone)
	_, err = ss.Append(ctx, inbox.ID, req("t"))
	wantErr(t, "append under a lowered limit", err, store.ErrOverQuota)
	if _, err := ss.StoreFlags(ctx, inbox.ID, []store.UID{2}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}}); err != nil {
		t.Errorf("STORE under a lowered limit: %v", err)
	}
	setQuota(t, st, "alice", store.QuotaNone, store.QuotaNone)
	appendOne(t, ss, inbox.ID, req("s"))
}

// testQuotaConcurrent: parallel appends from several sessions never take
// the account past its limit together.
func testQuotaConcurrent(t *testing.T, st store.Store) {
	acc, ss := account(t, st, "alice")
	quotaOf(t, st, acc.ID)
	setQuota(t, st, "alice", store.QuotaNone, 5)
	inbox := mailbox(t, ss, "INBOX")
	const writers = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range writers {
		s := session(t, st, acc.ID)
		wg.Go(func() {
			for range 3 {
				if _, err := s.Append(t.Context(), inbox.ID, req("m")); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if ok != 5 {
		t.Errorf("%d appends succeeded; want exactly 5", ok)
	}
	wantUsage(t, "after concurrent appends", quotaOf(t, st, acc.ID), quotaOf(t, st, acc.ID).Storage.Used, 5)
}
