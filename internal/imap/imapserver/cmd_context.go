package imapserver

import (
	"context"
	"log/slog"
	"slices"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/imap/thread"
	"github.com/postern/postern/internal/store"
)

// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4). The return options live
// with SEARCH and SORT (cmd_search.go, cmd_sort.go): CONTEXT is a hint
// the server ignores (§4.2: "Servers MAY ignore this return option"),
// PARTIAL answers a window of the result (§4.4, writeESearch), and UPDATE
// keeps the result current (§4.3), here:
//
//   - a searching command with UPDATE leaves a searchUpdate in the view,
//     found by its tag; a tag already in use by one is BAD (§4.3), and a
//     context the server will not keep is refused with an untagged NO
//     [NOUPDATE "tag"], the other return options still answered (§4.3.1);
//   - whenever the view changed (a delivery, a flag change or an expunge,
//     this session's or another's), at the moments an EXPUNGE may go out
//     (RFC 9051 §7.5.1: not during FETCH, STORE, SEARCH), each context is
//     brought up to date with REMOVEFROM and ADDTO (§4.3.2-§4.3.4):
//     first the expunged messages, before the EXPUNGE or VANISHED that
//     renumbers the rest (§4.3.4), then, after EXISTS (§4.3.3), what the
//     search, run again, now finds and no longer finds;
//   - CANCELUPDATE ends contexts (§4.3.5), and so does leaving the
//     mailbox (§4.3: "Updates will cease when the mailbox is no longer
//     selected").
//
// SEARCH contexts use position 0 and sets in mailbox order (§4.3.3,
// §4.3.4: RECOMMENDED); SORT contexts give each run of results its
// position in the sort order, so the client's list stays in the requested
// order (§4.3.2).

// maxSearchUpdates bounds the update contexts of one session (§4.3.1:
// "Servers MUST provide at least one updating context per client, and
// SHOULD provide more"). Each costs a search of the view whenever the
// view changes.
const maxSearchUpdates = 10

// searchUpdate is one context kept current (RFC 5267 §4.3).
type searchUpdate struct {
	tag    string
	uid    bool               // results are UIDs (UID SEARCH, UID SORT)
	key    *searchKey         // the search criteria
	sort   []thread.Criterion // nil for SEARCH: mailbox order
	result []store.UID        // the result as the client holds it, in order
}

// updateByTag returns the view's context of tag, or nil.
func (sel *selected) updateByTag(tag string) *searchUpdate {
	for _, u := range sel.updates {
		if u.tag == tag {
			return u
		}
	}
	return nil
}

// checkUpdateTag refuses UPDATE on a tag that names a live context
// (RFC 5267 §4.3: "SHALL result in the server rejecting the searching
// command with a BAD response").
func (c *conn) checkUpdateTag(tag string, ret imapwire.SearchReturn) error {
	if ret.Update && c.sel.updateByTag(tag) != nil {
		return badf("Tag reuse")
	}
	return nil
}

// startUpdate keeps the result of a searching command with UPDATE
// current, or refuses with NOUPDATE (RFC 5267 §4.3.1): beyond
// maxSearchUpdates contexts, for criteria whose meaning moves as the
// mailbox changes: message numbers, "*" and "$", and for those whose
// result moves with time: OLDER and YOUNGER (WITHIN).
func (c *conn) startUpdate(tag string, uid bool, key *searchKey, crit []thread.Criterion, result []target) {
	sel := c.sel
	moving := key.any(func(k *searchKey) bool {
		return k.Op == imapwire.SearchSeqSet || k.Op == imapwire.SearchUID && (k.SeqSet.Dynamic() || k.SeqSet.Saved)
	})
	// RFC 5032 §3: OLDER and YOUNGER change their result as time passes,
	// with no change to the mailbox to announce it.
	timed := key.any(func(k *searchKey) bool { return k.Op == imapwire.SearchOlder || k.Op == imapwire.SearchYounger })
	switch {
	case moving:
		c.noUpdate(tag, "Criteria with message numbers, * or $ cannot be updated")
		return
	case timed:
		c.noUpdate(tag, "Criteria with OLDER or YOUNGER cannot be updated")
		return
	case len(sel.updates) >= maxSearchUpdates:
		c.noUpdate(tag, "Too many contexts")
		return
	}
	u := &searchUpdate{tag: tag, uid: uid, key: key, sort: crit, result: make([]store.UID, len(result))}
	for i, t := range result {
		u.result[i] = t.UID
	}
	sel.updates = append(sel.updates, u)
}

// noUpdate writes "* NO [NOUPDATE "tag"] text" (RFC 5267 §4.3.1).
func (c *conn) noUpdate(tag, text string) {
	c.enc.Untagged().Atom("NO").SP().Code("NOUPDATE", func(e *imapwire.Encoder) { e.Quoted(tag) }).Text(text).CRLF()
}

// cmdCancelUpdate: RFC 5267 §4.3.5. Every tag must name a context of the
// selected mailbox; an unknown one fails the command (NO, as Dovecot
// answers) and cancels nothing.
func (c *conn) cmdCancelUpdate(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	tags := imapwire.ParseCancelUpdateArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	for _, t := range tags {
		if c.sel.updateByTag(t) == nil {
			return nof("", "Unknown tag")
		}
	}
	c.sel.updates = slices.DeleteFunc(c.sel.updates, func(u *searchUpdate) bool { return slices.Contains(tags, u.tag) })
	c.resp.text = "Updates cancelled"
	return nil
}

// number is what an update says of a message of the view: its UID, or
// its sequence number now.
func (sel *selected) number(uid store.UID, byUID bool) uint32 {
	if byUID {
		return uint32(uid)
	}
	return uint32(sel.index(uid) + 1)
}

// removeGone sends REMOVEFROM for the messages of each context that are
// expunged from the view, before the EXPUNGE (or VANISHED) responses
// that announce it, while their sequence numbers are still valid
// (RFC 5267 §4.3.4).
func (c *conn) removeGone() {
	sel := c.sel
	for _, u := range sel.updates {
		gone := func(uid store.UID) bool {
			i := sel.index(uid)
			return i < 0 || sel.msgs[i].gone
		}
		if !slices.ContainsFunc(u.result, gone) {
			continue
		}
		pairs, kept := removals(sel, u, gone)
		u.result = kept
		c.enc.ESearch(imapwire.ESearchData{Tag: u.tag, UID: u.uid,
			Updates: []imapwire.ContextUpdate{{Remove: true, Pairs: pairs}}})
	}
}

// removals returns the REMOVEFROM pairs that take the results for which
// drop holds out of u's list, and the list left. A SEARCH context names
// them all at position 0 (§4.3.4: "the client removes the message numbers
// or UIDs in the result list wherever they occur"); a SORT context gives
// each run of consecutive positions its position at the moment it is
// removed, the earlier runs already gone.
func removals(sel *selected, u *searchUpdate, drop func(store.UID) bool) ([]imapwire.ContextPair, []store.UID) {
	var pairs []imapwire.ContextPair
	var kept []store.UID
	var all []uint32
	for i := 0; i < len(u.result); {
		if !drop(u.result[i]) {
			kept = append(kept, u.result[i])
			i++
			continue
		}
		var run []uint32
		pos := uint32(len(kept) + 1)
		for ; i < len(u.result) && drop(u.result[i]); i++ {
			run = append(run, sel.number(u.result[i], u.uid))
		}
		if u.sort == nil {
			all = append(all, run...)
		} else {
			pairs = append(pairs, imapwire.ContextPair{Pos: pos, Set: imapwire.SeqSetInOrder(run...)})
		}
	}
	if u.sort == nil && len(all) > 0 {
		slices.Sort(all)
		pairs = []imapwire.ContextPair{{Pos: 0, Set: imapwire.SeqSetOf(all...)}}
	}
	return pairs, kept
}

// additions returns the ADDTO pairs that turn kept into next, whose
// common messages are in the same order: each run of new results at its
// position in next, in ascending positions, so that every position
// before it already holds its final result (§4.3.3). A SEARCH context
// names them all at position 0, in mailbox order.
func additions(sel *selected, u *searchUpdate, kept, next []store.UID) []imapwire.ContextPair {
	had := make(map[store.UID]bool, len(kept))
	for _, uid := range kept {
		had[uid] = true
	}
	var pairs []imapwire.ContextPair
	var all []uint32
	for i := 0; i < len(next); {
		if had[next[i]] {
			i++
			continue
		}
		pos := uint32(i + 1)
		var run []uint32
		for ; i < len(next) && !had[next[i]]; i++ {
			run = append(run, sel.number(next[i], u.uid))
		}
		if u.sort == nil {
			all = append(all, run...)
		} else {
			pairs = append(pairs, imapwire.ContextPair{Pos: pos, Set: imapwire.SeqSetInOrder(run...)})
		}
	}
	if u.sort == nil && len(all) > 0 {
		slices.Sort(all)
		pairs = []imapwire.ContextPair{{Pos: 0, Set: imapwire.SeqSetOf(all...)}}
	}
	return pairs
}

// refreshUpdates runs each context's search again on the changed view
// and sends what it gained and lost (RFC 5267 §4.3.2), after EXISTS, so
// that new sequence numbers are valid (§4.3.3). A context whose search
// fails is dropped with NOUPDATE, since it can no longer be kept true.
func (c *conn) refreshUpdates(ctx context.Context) {
	sel := c.sel
	if !sel.changed || len(sel.updates) == 0 {
		sel.changed = false
		return
	}
	sel.changed = false
	for _, u := range slices.Clone(sel.updates) {
		next, err := c.rerun(ctx, u)
		if err != nil {
			c.log.Warn("search update failed", slog.String("tag", u.tag), slog.Any("err", err))
			sel.updates = slices.DeleteFunc(sel.updates, func(x *searchUpdate) bool { return x == u })
			c.noUpdate(u.tag, "Updates stopped")
			continue
		}
		c.sendDiff(u, next)
	}
}

// rerun evaluates u's search (and sort) on the view as it is now.
func (c *conn) rerun(ctx context.Context, u *searchUpdate) ([]store.UID, error) {
	matched, err := c.evalSearch(ctx, u.key)
	if err != nil {
		return nil, err
	}
	if u.sort != nil {
		if matched, err = c.sortTargets(ctx, matched, u.sort); err != nil {
			return nil, err
		}
	}
	out := make([]store.UID, len(matched))
	for i, t := range matched {
		out[i] = t.UID
	}
	return out, nil
}

// sendDiff sends the REMOVEFROM and ADDTO that turn u's result into next.
func (c *conn) sendDiff(u *searchUpdate, next []store.UID) {
	sel := c.sel
	in := make(map[store.UID]bool, len(next))
	for _, uid := range next {
		in[uid] = true
	}
	remove, kept := removals(sel, u, func(uid store.UID) bool { return !in[uid] })
	if !sameOrder(kept, next) {
		// Sort keys never change, so the kept results keep their order;
		// should they not, start the list over rather than misplace one.
		remove, _ = removals(sel, u, func(store.UID) bool { return true })
		kept = nil
	}
	add := additions(sel, u, kept, next)
	u.result = next
	var ups []imapwire.ContextUpdate
	if len(remove) > 0 {
		ups = append(ups, imapwire.ContextUpdate{Remove: true, Pairs: remove})
	}
	if len(add) > 0 {
		ups = append(ups, imapwire.ContextUpdate{Pairs: add})
	}
	if len(ups) > 0 {
		c.enc.ESearch(imapwire.ESearchData{Tag: u.tag, UID: u.uid, Updates: ups})
	}
}

// sameOrder reports whether the UIDs of kept appear in next in the same
// order.
func sameOrder(kept, next []store.UID) bool {
	j := 0
	for _, uid := range next {
		if j < len(kept) && kept[j] == uid {
			j++
		}
	}
	return j == len(kept)
}
