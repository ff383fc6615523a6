package imapserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// msgEntry is one message of the selected-mailbox view.
type msgEntry struct {
	store.MessageInfo
	// gone marks a message expunged in the store (by another session)
	// whose EXPUNGE has not been sent yet: it keeps its sequence number
	// until a moment when RFC 9051 §7.5.1 allows the EXPUNGE.
	gone bool
	// goneModSeq is the MODSEQ of another session's expunge of a gone
	// message (0 for this session's own), for holdHighestModSeq.
	goneModSeq store.ModSeq
}

// selected is the client's view of the selected mailbox: the mapping of
// sequence numbers to UIDs, flags and sizes as the client knows them. It is
// changed only by the connection's goroutine: by its own commands, and by
// store changes applied in sendUpdates, at the moments RFC 9051 allows.
type selected struct {
	id          store.MailboxID
	name        string
	readOnly    bool
	uidValidity uint32
	uidNext     store.UID // the store's UIDNEXT, kept up to date

	msgs      []msgEntry          // sequence number n is msgs[n-1]
	hidden    []store.MessageInfo // Message-Cap: messages beyond the cap, ascending UID
	maxUID    store.UID           // highest UID known, visible or hidden
	announced int                 // the message count the client knows
	keywords  []string            // keywords announced in FLAGS
	flagged   map[store.UID]bool  // flag changes by others, not announced yet
	saved     []store.UID         // SEARCHRES result (RFC 5182), ascending
	deleted   bool                // the mailbox was deleted by another session
	kwNew     []string            // keywords in use in the view not announced in FLAGS yet
	cap       int
	ahead     readAhead // stored data FETCH read ahead of the client
	recent    recency   // \Recent for this session (recent.go)
	// updates are the RFC 5267 §4.3 contexts kept current
	// (cmd_context.go); changed says the view changed since they were.
	updates []*searchUpdate
	changed bool
}

// newSelected builds the view from the store's message list.
func newSelected(mb store.Mailbox, infos []store.MessageInfo, readOnly bool, msgCap int) *selected {
	sel := &selected{
		id: mb.ID, name: mb.Name, readOnly: readOnly, uidValidity: mb.UIDValidity,
		uidNext: mb.UIDNext, flagged: map[store.UID]bool{}, cap: msgCap,
	}
	n := len(infos)
	if msgCap > 0 {
		n = min(n, msgCap)
	}
	// Issue 15: one allocation, not log2(n) growths and copies (a third
	// of SELECT's CPU on 100,000 messages in pprof).
	sel.msgs = make([]msgEntry, 0, n)
	for _, in := range infos {
		sel.add(in)
	}
	sel.announced = len(sel.msgs)
	slices.Sort(sel.kwNew) // add noted every keyword in use
	sel.keywords, sel.kwNew = sel.kwNew, nil
	return sel
}

// add appends a new message, to the hidden tail when the cap is reached.
// Messages already known are ignored, which makes our own appends and the
// store's ChangeAdd for them idempotent.
func (sel *selected) add(in store.MessageInfo) {
	if in.UID <= sel.maxUID {
		sel.addLate(in)
		return
	}
	sel.changed = true
	sel.maxUID = in.UID
	if in.UID >= sel.uidNext {
		sel.uidNext = in.UID + 1
	}
	if sel.recent.covers(in.UID) {
		sel.recent.uids[in.UID] = true
	}
	if sel.cap > 0 && (len(sel.msgs) >= sel.cap || len(sel.hidden) > 0) {
		sel.hidden = append(sel.hidden, in)
		return
	}
	sel.msgs = append(sel.msgs, msgEntry{MessageInfo: in})
	sel.noteKeywords(in.Flags)
}

// addLate takes a message whose UID is not above the highest the view
// knows. With several writers (the nodes of a PostgreSQL store) the
// changes of two commits may reach a session in either order, and a
// session's own resync may read a message whose change is still queued:
// a known message is ignored, an unknown one goes to its place in UID
// order among the messages the client has not been told of yet (or the
// hidden ones). A message that would sort before one the client already
// knows cannot be shown in this selection (RFC 9051 §2.3.1.1: UIDs
// ascend with sequence numbers); the stores allocate a mailbox's UIDs
// in commit order and deliver its additions in that order, so only a
// change delayed across an announcement could ask for it, and the next
// SELECT shows the message.
func (sel *selected) addLate(in store.MessageInfo) {
	if sel.index(in.UID) >= 0 || slices.ContainsFunc(sel.hidden, func(h store.MessageInfo) bool { return h.UID == in.UID }) {
		return
	}
	if len(sel.hidden) > 0 && (len(sel.msgs) == 0 || in.UID > sel.msgs[len(sel.msgs)-1].UID) {
		i, _ := slices.BinarySearchFunc(sel.hidden, in.UID, func(h store.MessageInfo, u store.UID) int { return cmpUID(h.UID, u) })
		sel.hidden = slices.Insert(sel.hidden, i, in)
		sel.changed = true
		return
	}
	i, _ := slices.BinarySearchFunc(sel.msgs, in.UID, func(e msgEntry, u store.UID) int { return cmpUID(e.UID, u) })
	if i < sel.announced {
		return
	}
	sel.changed = true
	if sel.recent.covers(in.UID) {
		sel.recent.uids[in.UID] = true
	}
	sel.msgs = slices.Insert(sel.msgs, i, msgEntry{MessageInfo: in})
	sel.noteKeywords(in.Flags)
}

// refill moves hidden messages into view while there is room under the
// cap (Message-Cap: the rest appear as earlier ones are expunged).
func (sel *selected) refill() {
	for len(sel.hidden) > 0 && (sel.cap == 0 || len(sel.msgs) < sel.cap) {
		sel.msgs = append(sel.msgs, msgEntry{MessageInfo: sel.hidden[0]})
		sel.noteKeywords(sel.hidden[0].Flags)
		sel.hidden = sel.hidden[1:]
	}
}

// clientUIDNext is the UIDNEXT the client is shown: the store's, or with
// hidden messages the UID of the first one, since every message the client
// will yet see has a UID at least that (see docs/imap.md, Message-Cap).
func (sel *selected) clientUIDNext() store.UID {
	if len(sel.hidden) > 0 {
		return sel.hidden[0].UID
	}
	return sel.uidNext
}

// index returns the position of uid in msgs, or -1.
func (sel *selected) index(uid store.UID) int {
	i, ok := slices.BinarySearchFunc(sel.msgs, uid, func(e msgEntry, u store.UID) int {
		return cmpUID(e.UID, u)
	})
	if !ok {
		return -1
	}
	return i
}

func cmpUID(a, b store.UID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// apply records one store change in the view, without telling the client.
func (sel *selected) apply(ch store.Change) {
	switch ch := ch.(type) {
	case store.ChangeAdd:
		if ch.Mailbox == sel.id {
			sel.add(ch.Info)
		}
	case store.ChangeFlags:
		if ch.Mailbox == sel.id && sel.merge(store.MessageInfo{UID: ch.UID, ModSeq: ch.ModSeq, Flags: ch.Flags}) {
			sel.flagged[ch.UID] = true
		}
	case store.ChangeExpunge:
		if ch.Mailbox != sel.id {
			return
		}
		sel.changed = true
		for _, uid := range ch.UIDs {
			switch i := sel.index(uid); {
			case i >= sel.announced:
				// Never announced (added by a change of this same batch):
				// it leaves as silently as it came.
				delete(sel.flagged, uid)
				delete(sel.recent.uids, uid)
				sel.msgs = slices.Delete(sel.msgs, i, i+1)
			case i >= 0:
				sel.msgs[i].gone = true
				sel.msgs[i].goneModSeq = ch.ModSeq
			default:
				sel.hidden = slices.DeleteFunc(sel.hidden, func(in store.MessageInfo) bool { return in.UID == uid })
			}
		}
	case store.ChangeMailbox:
		if ch.ID != sel.id {
			return
		}
		switch ch.Kind {
		case store.MailboxDeleted:
			sel.deleted = true
		case store.MailboxRenamed:
			sel.name = ch.Name
		}
	}
}

// merge records a state of a message's flags that the store committed:
// from another session's change, or from this session's STORE or FETCH.
// States arrive out of order (a session's own STORE result is newer than
// another session's change still waiting in its queue), so a state
// replaces the view's only when its MODSEQ is higher (store doc): the view
// never goes back to an older state, and the client never sees a
// message's MODSEQ decrease. It reports whether the view changed.
func (sel *selected) merge(in store.MessageInfo) bool {
	if i := sel.index(in.UID); i >= 0 {
		m := &sel.msgs[i]
		if m.gone || in.ModSeq <= m.ModSeq {
			return false
		}
		m.Flags, m.ModSeq = in.Flags, in.ModSeq
		sel.noteKeywords(in.Flags)
		sel.changed = true
		return true
	}
	for i := range sel.hidden {
		if h := &sel.hidden[i]; h.UID == in.UID && in.ModSeq > h.ModSeq {
			h.Flags, h.ModSeq = in.Flags, in.ModSeq
			return true
		}
	}
	return false
}

// markGone marks messages this session expunged or moved away.
func (sel *selected) markGone(uids []store.UID) {
	for _, uid := range uids {
		if i := sel.index(uid); i >= 0 {
			sel.msgs[i].gone = true
			sel.changed = true
		}
	}
}

// noteKeywords records the keywords among flags, which a message of the
// view now carries, that FLAGS has not announced yet. Keeping this set as
// flags change spares announceKeywords a walk of the whole view.
func (sel *selected) noteKeywords(flags []string) {
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !containsFold(sel.keywords, f) && !containsFold(sel.kwNew, f) {
			sel.kwNew = append(sel.kwNew, f)
		}
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// systemFlags are listed in FLAGS and PERMANENTFLAGS.
var systemFlags = []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}

// flagsList returns the FLAGS of the mailbox: system flags and keywords in
// use; \Recent for IMAP4rev1 clients (RFC 3501 §2.3.2), which the server
// sets and no client can.
func (c *conn) flagsList() []string {
	fl := slices.Clone(systemFlags)
	fl = append(fl, c.sel.keywords...)
	if !c.rev2 {
		fl = append(fl, `\Recent`)
	}
	return fl
}

// sendUpdates takes the store changes waiting for this session, reports
// those NOTIFY asks for in other mailboxes (cmd_notify.go), applies them
// to the view of the selected mailbox and announces them there (announce).
// It is called at the end of each command, and during IDLE.
func (c *conn) sendUpdates(allowExpunge bool) {
	if c.sess == nil {
		return
	}
	changes := c.sess.Changes().Take()
	c.notifyOthers(c.ctx, changes, 0)
	if c.sel == nil || c.state != stateSelected {
		return
	}
	for _, ch := range changes {
		c.sel.apply(ch)
	}
	c.announce(allowExpunge)
}

// sendNotifications is sendUpdates between commands, while a NOTIFY is in
// force (RFC 5465 §3.1, §5): other mailboxes as always; the selected one
// only when its event group has message events, with expunges only for
// "selected" (not "selected-delayed"), since a client may use sequence
// numbers in its next command. What is not announced now waits for the
// next command's end, as without NOTIFY.
func (c *conn) sendNotifications() {
	changes := c.sess.Changes().Take()
	c.notifyOthers(c.ctx, changes, 0)
	if c.sel == nil || c.state != stateSelected {
		return
	}
	for _, ch := range changes {
		c.sel.apply(ch)
	}
	if g, delayed := c.notify.selectedGroup(c.sel); g != nil && g.events&evMessageNew != 0 {
		c.announceSome(!delayed, g.events&evFlagChange != 0)
	}
}

// announce tells the client what changed in the view: EXPUNGE or, with
// QRESYNC, VANISHED (only when allowExpunge), EXISTS (with NOTIFY's
// MessageNew fetch attributes), FLAGS for new keywords and FETCH FLAGS
// for flag changes. RFC 9051 §7.5.1, §5.2, §5.5.
func (c *conn) announce(allowExpunge bool) { c.announceSome(allowExpunge, true) }

// announceSome is announce with flag changes left for later unless
// flags is set (NOTIFY without FlagChange, RFC 5465 §5.1).
func (c *conn) announceSome(allowExpunge, flags bool) {
	sel := c.sel
	if allowExpunge {
		// Only FETCH, STORE and SEARCH keep the read-ahead window: a
		// connection that goes on to IDLE or NOOP holds none.
		sel.ahead = readAhead{}
		c.removeGone() // RFC 5267 §4.3.4: before the EXPUNGEs
		c.writeExpunged()
		sel.refill()
	} else {
		c.holdHighestModSeq()
	}
	c.updateRecent()
	exists := len(sel.msgs) > sel.announced
	newFrom := sel.announced
	if exists {
		c.numbered(uint32(len(sel.msgs)), "EXISTS")
		sel.announced = len(sel.msgs)
	}
	c.announceRecent(exists)
	c.announceKeywords()
	if flags && len(sel.flagged) > 0 {
		for i, m := range sel.msgs {
			if sel.flagged[m.UID] && !m.gone {
				c.writeFlagsFetch(uint32(i+1), m.MessageInfo, true)
			}
		}
		clear(sel.flagged)
	}
	if exists {
		c.fetchNew(newFrom)
	}
	if sel.deleted {
		c.enc.StatusResponse("", "BYE", "", "Selected mailbox was deleted")
		c.setState(stateLogout)
		return
	}
	// RFC 5267 §4.3.3: after EXISTS. During FETCH, STORE, SEARCH, SORT
	// and THREAD too (an ADDTO or REMOVEFROM renumbers nothing, and may be
	// sent as any unsolicited response, RFC 9051 §7), unless an expunge
	// waits: its REMOVEFROM must come just before its EXPUNGE (§4.3.4).
	if allowExpunge || len(sel.updates) > 0 && !sel.expungeWaiting() {
		c.refreshUpdates(c.ctx)
	}
}

// expungeWaiting reports whether a message of the view is expunged and
// not yet announced.
func (sel *selected) expungeWaiting() bool {
	return slices.ContainsFunc(sel.msgs, func(m msgEntry) bool { return m.gone })
}

// announceKeywords sends FLAGS when messages carry keywords the client
// was not told of (RFC 9051 §7.3.5). Keywords are only ever added to the
// list, so a client never sees a flag disappear while it uses it.
func (c *conn) announceKeywords() {
	sel := c.sel
	if len(sel.kwNew) == 0 {
		return
	}
	sel.keywords = mergeKeywords(sel.keywords, sel.kwNew)
	sel.kwNew = nil
	c.enc.Untagged().Atom("FLAGS").SP().Flags(c.flagsList()).CRLF()
}

func mergeKeywords(old, cur []string) []string {
	out := slices.Clone(old)
	for _, k := range cur {
		if !containsFold(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// writeFlagsFetch writes "* n FETCH (FLAGS (…) [UID u] [MODSEQ (m)])".
// Once CONDSTORE is enabled, every such response (STORE, another
// session's change) carries the UID and the MODSEQ (RFC 7162 §3.1). After
// ENABLE UIDONLY it is "* u UIDFETCH (FLAGS (…) [MODSEQ (m)])": the UID
// is in front (RFC 9586 §3).
func (c *conn) writeFlagsFetch(seq uint32, in store.MessageInfo, withUID bool) {
	fw := c.beginFetch(seq, in.UID)
	fw.Item("FLAGS").Flags(c.shownFlags(in))
	if (withUID || c.condStore) && !c.uidOnly {
		fw.Item("UID").Number(uint32(in.UID))
	}
	if c.condStore {
		writeModSeq(fw, in.ModSeq)
	}
	fw.End()
}

// writeModSeqFetch writes "* n FETCH (UID u MODSEQ (m))": what STORE
// .SILENT still sends for each message it changed once CONDSTORE is
// enabled, so that the client learns the new MODSEQ (RFC 7162 §3.1.3);
// "* u UIDFETCH (MODSEQ (m))" after ENABLE UIDONLY (RFC 9586 §3).
func (c *conn) writeModSeqFetch(seq uint32, in store.MessageInfo) {
	fw := c.beginFetch(seq, in.UID)
	if !c.uidOnly {
		fw.Item("UID").Number(uint32(in.UID))
	}
	writeModSeq(fw, in.ModSeq)
	fw.End()
}

// resync adds to the view the messages this session itself put into the
// selected mailbox (APPEND, COPY, MOVE, REPLACE), the highest of which has
// UID upTo. A store allocates a mailbox's UIDs in commit order, so every
// message the view lacks up to upTo has a UID above the view's highest:
// only that range is read (issue 15: reading the whole mailbox made each
// APPEND to the selected mailbox cost O(mailbox)). A range wider than
// resyncSpan, or an unknown upTo (0), reads the whole mailbox.
func (c *conn) resync(ctx context.Context, upTo store.UID) error {
	if c.sel == nil {
		return nil
	}
	from := c.sel.maxUID + 1
	if upTo != 0 && upTo < from {
		return nil // already in the view
	}
	if upTo == 0 || upTo-from >= resyncSpan {
		infos, err := c.sess.Messages(ctx, c.sel.id)
		if err != nil {
			return fmt.Errorf("resync mailbox: %w", err)
		}
		for _, in := range infos {
			c.sel.add(in)
		}
		return nil
	}
	uids := make([]store.UID, 0, upTo-from+1)
	for u := from; u <= upTo; u++ {
		uids = append(uids, u)
	}
	err := c.sess.MessageData(ctx, c.sel.id, uids, func(d store.MessageData) error {
		c.sel.add(d.Info)
		return nil
	})
	if err != nil {
		return fmt.Errorf("resync mailbox: %w", err)
	}
	return nil
}

// resyncSpan is the widest UID range resync reads by UID.
const resyncSpan = 1024

// target is one message a command acts on: its position in the view and
// its entry.
type target struct {
	seq uint32
	msgEntry
}

// resolve returns the messages of the view a sequence set designates,
// in ascending order: sequence numbers, or UIDs when uid is set. "$" is
// the saved search result (RFC 5182). Sequence numbers beyond the mailbox
// are an error (RFC 9051 §9, seq-number); UIDs that do not exist are
// ignored (§6.4.8).
func (sel *selected) resolve(set imapwire.SeqSet, uid bool) ([]target, error) {
	if !uid && sel.beyond(set) {
		return nil, badf("Invalid message sequence number")
	}
	return sel.designated(set, uid), nil
}

// beyond reports whether a range of set names a sequence number above the
// mailbox's count.
func (sel *selected) beyond(set imapwire.SeqSet) bool {
	n := uint32(len(sel.msgs))
	for _, r := range set.Ranges {
		if (r.Start != imapwire.Star && r.Start > n) || (r.Stop != imapwire.Star && r.Stop > n) {
			return true
		}
	}
	return false
}

// designated returns the messages of the view whose sequence number (or
// UID) lies in set, in ascending order, ignoring the values no message
// has. It is what a sequence set means as a SEARCH key, which matches
// messages rather than naming them: a seq-range is "all values between"
// its two ends (RFC 9051 §9), so in a mailbox of 5 messages 6:* is 5:6
// and matches message 5, while 7:9 matches none; neither is an error.
func (sel *selected) designated(set imapwire.SeqSet, uid bool) []target {
	var out []target
	if set.Saved {
		for _, u := range sel.saved {
			if i := sel.index(u); i >= 0 {
				out = append(out, target{uint32(i + 1), sel.msgs[i]})
			}
		}
		if len(set.Ranges) == 0 {
			return out
		}
	}
	n := uint32(len(sel.msgs))
	var maxUID uint32
	if n > 0 {
		maxUID = uint32(sel.msgs[n-1].UID)
	}
	// Visit only the messages in the set's sorted, merged ranges: FETCH n
	// must not cost a walk of the whole view.
	max := n
	if uid {
		max = maxUID
	}
	for _, r := range (imapwire.SeqSet{Ranges: set.Ranges}).Resolve(max).Ranges {
		lo, hi := int(r.Start)-1, min(int(r.Stop), len(sel.msgs)) // indexes [lo, hi)
		if uid {
			lo, _ = slices.BinarySearchFunc(sel.msgs, store.UID(r.Start), func(e msgEntry, u store.UID) int {
				return cmpUID(e.UID, u)
			})
			hi = lo
			for hi < len(sel.msgs) && uint32(sel.msgs[hi].UID) <= r.Stop {
				hi++
			}
		}
		if lo >= hi {
			continue // a range wholly beyond the mailbox
		}
		out = slices.Grow(out, hi-lo)
		for i := lo; i < hi; i++ {
			if !(set.Saved && containsTarget(out, uint32(i+1))) {
				out = append(out, target{uint32(i + 1), sel.msgs[i]})
			}
		}
	}
	slices.SortFunc(out, func(a, b target) int { return int(a.seq) - int(b.seq) })
	return out
}

func containsTarget(ts []target, seq uint32) bool {
	for _, t := range ts {
		if t.seq == seq {
			return true
		}
	}
	return false
}

// uidsOf returns the UIDs of targets, skipping messages already gone.
func uidsOf(ts []target) []store.UID {
	out := make([]store.UID, 0, len(ts))
	for _, t := range ts {
		if !t.gone {
			out = append(out, t.UID)
		}
	}
	return out
}
