package imapserver

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// \Recent (RFC 3501 §2.3.2). A message is recent for the one session that
// claims it in the store: the first read-write session to select the
// mailbox after the message arrived, or, when it arrives while sessions
// have the mailbox selected, the first of them to be told of it (§7.3.2).
// The claim is the store's (store.Session.ClaimRecent), atomic, so two
// sessions never both see a message as recent. A read-only session
// (EXAMINE) sees the messages no session has claimed as recent without
// claiming them, so that the next SELECT still gets them, as §2.3.2 asks
// and Dovecot does. A session that enabled IMAP4rev2 neither sees nor
// claims \Recent: RFC 9051 removed it.

// recency is the selected mailbox's \Recent state for this session.
type recency struct {
	on    bool // an IMAP4rev1 session
	claim bool // read-write: claims; read-only: only looks
	uids  map[store.UID]bool
	// ranges are the claimed (or, read-only, unclaimed) UID ranges whose
	// messages the view has not all added yet: messages committed before
	// the claim whose ChangeAdd is still on its way.
	ranges []store.UIDRange
	next   store.UID // Next of the last claim: a message at or above it may be unclaimed
	sent   int       // the RECENT count last sent
}

// covers reports whether uid is in a claimed range still open.
func (r *recency) covers(uid store.UID) bool {
	for _, rg := range r.ranges {
		if rg.Contains(uid) {
			return true
		}
	}
	return false
}

// startRecent starts the \Recent state of a newly selected mailbox: it
// claims (or, read-only, looks at) the unclaimed messages.
func (c *conn) startRecent(ctx context.Context, readOnly bool) error {
	if c.rev2 {
		return nil
	}
	c.sel.recent = recency{on: true, claim: !readOnly, uids: map[store.UID]bool{}}
	return c.refreshRecent(ctx)
}

// refreshRecent claims the messages that arrived since the last claim,
// once the view knows of one: a message at or above the last claim's
// Next. The common case, a message another session claimed first, costs
// the store a read.
func (c *conn) refreshRecent(ctx context.Context) error {
	sel := c.sel
	r := &sel.recent
	if !r.on || (r.next > 0 && sel.maxUID < r.next) {
		return nil
	}
	var rg store.UIDRange
	var err error
	if r.claim {
		rg, err = c.sess.ClaimRecent(ctx, sel.id)
	} else {
		rg, err = c.sess.UnclaimedRecent(ctx, sel.id)
	}
	if err != nil {
		return fmt.Errorf("claim recent messages: %w", err)
	}
	r.next = max(r.next, rg.Next)
	if rg.First < rg.Next {
		for _, m := range sel.msgs {
			if rg.Contains(m.UID) {
				r.uids[m.UID] = true
			}
		}
		for _, in := range sel.hidden {
			if rg.Contains(in.UID) {
				r.uids[in.UID] = true
			}
		}
		r.ranges = append(r.ranges, rg)
	}
	// A range whose every UID is at or below the view's highest is done:
	// UIDs arrive in ascending order (store doc), so no more will come.
	r.ranges = slices.DeleteFunc(r.ranges, func(x store.UIDRange) bool { return x.Next <= sel.maxUID+1 })
	return nil
}

// updateRecent is refreshRecent for the epilogue, which cannot fail a
// command that is done: a store error leaves the new messages unclaimed
// (recent for the next session), and is logged.
func (c *conn) updateRecent() {
	if err := c.refreshRecent(c.ctx); err != nil {
		c.log.Warn("imap recent claim failed", slog.Any("err", err))
	}
}

// recentCount is the number of messages of the view recent for this
// session: the RECENT response (RFC 3501 §7.3.2).
func (sel *selected) recentCount() int {
	n := 0
	for _, m := range sel.msgs {
		if sel.recent.uids[m.UID] {
			n++
		}
	}
	return n
}

// announceRecent sends "* n RECENT" to an IMAP4rev1 client with every
// EXISTS (RFC 3501 §7.3.2: when the mailbox size changes), and after
// EXPUNGEs that changed the count, as Dovecot does.
func (c *conn) announceRecent(exists bool) {
	r := &c.sel.recent
	if !r.on {
		return
	}
	if n := c.sel.recentCount(); exists || n != r.sent {
		c.numbered(uint32(n), "RECENT")
		r.sent = n
	}
}

// isRecent reports whether a message is recent for this session.
func (sel *selected) isRecent(uid store.UID) bool { return sel.recent.uids[uid] }

// shownFlags returns a message's flags as the client sees them: with
// \Recent last for a message recent for this session (RFC 3501 §2.3.2).
func (c *conn) shownFlags(in store.MessageInfo) []string {
	if c.sel == nil || !c.sel.isRecent(in.UID) {
		return in.Flags
	}
	return append(slices.Clip(in.Flags), imapwire.FlagRecent)
}

// statusRecent is STATUS RECENT (RFC 3501 §6.3.10): the messages no
// session has claimed; for the mailbox this IMAP4rev1 session has
// selected, the messages recent for it, as Dovecot answers.
func (c *conn) statusRecent(mbox store.MailboxID, unclaimed uint32) uint32 {
	if c.sel != nil && c.sel.id == mbox && c.sel.recent.on {
		return uint32(c.sel.recentCount())
	}
	return unclaimed
}
