package storetest

import (
	"testing"

	"github.com/postern/postern/internal/store"
)

// replacer returns the session as a store.Replacer, skipping the test for
// a store without it (the capability is optional).
func replacer(t *testing.T, ss store.Session) store.Replacer {
	t.Helper()
	r, ok := ss.(store.Replacer)
	if !ok {
		t.Skip("session does not implement store.Replacer")
	}
	return r
}

// testReplace: Replace appends and expunges in one step (RFC 8508 §3.4),
// within a mailbox and across two; a missing old message changes nothing;
// the other sessions are told of both changes.
func testReplace(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	rp := replacer(t, ss)
	other := session(t, st, acc.ID)
	inbox := mailbox(t, ss, "INBOX")
	drafts := mailbox(t, ss, "Drafts")
	uids := appendN(t, ss, drafts.ID, 2)
	other.Changes().Take()

	res, err := rp.Replace(ctx, drafts.ID, req("v2", store.FlagDraft), drafts.ID, uids[0])
	if err != nil {
		t.Fatalf("Replace in Drafts: %v", err)
	}
	if res.UID != uids[1]+1 {
		t.Errorf("Replace UID %d, want %d", res.UID, uids[1]+1)
	}
	got := messages(t, ss, drafts.ID)
	if len(got) != 2 || got[0].UID != uids[1] || got[1].UID != res.UID || !got[1].Flags.Has(store.FlagDraft) {
		t.Errorf("Drafts after Replace: %+v", got)
	}
	var added, expunged bool
	waitFor(t, other.Changes(), func(c store.Change) bool {
		switch c := c.(type) {
		case store.ChangeAdd:
			added = added || c.Info.UID == res.UID
		case store.ChangeExpunge:
			expunged = expunged || (len(c.UIDs) == 1 && c.UIDs[0] == uids[0])
		}
		return added && expunged
	})

	// Across mailboxes: the new message in INBOX, the old gone from Drafts.
	res2, err := rp.Replace(ctx, inbox.ID, req("sent"), drafts.ID, res.UID)
	if err != nil {
		t.Fatalf("Replace into INBOX: %v", err)
	}
	if s := status(t, ss, drafts.ID); s.Messages != 1 {
		t.Errorf("Drafts holds %d messages, want 1", s.Messages)
	}
	if in := messages(t, ss, inbox.ID); len(in) != 1 || in[0].UID != res2.UID {
		t.Errorf("INBOX after Replace: %+v", in)
	}

	// The old message is gone: nothing is added, nothing removed.
	before := status(t, ss, inbox.ID)
	_, err = rp.Replace(ctx, inbox.ID, req("late"), drafts.ID, res.UID)
	wantErr(t, "Replace of an expunged message", err, store.ErrNoSuchMessage)
	if s := status(t, ss, inbox.ID); s.Messages != before.Messages || s.UIDNext != before.UIDNext {
		t.Errorf("INBOX after the refused Replace: %d messages, UIDNEXT %d; want %d, %d", s.Messages, s.UIDNext, before.Messages, before.UIDNext)
	}
	_, err = rp.Replace(ctx, store.MailboxID(1<<40), req("x"), drafts.ID, uids[1])
	wantErr(t, "Replace into a missing mailbox", err, store.ErrNoSuchMailbox)
	if s := status(t, ss, drafts.ID); s.Messages != 1 {
		t.Errorf("Drafts after the refused Replace holds %d messages, want 1", s.Messages)
	}
}

// testReplaceQuota: Replace counts only the net change against the quota
// (RFC 8508 §3.4), and one that does not fit changes nothing.
func testReplaceQuota(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, ss := account(t, st, "alice")
	rp := replacer(t, ss)
	quotaOf(t, st, acc.ID)
	drafts := mailbox(t, ss, "Drafts")
	first := appendOne(t, ss, drafts.ID, req("aaaa"))
	// Full on both counts: an APPEND fails, a same-size REPLACE fits.
	setQuota(t, st, "alice", first.Size, 1)
	_, err := ss.Append(ctx, drafts.ID, req("bbbb"))
	wantErr(t, "append to a full account", err, store.ErrOverQuota)
	res, err := rp.Replace(ctx, drafts.ID, req("bbbb"), drafts.ID, first.UID)
	if err != nil {
		t.Fatalf("Replace of a same-size message in a full account: %v", err)
	}
	// A larger one does not fit: the old message stays.
	_, err = rp.Replace(ctx, drafts.ID, req("a much longer subject"), drafts.ID, res.UID)
	wantErr(t, "Replace past the storage limit", err, store.ErrOverQuota)
	if got := messages(t, ss, drafts.ID); len(got) != 1 || got[0].UID != res.UID {
		t.Errorf("Drafts after the refused Replace: %+v", got)
	}
	wantUsage(t, "after the refused Replace", quotaOf(t, st, acc.ID), res.Size, 1)
}
