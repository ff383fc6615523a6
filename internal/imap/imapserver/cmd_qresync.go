package imapserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// QRESYNC (RFC 7162 §3.2). It builds on CONDSTORE (cmd_condstore.go); the
// pieces live with their commands:
//
//   - ENABLE QRESYNC (cmd_auth.go, §3.2.3), which enables CONDSTORE too;
//     the QRESYNC select parameter and the VANISHED FETCH modifier are BAD
//     without it;
//   - SELECT/EXAMINE (QRESYNC (…)) (cmd_mailbox.go and qresyncSelect
//     below, §3.2.5): VANISHED (EARLIER) and the flag changes since the
//     client's MODSEQ, after the usual select data;
//   - UID FETCH … (CHANGEDSINCE m VANISHED) (cmd_fetch.go, §3.2.6);
//   - VANISHED instead of EXPUNGE once enabled, for this session's
//     EXPUNGE, UID EXPUNGE and MOVE and for other sessions' expunges, in
//     IDLE too (sendUpdates, §3.2.4, §3.2.7, §3.2.9, §3.2.10);
//   - [CLOSED] when SELECT or EXAMINE closes the selected mailbox
//     (cmd_mailbox.go, §3.2.11), sent in every session;
//   - a lower HIGHESTMODSEQ while another session's expunge waits to be
//     announced (holdHighestModSeq, §3.2).
//
// Where expunges come from: the store's expunge log (store.ExpungeLogger),
// which keeps each expunged UID with the MODSEQ of its expunge for
// store.ExpungeRetention. When the log no longer covers the client's
// MODSEQ, or the store keeps none, the answer is the full one: every UID
// the client named that the mailbox no longer holds. That is never wrong
// (§3.2.5.1 lets VANISHED (EARLIER) name UIDs the client already knows
// are gone), only longer. seq-match-data (§3.2.5.2) is checked and not
// used to shorten it, so the answer never rests on the client's claims.

// qresyncAnswer is what SELECT (QRESYNC …) adds to the select data.
type qresyncAnswer struct {
	vanished imapwire.SeqSet // VANISHED (EARLIER)
	changed  []target        // messages whose MODSEQ is above the client's
}

// qresyncSelect computes the answer to the QRESYNC parameter of SELECT
// and EXAMINE (RFC 7162 §3.2.5.1) against the new view. A UIDVALIDITY
// other than the mailbox's makes the server ignore the rest: the client
// must resynchronise from scratch, and gets nothing beyond the select data.
func (c *conn) qresyncSelect(ctx context.Context, p *imapwire.QResyncParam) (qresyncAnswer, error) {
	sel := c.sel
	if p.UIDValidity != sel.uidValidity {
		return qresyncAnswer{}, nil
	}
	known := p.KnownUIDs
	if known.IsEmpty() {
		// §3.2.5.1: no known-uids means 1:<UIDNEXT-1>; an empty mailbox
		// that never held a message has none.
		if sel.uidNext <= 1 {
			return qresyncAnswer{}, nil
		}
		known = imapwire.SeqSet{Ranges: []imapwire.SeqRange{{Start: 1, Stop: uint32(sel.uidNext - 1)}}}
	}
	vanished, err := c.vanishedSince(ctx, store.ModSeq(p.ModSeq), known)
	if err != nil {
		return qresyncAnswer{}, err
	}
	known = known.Resolve(0)
	var changed []target
	for i, m := range sel.msgs {
		if uint64(m.ModSeq) > p.ModSeq && inSet(known, uint32(m.UID)) {
			changed = append(changed, target{uint32(i + 1), m})
		}
	}
	return qresyncAnswer{vanished: vanished, changed: changed}, nil
}

// writeQResync writes the answer after the select data: VANISHED
// (EARLIER) first, then the FETCH of each changed message with its UID,
// FLAGS and MODSEQ (§3.2.5.1 and its example).
func (c *conn) writeQResync(a qresyncAnswer) {
	c.enc.Vanished(true, a.vanished)
	for _, t := range a.changed {
		c.writeFlagsFetch(t.seq, t.MessageInfo, true)
	}
}

// vanishedSince returns the UIDs of known (resolved, without "*") that
// were expunged with a MODSEQ above since (RFC 7162 §3.2.5.1, §3.2.6), as
// VANISHED (EARLIER) names them. UIDs the view still holds are left out:
// their expunge has not been applied to the view yet, and the VANISHED
// that announces it follows when the view takes the change.
func (c *conn) vanishedSince(ctx context.Context, since store.ModSeq, known imapwire.SeqSet) (imapwire.SeqSet, error) {
	sel := c.sel
	if el, ok := c.sess.(store.ExpungeLogger); ok {
		logged, complete, err := el.ExpungedSince(ctx, sel.id, since)
		if err != nil {
			return imapwire.SeqSet{}, fmt.Errorf("expunge log: %w", err)
		}
		if complete {
			known = known.Resolve(0)
			var out []uint32
			for _, u := range logged {
				if inSet(known, uint32(u)) && !sel.holds(u) {
					out = append(out, uint32(u))
				}
			}
			return imapwire.SeqSetOf(out...), nil
		}
	}
	// The log does not reach back to since: the full answer.
	return sel.absent(known), nil
}

// inSet reports whether n is in set, whose ranges are resolved: sorted,
// merged and without "*".
func inSet(set imapwire.SeqSet, n uint32) bool {
	_, found := slices.BinarySearchFunc(set.Ranges, n, func(r imapwire.SeqRange, n uint32) int {
		switch {
		case r.Stop < n:
			return -1
		case r.Start > n:
			return 1
		}
		return 0
	})
	return found
}

// holds reports whether uid is a message of the view, visible or hidden
// by Message-Cap, expunged but not yet announced included.
func (sel *selected) holds(uid store.UID) bool {
	if sel.index(uid) >= 0 {
		return true
	}
	_, found := slices.BinarySearchFunc(sel.hidden, uid, func(in store.MessageInfo, u store.UID) int {
		return cmpUID(in.UID, u)
	})
	return found
}

// absent returns the UIDs of known below UIDNEXT that the view does not
// hold: the full VANISHED (EARLIER) answer. It walks the ranges and the
// view's UIDs side by side, so its cost is that of the view, whatever the
// ranges span (known-uids 1:4294967295 included).
func (sel *selected) absent(known imapwire.SeqSet) imapwire.SeqSet {
	present := make([]store.UID, 0, len(sel.msgs)+len(sel.hidden))
	for _, m := range sel.msgs {
		present = append(present, m.UID)
	}
	for _, in := range sel.hidden {
		present = append(present, in.UID)
	}
	var out []imapwire.SeqRange
	last := uint32(sel.uidNext - 1)
	for _, r := range known.Resolve(last).Ranges {
		if r.Start > last {
			break
		}
		r.Stop = min(r.Stop, last)
		i, _ := slices.BinarySearch(present, store.UID(r.Start))
		next := r.Start // the first UID of r not yet decided
		for ; i < len(present) && uint32(present[i]) <= r.Stop; i++ {
			if u := uint32(present[i]); u > next {
				out = append(out, imapwire.SeqRange{Start: next, Stop: u - 1})
			}
			next = uint32(present[i]) + 1
		}
		if next <= r.Stop && next != 0 {
			out = append(out, imapwire.SeqRange{Start: next, Stop: r.Stop})
		}
	}
	return imapwire.SeqSet{Ranges: out}
}

// fetchVanished answers the VANISHED modifier of UID FETCH (RFC 7162
// §3.2.6): VANISHED (EARLIER) for the UIDs of the set expunged since the
// CHANGEDSINCE MODSEQ, before any FETCH response. "*" in the set stands
// for UIDNEXT-1 here, not the highest UID in the mailbox, so that the
// expunge of the mailbox's last messages is reported too.
func (c *conn) fetchVanished(ctx context.Context, set imapwire.SeqSet, since uint64) error {
	if set.Saved {
		// "$" holds only messages of the view, which have not vanished.
		set.Saved = false
		if len(set.Ranges) == 0 {
			return nil
		}
	}
	top := uint32(max(c.sel.uidNext-1, c.sel.maxUID))
	vanished, err := c.vanishedSince(ctx, store.ModSeq(since), set.Resolve(top))
	if err != nil {
		return err
	}
	return c.enc.Vanished(true, vanished)
}

// writeExpunged announces the messages of the view that are gone, at a
// moment RFC 9051 §7.5.1 allows, and drops them from the view: one
// "* n EXPUNGE" each (highest first, so the numbers stay valid), or once
// QRESYNC or UIDONLY is enabled one "* VANISHED uids" for all (RFC 7162
// §3.2.10, §3.2.7: no EXPUNGE response after ENABLE QRESYNC; RFC 9586
// §3: none after ENABLE UIDONLY).
func (c *conn) writeExpunged() {
	sel := c.sel
	var vanished []uint32
	for i := len(sel.msgs) - 1; i >= 0; i-- {
		if !sel.msgs[i].gone {
			continue
		}
		if c.vanishedOnly() {
			vanished = append(vanished, uint32(sel.msgs[i].UID))
		} else {
			c.numbered(uint32(i+1), "EXPUNGE")
		}
		delete(sel.flagged, sel.msgs[i].UID)
		delete(sel.recent.uids, sel.msgs[i].UID)
		sel.msgs = slices.Delete(sel.msgs, i, i+1)
		sel.announced--
	}
	if len(vanished) > 0 {
		c.enc.Vanished(false, imapwire.SeqSetOf(vanished...))
	}
}

// holdHighestModSeq keeps a QRESYNC client from skipping an expunge it
// has not been told of yet (RFC 7162 §3.2: when MODSEQ FETCH data goes
// out while an EXPUNGE or VANISHED with a lower MODSEQ is delayed, the
// server MUST send a HIGHESTMODSEQ lower than the expunge's). While
// another session's expunge waits for a moment that allows VANISHED
// (this command was a FETCH, STORE or SEARCH), the client is told a
// HIGHESTMODSEQ just below the earliest waiting expunge, so a client
// that disconnects now and resynchronises from it gets the expunge.
func (c *conn) holdHighestModSeq() {
	if !c.qresync {
		return
	}
	var low store.ModSeq
	for _, m := range c.sel.msgs {
		if m.gone && m.goneModSeq > 0 && (low == 0 || m.goneModSeq < low) {
			low = m.goneModSeq
		}
	}
	if low > 1 {
		c.writeHighestModSeq(low - 1)
	}
}
