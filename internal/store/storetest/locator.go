package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testContentLocator: refs open the same octets as OpenContent, skip UIDs
// that are not there, come in ascending UID order with the structure from
// MessageDataRefs, refuse another account's mailbox, and fail with
// ErrNoSuchMessage once the content is reclaimed.
func testContentLocator(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	loc, ok := ss.(store.ContentLocator)
	if !ok {
		t.Skip("session does not implement store.ContentLocator")
	}
	inbox := mailbox(t, ss, "INBOX")
	appendN(t, ss, inbox.ID, 3)
	refs := map[store.UID]store.ContentRef{}
	var order []store.UID
	err := loc.ContentRefs(ctx, inbox.ID, []store.UID{3, 1, 7, 1}, func(u store.UID, r store.ContentRef) error {
		refs[u] = r
		order = append(order, u)
		return nil
	})
	if err != nil || !equalUIDs(order, []store.UID{1, 3}) || refs[1] == nil || refs[3] == nil {
		t.Fatalf("ContentRefs = %v, %v; want UIDs 1 and 3", order, err)
	}
	for u, r := range refs {
		c, err := r.Open()
		if err != nil {
			t.Fatalf("uid %d: Open: %v", u, err)
		}
		want, err := ss.OpenContent(ctx, inbox.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := readAll(t, c), readAll(t, want); !bytes.Equal(got, w) || c.Size() != want.Size() {
			t.Errorf("uid %d: ref reads %q, OpenContent %q", u, got, w)
		}
		c.Close()
		want.Close()
	}

	var data []store.UID
	err = loc.MessageDataRefs(ctx, inbox.ID, []store.UID{3, 2}, func(d store.MessageData, r store.ContentRef) error {
		if r == nil || d.Part == nil || d.Info.Size == 0 {
			t.Errorf("uid %d: ref %v, part %v, size %d", d.Info.UID, r, d.Part, d.Info.Size)
		}
		data = append(data, d.Info.UID)
		return nil
	})
	if err != nil || !equalUIDs(data, []store.UID{2, 3}) {
		t.Fatalf("MessageDataRefs = %v, %v; want UIDs 2 and 3", data, err)
	}

	_, bob := account(t, st, "bob")
	none := func(store.UID, store.ContentRef) error { t.Error("a message of alice's seen by bob"); return nil }
	if err := bob.(store.ContentLocator).ContentRefs(ctx, inbox.ID, []store.UID{1}, none); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("another account's mailbox: %v; want ErrNoSuchMailbox", err)
	}

	if _, err := ss.Expunge(ctx, inbox.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := refs[1].Open(); !errors.Is(err, store.ErrNoSuchMessage) {
		t.Errorf("Open after reclaim: %v; want ErrNoSuchMessage", err)
	}
}
