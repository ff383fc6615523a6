package sqlite

import (
	"errors"
	"io"
	"testing"

	"github.com/postern/postern/internal/store"
)

// readAll reads a content whole.
func readAll(t *testing.T, c store.Content) string {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestContentRefs: refs open the same bytes as OpenContent, skip UIDs
// that are not there, come with the structure from MessageDataRefs, and
// fail with ErrNoSuchMessage once the content is reclaimed.
func TestContentRefs(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, t.TempDir(), testOptions())
	for _, s := range []string{"a", "b", "c"} {
		f.append(t, s)
	}
	loc := f.ss.(store.ContentLocator)
	refs := map[store.UID]store.ContentRef{}
	err := loc.ContentRefs(ctx, f.inbox.ID, []store.UID{3, 1, 7, 1}, func(u store.UID, r store.ContentRef) error {
		refs[u] = r
		return nil
	})
	if err != nil || len(refs) != 2 || refs[1] == nil || refs[3] == nil {
		t.Fatalf("ContentRefs = %v, %v; want UIDs 1 and 3", refs, err)
	}
	for u, r := range refs {
		c, err := r.Open()
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.ss.OpenContent(ctx, f.inbox.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := readAll(t, c), readAll(t, want); got != w || c.Size() != want.Size() {
			t.Errorf("uid %d: ref reads %d octets, OpenContent %d", u, c.Size(), want.Size())
		}
		c.Close()
		want.Close()
	}

	var data []store.MessageData
	err = loc.MessageDataRefs(ctx, f.inbox.ID, []store.UID{2, 3}, func(d store.MessageData, r store.ContentRef) error {
		if r == nil || d.Part == nil {
			t.Errorf("uid %d: ref %v, part %v", d.Info.UID, r, d.Part)
		}
		data = append(data, d)
		return nil
	})
	if err != nil || len(data) != 2 || data[0].Info.UID != 2 || data[1].Info.UID != 3 {
		t.Fatalf("MessageDataRefs = %d messages, %v", len(data), err)
	}

	if _, err := f.ss.Expunge(ctx, f.inbox.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := refs[1].Open(); !errors.Is(err, store.ErrNoSuchMessage) {
		t.Errorf("Open after reclaim: %v; want ErrNoSuchMessage", err)
	}
}

// TestContentRefsOwnership: a mailbox of another account, or none, is
// ErrNoSuchMailbox, and a closed session's refs no longer open.
func TestContentRefsOwnership(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, t.TempDir(), testOptions())
	f.append(t, "a")
	bob, err := f.st.CreateAccount(ctx, "bob", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	g := openFixture(t, f.st, bob)
	none := func(store.UID, store.ContentRef) error { t.Error("a message of alice's seen by bob"); return nil }
	for _, mb := range []store.MailboxID{f.inbox.ID, 999} {
		if err := g.ss.(store.ContentLocator).ContentRefs(ctx, mb, []store.UID{1}, none); !errors.Is(err, store.ErrNoSuchMailbox) {
			t.Errorf("mailbox %d: %v; want ErrNoSuchMailbox", mb, err)
		}
	}
	var ref store.ContentRef
	f.ss.(store.ContentLocator).ContentRefs(ctx, f.inbox.ID, []store.UID{1}, func(_ store.UID, r store.ContentRef) error {
		ref = r
		return nil
	})
	f.ss.Close()
	if _, err := ref.Open(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Open after Close: %v; want ErrClosed", err)
	}
}
