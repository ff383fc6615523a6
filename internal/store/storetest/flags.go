package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testFlagsDecidedByStore is the lost update of issue 11: session b, which
// never read the message's flags since a stored \Deleted, adds \Seen. The
// store applies the addition to the stored flags, so \Deleted stays, the
// result reports both under a newer MODSEQ, and an expunge of the deleted
// messages then removes the message.
func testFlagsDecidedByStore(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	b := session(t, st, acc.ID)
	inbox := mailbox(t, a, "INBOX")
	r := appendOne(t, a, inbox.ID, req("stale"))
	fa, err := a.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagDeleted}})
	if err != nil || len(fa.Changed) != 1 {
		t.Fatalf("a: StoreFlags = %+v, %v", fa, err)
	}
	fb, err := b.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}})
	want := store.Flags{store.FlagDeleted, store.FlagSeen}
	if err != nil || len(fb.Changed) != 1 || !slices.Equal(fb.Changed[0].Flags, want) || fb.Changed[0].ModSeq <= fa.Changed[0].ModSeq {
		t.Fatalf("b: StoreFlags = %+v, %v; want %q above MODSEQ %d", fb, err, want, fa.Changed[0].ModSeq)
	}
	removed, err := b.ExpungeDeleted(ctx, inbox.ID, []store.UID{r.UID})
	if err != nil || !equalUIDs(removed, []store.UID{r.UID}) {
		t.Errorf("ExpungeDeleted = %v, %v; want %v", removed, err, []store.UID{r.UID})
	}
	if n := len(messages(t, a, inbox.ID)); n != 0 {
		t.Errorf("%d messages left after the expunge", n)
	}
}

// testExpungeDeleted checks that ExpungeDeleted removes exactly the given
// messages that carry \Deleted in the store, including a \Deleted another
// session set, and not one another session removed.
func testExpungeDeleted(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	b := session(t, st, acc.ID)
	inbox := mailbox(t, a, "INBOX")
	var uids []store.UID
	for i, fl := range [][]string{{store.FlagDeleted}, nil, {store.FlagDeleted, store.FlagSeen}, {store.FlagDeleted}, nil} {
		uids = append(uids, appendOne(t, a, inbox.ID, req(fmt.Sprintf("m%d", i), fl...)).UID)
	}
	// b sets \Deleted on the second and clears it on the third.
	b.StoreFlags(ctx, inbox.ID, uids[1:2], store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagDeleted}})
	b.StoreFlags(ctx, inbox.ID, uids[2:3], store.FlagRequest{Op: store.FlagsRemove, Flags: store.Flags{store.FlagDeleted}})
	b.Changes().Take()
	before := status(t, a, inbox.ID).HighestModSeq
	// The fourth is deleted but not among the candidates.
	removed, err := a.ExpungeDeleted(ctx, inbox.ID, []store.UID{uids[0], uids[1], uids[2], uids[4], 999})
	want := []store.UID{uids[0], uids[1]}
	if err != nil || !equalUIDs(removed, want) {
		t.Fatalf("ExpungeDeleted = %v, %v; want %v", removed, err, want)
	}
	if got := uidsOf(messages(t, a, inbox.ID)); !equalUIDs(got, []store.UID{uids[2], uids[3], uids[4]}) {
		t.Errorf("left %v, want %v", got, []store.UID{uids[2], uids[3], uids[4]})
	}
	h := status(t, a, inbox.ID).HighestModSeq
	if h <= before {
		t.Errorf("HIGHESTMODSEQ %d after the expunge, not above %d", h, before)
	}
	chs := waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeExpunge); return ok })
	if e := chs[len(chs)-1].(store.ChangeExpunge); !equalUIDs(e.UIDs, want) || e.ModSeq != h {
		t.Errorf("ChangeExpunge %+v, want %v at MODSEQ %d", e, want, h)
	}
	// Nothing deleted among the candidates: no change, no MODSEQ.
	removed, err = a.ExpungeDeleted(ctx, inbox.ID, []store.UID{uids[2], uids[4]})
	if err != nil || len(removed) != 0 {
		t.Errorf("ExpungeDeleted of undeleted messages = %v, %v", removed, err)
	}
	if h2 := status(t, a, inbox.ID).HighestModSeq; h2 != h {
		t.Errorf("an expunge of nothing moved HIGHESTMODSEQ from %d to %d", h, h2)
	}
	_, err = a.ExpungeDeleted(ctx, store.MailboxID(1<<40), uids)
	wantErr(t, "ExpungeDeleted of a missing mailbox", err, store.ErrNoSuchMailbox)
}

// testConcurrentFlags has sessions add and remove distinct keywords on
// one message at once: as set operations on the stored flags, no change
// is lost, and each change gets its own MODSEQ.
func testConcurrentFlags(t *testing.T, st store.Store) {
	const writers, rounds = 8, 10
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	r := appendOne(t, ss, inbox.ID, req("contended"))
	var wg sync.WaitGroup
	errs := make([]error, writers)
	modseqs := make([][]store.ModSeq, writers)
	for w := range writers {
		ws := session(t, st, acc.ID)
		wg.Go(func() {
			for i := range rounds {
				op := store.FlagsAdd
				if i == rounds-1 && w%2 == 1 {
					op = store.FlagsRemove // odd writers remove their first keyword at the end
				}
				kw := fmt.Sprintf("w%dk%d", w, i)
				if op == store.FlagsRemove {
					kw = fmt.Sprintf("w%dk0", w)
				}
				fr, err := ws.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: op, Flags: store.Flags{kw}})
				if err != nil || len(fr.Changed) != 1 {
					errs[w] = fmt.Errorf("round %d: %+v, %v", i, fr, err)
					return
				}
				modseqs[w] = append(modseqs[w], fr.Changed[0].ModSeq)
			}
		})
	}
	wg.Wait()
	seen := map[store.ModSeq]bool{}
	for w := range writers {
		if errs[w] != nil {
			t.Fatalf("writer %d: %v", w, errs[w])
		}
		for i, m := range modseqs[w] {
			if seen[m] || i > 0 && m <= modseqs[w][i-1] {
				t.Errorf("writer %d: MODSEQ %d reused or not ascending (%v)", w, m, modseqs[w])
			}
			seen[m] = true
		}
	}
	var want store.Flags
	for w := range writers {
		for i := range rounds - 1 {
			if !(i == 0 && w%2 == 1) {
				want = append(want, fmt.Sprintf("w%dk%d", w, i))
			}
		}
		if w%2 == 0 {
			want = append(want, fmt.Sprintf("w%dk%d", w, rounds-1))
		}
	}
	want, _ = store.CanonicalFlags(want)
	if got := messages(t, ss, inbox.ID)[0].Flags; !slices.Equal(got, want) {
		t.Errorf("flags after concurrent changes:\n got %q\nwant %q", got, want)
	}
}

// testFlagHints checks that the cost hints of store.FlagRequest never
// change a result. A stale hint (ExpectChange on a no-op, no hint on a
// change) gets the same answer as the right one; OmitUnchanged still
// reports every message it changed, with \Seen added to the stored flags
// (one a second session changed since), and a no-op changes no MODSEQ.
func testFlagHints(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	b := session(t, st, acc.ID)
	inbox := mailbox(t, a, "INBOX")
	seen := appendOne(t, a, inbox.ID, req("seen", store.FlagSeen)).UID
	other := appendOne(t, a, inbox.ID, req("other", store.FlagSeen)).UID
	uids := []store.UID{seen, other}
	addSeen := store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}}

	before := status(t, a, inbox.ID).HighestModSeq
	expect := addSeen
	expect.ExpectChange = true
	if fr, err := a.StoreFlags(ctx, inbox.ID, uids, expect); err != nil || len(fr.Changed) != 0 || len(fr.Unchanged) != 2 {
		t.Fatalf("ExpectChange on a no-op: %+v, %v; want 2 unchanged", fr, err)
	}
	omit := addSeen
	omit.OmitUnchanged = true
	if fr, err := a.StoreFlags(ctx, inbox.ID, uids, omit); err != nil || len(fr.Changed) != 0 {
		t.Fatalf("OmitUnchanged on a no-op: %+v, %v; want nothing changed", fr, err)
	}
	if after := status(t, a, inbox.ID).HighestModSeq; after != before {
		t.Errorf("no-ops raised HIGHESTMODSEQ from %d to %d", before, after)
	}

	// b removes \Seen and adds \Flagged; a, whose copy still shows \Seen,
	// sets \Seen again without expecting a change.
	b.StoreFlags(ctx, inbox.ID, []store.UID{other}, store.FlagRequest{Op: store.FlagsReplace, Flags: store.Flags{store.FlagFlagged}})
	fr, err := a.StoreFlags(ctx, inbox.ID, uids, omit)
	want := store.Flags{store.FlagFlagged, store.FlagSeen}
	if err != nil || len(fr.Changed) != 1 || fr.Changed[0].UID != other || !slices.Equal(fr.Changed[0].Flags, want) {
		t.Fatalf("OmitUnchanged after b's change: %+v, %v; want %d changed to %q", fr, err, other, want)
	}
	if fr.Changed[0].ModSeq <= before {
		t.Errorf("changed MODSEQ %d, want above %d", fr.Changed[0].ModSeq, before)
	}

	// A request the columns do not answer takes the general path.
	omitKw := store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen, "$Work"}, OmitUnchanged: true}
	if fr, err := a.StoreFlags(ctx, inbox.ID, uids, omitKw); err != nil || len(fr.Changed) != 2 {
		t.Fatalf("OmitUnchanged with a keyword: %+v, %v; want 2 changed", fr, err)
	}
	// No message found: the mailbox must still exist.
	if _, err := a.StoreFlags(ctx, inbox.ID+1000, uids, omit); err == nil {
		t.Error("OmitUnchanged on an unknown mailbox: no error")
	}
}
