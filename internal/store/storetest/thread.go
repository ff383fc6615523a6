package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// threadMsg is a message with the given Message-ID and In-Reply-To and
// References field values ("" leaves a field out).
func threadMsg(id, inReplyTo, references string) store.AppendRequest {
	var b strings.Builder
	b.WriteString("From: a@example.org\nSubject: t\n")
	for _, f := range [][2]string{{"Message-ID", id}, {"In-Reply-To", inReplyTo}, {"References", references}} {
		if f[1] != "" {
			b.WriteString(f[0] + ": " + f[1] + "\n")
		}
	}
	b.WriteString("\nbody\n")
	return store.AppendRequest{Content: strings.NewReader(b.String())}
}

// testThreads: RFC 8474 §5.2 threads (store.ThreadKeeper). A reply joins
// its parent's thread, by In-Reply-To or References alone; a message
// with no known reference begins a thread whose id is its EmailID; a
// reply stored before its parent gives the parent its thread; a parent
// and its reply in one MULTIAPPEND share one; COPY and MOVE keep the
// thread; threads are per account; ThreadIDs(nil) is the whole mailbox,
// absent UIDs are left out and another account's mailbox is refused.
func testThreads(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	tk, ok := ss.(store.ThreadKeeper)
	if !ok {
		t.Skip("session does not implement store.ThreadKeeper")
	}
	inbox, sent := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Sent")
	a := appendOne(t, ss, inbox.ID, threadMsg("<a@x>", "", ""))
	b := appendOne(t, ss, inbox.ID, threadMsg("<b@x>", "<a@x>", ""))
	c := appendOne(t, ss, inbox.ID, threadMsg("<c@x>", "", "<zz@x> <b@x>"))
	lone := appendOne(t, ss, inbox.ID, threadMsg("", "", ""))
	child := appendOne(t, ss, inbox.ID, threadMsg("<k@x>", "<p@x>", "<p@x>"))
	parent := appendOne(t, ss, inbox.ID, threadMsg("<p@x>", "", ""))
	batch, err := ss.Append(ctx, sent.ID, threadMsg("<m1@x>", "", ""), threadMsg("<m2@x>", "<m1@x>", "<m1@x>"))
	if err != nil {
		t.Fatal(err)
	}
	threads := func(mb store.MailboxID, uids []store.UID) map[store.UID]store.ThreadID {
		t.Helper()
		m, err := tk.ThreadIDs(ctx, mb, uids)
		if err != nil {
			t.Fatalf("ThreadIDs(%d, %v): %v", mb, uids, err)
		}
		return m
	}
	got := threads(inbox.ID, nil)
	want := map[store.UID]store.ThreadID{
		a.UID: store.ThreadID(a.EmailID), b.UID: store.ThreadID(a.EmailID), c.UID: store.ThreadID(a.EmailID),
		lone.UID:  store.ThreadID(lone.EmailID),
		child.UID: store.ThreadID(child.EmailID), parent.UID: store.ThreadID(child.EmailID),
	}
	if len(got) != len(want) {
		t.Fatalf("ThreadIDs(INBOX, nil) = %v, want %v", got, want)
	}
	for uid, w := range want {
		if got[uid] != w {
			t.Errorf("thread of UID %d = %d, want %d (all: %v)", uid, got[uid], w, got)
		}
	}
	if bt := threads(sent.ID, []store.UID{batch[0].UID, batch[1].UID, 999}); len(bt) != 2 ||
		bt[batch[0].UID] != store.ThreadID(batch[0].EmailID) || bt[batch[1].UID] != bt[batch[0].UID] {
		t.Errorf("MULTIAPPEND of a parent and its reply: %v, want both in thread %d", bt, batch[0].EmailID)
	}

	copied, err := ss.Copy(ctx, inbox.ID, []store.UID{b.UID}, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := ss.Move(ctx, inbox.ID, []store.UID{parent.UID}, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := threads(sent.ID, append(copied.Dest, moved.Dest...))
	if after[copied.Dest[0]] != store.ThreadID(a.EmailID) || after[moved.Dest[0]] != store.ThreadID(child.EmailID) {
		t.Errorf("after COPY and MOVE: %v, want %d and %d", after, a.EmailID, child.EmailID)
	}
	reply := appendOne(t, ss, inbox.ID, threadMsg("<r@x>", "<b@x>", ""))
	if th := threads(inbox.ID, []store.UID{reply.UID})[reply.UID]; th != store.ThreadID(a.EmailID) {
		t.Errorf("reply to a copied message: thread %d, want %d", th, a.EmailID)
	}

	_, bob := account(t, st, "bob")
	bi := mailbox(t, bob, "INBOX")
	theirs := appendOne(t, bob, bi.ID, threadMsg("<b2@x>", "<a@x>", "<a@x>"))
	bt, err := bob.(store.ThreadKeeper).ThreadIDs(ctx, bi.ID, nil)
	if err != nil || bt[theirs.UID] != store.ThreadID(theirs.EmailID) {
		t.Errorf("another account's reply: %v, %v; want a thread of its own, %d", bt, err, theirs.EmailID)
	}
	if _, err := bob.(store.ThreadKeeper).ThreadIDs(ctx, inbox.ID, nil); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("ThreadIDs of another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
}
