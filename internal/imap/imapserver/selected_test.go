package imapserver

import (
	"testing"

	"github.com/postern/postern/internal/store"
)

func viewUIDs(sel *selected) []store.UID {
	var out []store.UID
	for _, m := range sel.msgs {
		out = append(out, m.UID)
	}
	return out
}

// TestAddOutOfOrder: additions whose changes arrive out of UID order (two
// writers, or a resync that read a message whose change is still queued)
// all reach the view, in UID order, and a repeated one is ignored.
func TestAddOutOfOrder(t *testing.T) {
	sel := newSelected(store.Mailbox{ID: 1, UIDNext: 3}, []store.MessageInfo{{UID: 1}, {UID: 2}}, false, 0)
	for _, uid := range []store.UID{5, 3, 4, 5, 2} {
		sel.apply(store.ChangeAdd{Mailbox: 1, Info: store.MessageInfo{UID: uid}})
	}
	if got, want := viewUIDs(sel), []store.UID{1, 2, 3, 4, 5}; !equalUIDList(got, want) {
		t.Errorf("view = %v, want %v", got, want)
	}
	if sel.uidNext != 6 || sel.maxUID != 5 {
		t.Errorf("uidNext %d maxUID %d, want 6 and 5", sel.uidNext, sel.maxUID)
	}
	// Once announced, a late one that would sort before a known message
	// cannot be shown in this selection (sequence numbers would move).
	sel.announced = len(sel.msgs)
	sel.apply(store.ChangeAdd{Mailbox: 1, Info: store.MessageInfo{UID: 7}})
	sel.apply(store.ChangeAdd{Mailbox: 1, Info: store.MessageInfo{UID: 6}})
	if got, want := viewUIDs(sel), []store.UID{1, 2, 3, 4, 5, 6, 7}; !equalUIDList(got, want) {
		t.Errorf("view = %v, want %v", got, want)
	}
}

// TestAddOutOfOrderHidden: with Message-Cap, a late message above the
// visible ones joins the hidden tail in UID order.
func TestAddOutOfOrderHidden(t *testing.T) {
	sel := newSelected(store.Mailbox{ID: 1, UIDNext: 3}, []store.MessageInfo{{UID: 1}, {UID: 2}}, false, 2)
	for _, uid := range []store.UID{5, 3, 4} {
		sel.apply(store.ChangeAdd{Mailbox: 1, Info: store.MessageInfo{UID: uid}})
	}
	var hidden []store.UID
	for _, h := range sel.hidden {
		hidden = append(hidden, h.UID)
	}
	if want := []store.UID{3, 4, 5}; !equalUIDList(hidden, want) || len(sel.msgs) != 2 {
		t.Errorf("hidden = %v, visible %v; want %v hidden", hidden, viewUIDs(sel), want)
	}
}

func equalUIDList(a, b []store.UID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
