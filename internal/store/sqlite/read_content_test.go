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
