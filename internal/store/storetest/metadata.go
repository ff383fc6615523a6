package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testMetadata: RFC 5464 entries of the server scope (mailbox 0) and of a
// mailbox are kept apart and per account; DEPTH selects the entry, its
// children or every descendant; a nil value removes an entry; the entry
// limit refuses a whole SetMetadata; a renamed mailbox keeps its entries,
// a deleted one loses them (a new mailbox of the same name starts empty);
// another account's mailbox is ErrNoSuchMailbox.
func testMetadata(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	mk, ok := ss.(store.MetadataKeeper)
	if !ok {
		t.Skip("session does not implement store.MetadataKeeper")
	}
	set := func(mb store.MailboxID, max int, kv ...string) error {
		var es []store.MetadataEntry
		for i := 0; i < len(kv); i += 2 {
			e := store.MetadataEntry{Name: kv[i]}
			if kv[i+1] != "<nil>" {
				e.Value = []byte(kv[i+1])
			}
			es = append(es, e)
		}
		return mk.SetMetadata(ctx, mb, es, max)
	}
	get := func(mb store.MailboxID, depth int, names ...string) []string {
		t.Helper()
		es, err := mk.Metadata(ctx, mb, names, depth)
		if err != nil {
			t.Fatalf("Metadata(%d, %v, %d): %v", mb, names, depth, err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name+"="+string(e.Value))
		}
		return out
	}
	want := func(got []string, w ...string) {
		t.Helper()
		if !reflect.DeepEqual(got, w) {
			t.Errorf("got %q, want %q", got, w)
		}
	}
	inbox := mailbox(t, ss, "INBOX").ID
	if err := set(0, 10, "/private/comment", "server", "/shared/comment", "", "/private/vendor/a/b", "deep"); err != nil {
		t.Fatal(err)
	}
	if err := set(inbox, 10, "/private/comment", "inbox", "/private/vendor/x", "1"); err != nil {
		t.Fatal(err)
	}
	want(get(0, 0, "/private/comment", "/shared/comment", "/private/none"), "/private/comment=server", "/shared/comment=")
	want(get(0, 1, "/private"), "/private/comment=server")
	want(get(0, 1, "/private/vendor/a"), "/private/vendor/a/b=deep")
	want(get(0, store.MetadataDepthInfinity, "/private"), "/private/comment=server", "/private/vendor/a/b=deep")
	want(get(inbox, store.MetadataDepthInfinity, "/private", "/shared"), "/private/comment=inbox", "/private/vendor/x=1")
	// A nil value removes; an update replaces.
	if err := set(inbox, 10, "/private/vendor/x", "<nil>", "/private/comment", "new", "/private/gone", "<nil>"); err != nil {
		t.Fatal(err)
	}
	want(get(inbox, store.MetadataDepthInfinity, "/private"), "/private/comment=new")
	// The limit counts what the mailbox would hold, and refuses all.
	if err := set(inbox, 2, "/private/a", "1", "/private/b", "2"); !errors.Is(err, store.ErrMetadataTooMany) {
		t.Errorf("a third entry under a limit of 2: %v, want ErrMetadataTooMany", err)
	}
	want(get(inbox, store.MetadataDepthInfinity, "/private"), "/private/comment=new")
	if err := set(inbox, 2, "/private/comment", "<nil>", "/private/a", "1", "/private/b", "2"); err != nil {
		t.Errorf("replacing within the limit: %v", err)
	}
	// Rename keeps, delete drops.
	work, err := ss.CreateMailbox(ctx, "Work", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := set(work.ID, 10, "/shared/x", "w"); err != nil {
		t.Fatal(err)
	}
	if err := ss.RenameMailbox(ctx, "Work", "Play"); err != nil {
		t.Fatal(err)
	}
	want(get(mailbox(t, ss, "Play").ID, 0, "/shared/x"), "/shared/x=w")
	if err := ss.DeleteMailbox(ctx, "Play"); err != nil {
		t.Fatal(err)
	}
	again, err := ss.CreateMailbox(ctx, "Play", "")
	if err != nil {
		t.Fatal(err)
	}
	want(get(again.ID, store.MetadataDepthInfinity, "/shared"))
	// Another account sees none of it and cannot reach the mailbox.
	_, bob := account(t, st, "bob")
	bmk := bob.(store.MetadataKeeper)
	if es, err := bmk.Metadata(ctx, 0, []string{"/private"}, store.MetadataDepthInfinity); err != nil || len(es) != 0 {
		t.Errorf("bob's server entries = %v, %v; want none", es, err)
	}
	if _, err := bmk.Metadata(ctx, inbox, []string{"/private"}, 0); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("bob reading alice's INBOX: %v, want ErrNoSuchMailbox", err)
	}
	if err := bmk.SetMetadata(ctx, inbox, []store.MetadataEntry{{Name: "/private/x", Value: []byte("1")}}, 10); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("bob writing alice's INBOX: %v, want ErrNoSuchMailbox", err)
	}
}
