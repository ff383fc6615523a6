package storetest

import (
	"testing"

	"github.com/postern/postern/internal/store"
)

// testEvents checks that each kind of change reaches a second session of
// the account, after commit, and not the session that made it.
func testEvents(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	b := session(t, st, acc.ID)
	inbox := mailbox(t, a, "INBOX")
	quiet := func(what string) {
		t.Helper()
		if chs := a.Changes().Take(); len(chs) != 0 {
			t.Errorf("%s: the originating session got %#v", what, chs)
		}
	}

	r := appendOne(t, a, inbox.ID, req("event"))
	chs := waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeAdd); return ok })
	if add := chs[0].(store.ChangeAdd); add.Mailbox != inbox.ID || add.Info.UID != r.UID || add.Info.EmailID != r.EmailID || add.Info.ModSeq != r.ModSeq {
		t.Errorf("ChangeAdd %+v, want UID %d in mailbox %d", add, r.UID, inbox.ID)
	}
	// Committed before published: the receiver can read the message.
	if infos := messages(t, b, inbox.ID); len(infos) != 1 {
		t.Errorf("receiver sees %d messages after ChangeAdd", len(infos))
	}
	quiet("append")

	fr, err := a.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Seen`}})
	if err != nil || len(fr.Changed) != 1 {
		t.Fatalf("StoreFlags = %+v, %v", fr, err)
	}
	chs = waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeFlags); return ok })
	if f := chs[0].(store.ChangeFlags); f.UID != r.UID || f.ModSeq != fr.Changed[0].ModSeq || len(f.Flags) != 1 || f.Flags[0] != `\Seen` {
		t.Errorf("ChangeFlags %+v", f)
	}
	quiet("store flags")

	if _, err := a.Expunge(ctx, inbox.ID, []store.UID{r.UID}); err != nil {
		t.Fatal(err)
	}
	chs = waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeExpunge); return ok })
	if e := chs[0].(store.ChangeExpunge); e.Mailbox != inbox.ID || !equalUIDs(e.UIDs, []store.UID{r.UID}) || e.ModSeq == 0 {
		t.Errorf("ChangeExpunge %+v", e)
	}
	quiet("expunge")

	mb, err := a.CreateMailbox(ctx, "News", "")
	if err != nil {
		t.Fatal(err)
	}
	chs = waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeMailbox); return ok })
	if m := chs[0].(store.ChangeMailbox); m.Kind != store.MailboxCreated || m.ID != mb.ID || m.Name != "News" {
		t.Errorf("ChangeMailbox %+v", m)
	}
	if err := a.RenameMailbox(ctx, "News", "Old News"); err != nil {
		t.Fatal(err)
	}
	chs = waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeMailbox); return ok })
	if m := chs[0].(store.ChangeMailbox); m.Kind != store.MailboxRenamed || m.ID != mb.ID || m.Name != "Old News" || m.OldName != "News" {
		t.Errorf("rename ChangeMailbox %+v", m)
	}
	if err := a.DeleteMailbox(ctx, "Old News"); err != nil {
		t.Fatal(err)
	}
	chs = waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeMailbox); return ok })
	if m := chs[0].(store.ChangeMailbox); m.Kind != store.MailboxDeleted || m.ID != mb.ID {
		t.Errorf("delete ChangeMailbox %+v", m)
	}
	if err := a.SetSubscribed(ctx, "INBOX", true); err != nil {
		t.Fatal(err)
	}
	chs = waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeSubscription); return ok })
	if s := chs[0].(store.ChangeSubscription); s.Name != "INBOX" || !s.Subscribed {
		t.Errorf("ChangeSubscription %+v", s)
	}
	quiet("mailbox changes")

	// Copy and move announce the arrival and, for move, the departure.
	mail := mailbox(t, a, "Mail")
	r = appendOne(t, a, inbox.ID, req("moving"))
	waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeAdd); return ok })
	if _, err := a.Move(ctx, inbox.ID, []store.UID{r.UID}, mail.ID); err != nil {
		t.Fatal(err)
	}
	var sawAdd, sawExpunge bool
	waitChanges(t, b.Changes(), func(chs []store.Change) bool {
		for _, c := range chs {
			switch c := c.(type) {
			case store.ChangeAdd:
				sawAdd = sawAdd || c.Mailbox == mail.ID && c.Info.EmailID == r.EmailID
			case store.ChangeExpunge:
				sawExpunge = sawExpunge || c.Mailbox == inbox.ID && equalUIDs(c.UIDs, []store.UID{r.UID})
			}
		}
		return sawAdd && sawExpunge
	})
	quiet("move")
}

// testEventsOtherAccount checks that one account's changes never reach
// another account's sessions.
func testEventsOtherAccount(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	witness := session(t, st, acc.ID)
	_, bob := account(t, st, "bob")
	inbox := mailbox(t, a, "INBOX")
	r := appendOne(t, a, inbox.ID, req("private"))
	a.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Seen`}})
	a.CreateMailbox(ctx, "Secret", "")
	a.Expunge(ctx, inbox.ID, []store.UID{r.UID})
	// Once alice's witness has seen the last change, bob's would have too.
	waitFor(t, witness.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeExpunge); return ok })
	if chs := bob.Changes().Take(); len(chs) != 0 {
		t.Errorf("another account's session got %#v", chs)
	}
}
