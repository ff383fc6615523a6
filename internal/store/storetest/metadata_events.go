package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testMetadataEvents: SetMetadata publishes the entries whose values
// changed as one ChangeMetadata to the account's other sessions (RFC
// 5465 §5.6, §5.7): mailbox entries with the mailbox, server entries
// with mailbox 0. Setting the value an entry has, removing an entry that
// does not exist, and a SetMetadata refused as too many publish nothing;
// the session that sets hears nothing.
func testMetadataEvents(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, a := account(t, st, "alice")
	mk, ok := a.(store.MetadataKeeper)
	if !ok {
		t.Skip("session does not implement store.MetadataKeeper")
	}
	b := session(t, st, acc.ID)
	inbox := mailbox(t, a, "INBOX")
	set := func(mb store.MailboxID, max int, kv ...string) error {
		t.Helper()
		var es []store.MetadataEntry
		for i := 0; i < len(kv); i += 2 {
			e := store.MetadataEntry{Name: kv[i]}
			if kv[i+1] != "NIL" {
				e.Value = []byte(kv[i+1])
			}
			es = append(es, e)
		}
		return mk.SetMetadata(ctx, mb, es, max)
	}
	next := func(what string, want store.ChangeMetadata) {
		t.Helper()
		var got []store.Change
		for _, c := range waitFor(t, b.Changes(), func(c store.Change) bool { _, ok := c.(store.ChangeMetadata); return ok }) {
			if _, ok := c.(store.ChangeMetadata); ok {
				got = append(got, c)
			}
		}
		if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
			t.Errorf("%s: got %+v, want only %+v", what, got, want)
		}
	}
	if err := set(inbox.ID, 10, "/private/a", "1", "/shared/b", "2"); err != nil {
		t.Fatal(err)
	}
	next("two new entries", store.ChangeMetadata{Mailbox: inbox.ID, Entries: []string{"/private/a", "/shared/b"}})
	if err := set(inbox.ID, 10, "/private/a", "1", "/shared/b", "NIL", "/private/none", "NIL"); err != nil {
		t.Fatal(err)
	}
	next("one removed, one unchanged", store.ChangeMetadata{Mailbox: inbox.ID, Entries: []string{"/shared/b"}})
	if err := set(inbox.ID, 10, "/private/a", "1", "/private/none", "NIL"); err != nil {
		t.Fatal(err)
	}
	if err := set(inbox.ID, 1, "/private/c", "3"); !errors.Is(err, store.ErrMetadataTooMany) {
		t.Fatalf("SetMetadata over the limit: %v, want ErrMetadataTooMany", err)
	}
	if err := set(0, 10, "/private/x", "y"); err != nil {
		t.Fatal(err)
	}
	// Nothing came of the no-change and the refused calls: the next
	// change is the server entry's.
	next("no change, refused, then a server entry", store.ChangeMetadata{Mailbox: 0, Entries: []string{"/private/x"}})
	if chs := a.Changes().Take(); len(chs) != 0 {
		t.Errorf("the setting session got %#v", chs)
	}
}
