package imapserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/postern/postern/internal/store"
)

// storedMsg is what FETCH loads of a message from the store: its
// structure and OpenVMS envelope, and (when the store offers it) the ref
// that opens its content without another index query.
type storedMsg struct {
	data store.MessageData
	ref  store.ContentRef
}

// Read-ahead window bounds, in messages. A client that fetches one
// message per command in order (as many do to download a mailbox) gets
// the stored data of the next window in the same store read; the window
// doubles while the reads stay in order, up to maxReadAhead.
const (
	minReadAhead = 8
	maxReadAhead = 128
)

// readAhead keeps the stored data of the last window FETCH loaded. What it
// keeps does not go stale: a UID's structure and content are immutable
// (UIDs are not reused within a UIDVALIDITY), and flags come from the
// view, not from here. Only whether a message still exists can change:
// the window is dropped whenever other sessions' changes are waiting
// (forget), so a message expunged elsewhere is missing from the store's
// answer, as without the window, and is left out of an OK [EXPUNGEISSUED]
// answer. It holds
// fewer than 2*maxReadAhead messages, and none after a command other than FETCH,
// STORE or SEARCH (sendUpdates), so an idle connection keeps no window.
type readAhead struct {
	msgs   map[store.UID]storedMsg
	next   store.UID // first UID after the last window; 0: none yet
	window int       // messages read ahead on the next in-order miss
}

// forget drops the window when changes of other sessions wait in sub.
// Taking the wake-up is harmless: the command's epilogue (sendUpdates)
// takes the changes themselves, and IDLE takes them before it waits.
func (ra *readAhead) forget(sub store.Subscription) {
	if ra.msgs == nil {
		return
	}
	select {
	case <-sub.Ready():
		ra.msgs = nil
	default:
	}
}

// load returns the stored data of uids (ascending, from the view), from
// the window when it has them, else from one store read that also fills
// the next window when the client reads in order.
func (ra *readAhead) load(ctx context.Context, loc store.ContentLocator, sel *selected, uids []store.UID) (map[store.UID]storedMsg, error) {
	out := make(map[store.UID]storedMsg, len(uids))
	var missing []store.UID
	for _, u := range uids {
		if m, ok := ra.msgs[u]; ok {
			out[u] = m
		} else {
			missing = append(missing, u)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	want := ra.extend(sel, missing)
	loaded := make(map[store.UID]storedMsg, len(want))
	err := loc.MessageDataRefs(ctx, sel.id, want, func(d store.MessageData, ref store.ContentRef) error {
		loaded[d.Info.UID] = storedMsg{data: d, ref: ref}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	ra.msgs = nil
	if len(want) > len(missing) {
		ra.msgs = loaded // a window to serve the next commands from
	}
	if len(out) == 0 {
		return loaded, nil // the caller looks up its UIDs only
	}
	for _, u := range missing {
		if m, ok := loaded[u]; ok {
			out[u] = m
		}
	}
	return out, nil
}

// extend returns missing followed by the read-ahead window: the messages
// of the view after the last one missing. The window grows while each
// miss starts where the previous window ended, and closes otherwise.
func (ra *readAhead) extend(sel *selected, missing []store.UID) []store.UID {
	inOrder := ra.next != 0 && missing[0] == ra.next
	switch {
	case len(missing) >= maxReadAhead || !inOrder:
		ra.window = 0
	case ra.window == 0:
		ra.window = minReadAhead
	default:
		ra.window = min(2*ra.window, maxReadAhead)
	}
	last := missing[len(missing)-1]
	i := sel.index(last)
	if i < 0 {
		ra.next = 0
		return missing
	}
	want := slices.Clip(missing)
	for j := i + 1; j < len(sel.msgs) && j <= i+ra.window; j++ {
		if !sel.msgs[j].gone {
			want = append(want, sel.msgs[j].UID)
		}
	}
	ra.next = 0
	if end := i + 1 + ra.window; end < len(sel.msgs) {
		ra.next = sel.msgs[end].UID
	}
	return want
}
