package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testRecent checks RFC 3501 §2.3.2 recency: new messages are unclaimed
// until one session claims them; a peek does not claim; a later claim
// gets only what arrived since; copies arrive recent.
func testRecent(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	b := session(t, st, acc.ID)
	inbox, mail := mailbox(t, a, "INBOX"), mailbox(t, a, "Mail")
	check := func(what string, got store.UIDRange, err error, want store.UIDRange) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %+v, %v; want %+v", what, got, err, want)
		}
	}
	r, err := a.UnclaimedRecent(ctx, inbox.ID)
	check("UnclaimedRecent of an empty mailbox", r, err, store.UIDRange{First: 1, Next: 1})
	uids := appendN(t, a, inbox.ID, 3)
	if s := status(t, b, inbox.ID); s.Recent != 3 {
		t.Errorf("Status.Recent = %d, want 3", s.Recent)
	}
	r, err = b.UnclaimedRecent(ctx, inbox.ID)
	check("UnclaimedRecent", r, err, store.UIDRange{First: uids[0], Next: uids[2] + 1})
	r, err = b.UnclaimedRecent(ctx, inbox.ID)
	check("UnclaimedRecent again (a peek claims nothing)", r, err, store.UIDRange{First: uids[0], Next: uids[2] + 1})
	r, err = a.ClaimRecent(ctx, inbox.ID)
	check("ClaimRecent", r, err, store.UIDRange{First: uids[0], Next: uids[2] + 1})
	r, err = b.ClaimRecent(ctx, inbox.ID)
	check("ClaimRecent of nothing left", r, err, store.UIDRange{First: uids[2] + 1, Next: uids[2] + 1})
	if s := status(t, b, inbox.ID); s.Recent != 0 {
		t.Errorf("Status.Recent after the claim = %d, want 0", s.Recent)
	}
	more := appendN(t, a, inbox.ID, 2)
	r, err = b.ClaimRecent(ctx, inbox.ID)
	check("ClaimRecent of later arrivals", r, err, store.UIDRange{First: more[0], Next: more[1] + 1})
	// Copies are new messages of the destination (RFC 3501 §6.4.7).
	if _, err := a.Copy(ctx, inbox.ID, uids[:2], mail.ID); err != nil {
		t.Fatal(err)
	}
	if s := status(t, a, mail.ID); s.Recent != 2 {
		t.Errorf("Status.Recent of the copies' mailbox = %d, want 2", s.Recent)
	}
	// An expunged recent message no longer counts.
	if _, err := a.Expunge(ctx, mail.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	if s := status(t, a, mail.ID); s.Recent != 1 {
		t.Errorf("Status.Recent after an expunge = %d, want 1", s.Recent)
	}
	_, err = a.ClaimRecent(ctx, store.MailboxID(1<<40))
	wantErr(t, "ClaimRecent of a missing mailbox", err, store.ErrNoSuchMailbox)
	_, err = a.UnclaimedRecent(ctx, store.MailboxID(1<<40))
	wantErr(t, "UnclaimedRecent of a missing mailbox", err, store.ErrNoSuchMailbox)
}

// testConcurrentClaims has sessions claim while messages arrive: every
// message ends up claimed by exactly one session.
func testConcurrentClaims(t *testing.T, st store.Store) {
	const claimers, messages = 8, 40
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	var wg sync.WaitGroup
	done := make(chan struct{})
	claims := make([][]store.UIDRange, claimers)
	errs := make([]error, claimers)
	for i := range claimers {
		cs := session(t, st, acc.ID)
		wg.Go(func() {
			for {
				r, err := cs.ClaimRecent(ctx, inbox.ID)
				if err != nil {
					errs[i] = err
					return
				}
				if r.First < r.Next {
					claims[i] = append(claims[i], r)
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	uids := appendN(t, ss, inbox.ID, messages)
	close(done)
	wg.Wait()
	last, err := ss.ClaimRecent(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[store.UID]int{}
	for i, rs := range claims {
		if errs[i] != nil {
			t.Fatalf("claimer %d: %v", i, errs[i])
		}
		for _, r := range rs {
			for u := r.First; u < r.Next; u++ {
				if o, ok := owner[u]; ok {
					t.Errorf("UID %d claimed by %d and %d", u, o, i)
				}
				owner[u] = i
			}
		}
	}
	for u := last.First; u < last.Next; u++ {
		if _, ok := owner[u]; ok {
			t.Errorf("UID %d claimed twice (last claim %+v)", u, last)
		}
		owner[u] = -1
	}
	var got []store.UID
	for u := range owner {
		got = append(got, u)
	}
	slices.Sort(got)
	if !equalUIDs(got, uids) {
		t.Errorf("claimed UIDs %v, want each of %v once", got, uids)
	}
}
