package imapserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// cmdSearch: RFC 9051 §6.4.4 with ESEARCH (RFC 4731) and SEARCHRES
// (RFC 5182).
func (c *conn) cmdSearch(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.search(ctx, tag, dec, false)
}

// cmdUIDSearch: RFC 9051 §6.4.9.
func (c *conn) cmdUIDSearch(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.search(ctx, tag, dec, true)
}

func (c *conn) search(ctx context.Context, tag string, dec *imapwire.Decoder, uid bool) error {
	args := imapwire.ParseSearchArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkSearchNumbers(args.Key); err != nil {
		return err
	}
	if err := c.checkUpdateTag(tag, args.Return); err != nil {
		return err
	}
	a := &searchArgs{ret: args.Return, charset: args.Charset, key: compileSearch(args.Key)}
	switch strings.ToUpper(a.charset) {
	case "", "US-ASCII", "UTF-8":
	default:
		return nof("BADCHARSET (US-ASCII UTF-8)", "Unsupported charset")
	}
	if a.key.usesModSeq() {
		// RFC 7162 §3.1: SEARCH MODSEQ enables CONDSTORE.
		if err := c.enableCondStore(ctx); err != nil {
			return err
		}
	}
	matched, err := c.evalSearch(ctx, a.key)
	if err != nil {
		if a.ret.Save {
			c.sel.saved = nil // RFC 5182 §2.1: a failed SAVE empties $
		}
		return err
	}
	c.writeSearch(tag, a, matched, uid)
	if a.ret.Update {
		c.startUpdate(tag, uid, a.key, nil, matched) // RFC 5267 §4.3
	}
	return nil
}

// evalSearch returns the messages of the view that match key.
func (c *conn) evalSearch(ctx context.Context, key *searchKey) ([]target, error) {
	all, _ := c.sel.resolve(imapwire.SeqSet{Ranges: []imapwire.SeqRange{{Start: 1, Stop: imapwire.Star}}}, false)
	key.prepare(c.sel, c.s.opts.Clock())
	if err := c.askIndex(ctx, key); err != nil {
		return nil, err
	}
	if err := c.askSaveDates(ctx, key); err != nil {
		return nil, err
	}
	if err := c.askThreadIDs(ctx, key); err != nil {
		return nil, err
	}
	// Which messages need their stored data: all, none, or only those
	// the index left to reading.
	allData, some := key.dataNeeds(&c.s.view)
	if !allData && len(some) == 0 {
		return c.matchView(ctx, key, all)
	}
	need := func(store.UID) bool { return allData }
	if !allData && len(some) > 0 {
		need = func(u store.UID) bool { return some[u] }
	}
	return c.searchBatches(ctx, key, all, need, key.readsFiles())
}

// searchArgs is a SEARCH command as the server runs it.
type searchArgs struct {
	ret     imapwire.SearchReturn
	charset string
	key     *searchKey
}

// writeSearch writes SEARCH or ESEARCH and saves the result for "$".
func (c *conn) writeSearch(tag string, a *searchArgs, matched []target, uid bool) {
	nums := make([]uint32, len(matched))
	for i, t := range matched {
		nums[i] = t.seq
		if uid {
			nums[i] = uint32(t.UID)
		}
	}
	ret := a.ret
	if ret.Save {
		c.sel.saved = savedResult(matched, ret)
	}
	withModSeq := a.key.usesModSeq()
	if !ret.Extended && !c.rev2 {
		// RFC 7162 §3.1.6: the highest MODSEQ of the messages returned;
		// none when nothing matched.
		var m store.ModSeq
		if withModSeq {
			m = highestModSeq(matched)
		}
		c.enc.Search(nums, uint64(m))
		return
	}
	if !ret.Extended {
		ret.All = true // IMAP4rev2 answers ESEARCH ALL (RFC 9051 §6.4.4)
	}
	c.writeESearch(tag, ret, matched, uid, withModSeq, imapwire.SeqSetOf(nums...))
}

// writeESearch writes the ESEARCH response of SEARCH (RFC 4731) or, for
// ESORT (RFC 5267 §3), of SORT: matched is in the result's order (mailbox
// order, or the sort order, whose first and last messages are MIN and
// MAX), all the ALL set in that order.
func (c *conn) writeESearch(tag string, ret imapwire.SearchReturn, matched []target, uid, withModSeq bool, all imapwire.SeqSet) {
	if !ret.Min && !ret.Max && !ret.All && !ret.Count && ret.Partial == nil && !ret.Update {
		return // RFC 5182 §2.1: SAVE alone returns no ESEARCH
	}
	d := imapwire.ESearchData{Tag: tag, UID: uid, HasCount: ret.Count}
	if p := ret.Partial; p != nil {
		// RFC 5267 §4.4: the results at positions Lo to Hi (1-based), as
		// many as there are; the range as asked.
		d.Partial = &imapwire.PartialResult{Range: *p}
		var nums []uint32
		for _, t := range partialOf(matched, *p) {
			nums = append(nums, numberOf(t, uid))
		}
		d.Partial.Set = imapwire.SeqSetInOrder(nums...)
	}
	if n := len(matched); n > 0 {
		if ret.Min {
			d.Min = numberOf(matched[0], uid)
		}
		if ret.Max {
			d.Max = numberOf(matched[n-1], uid)
		}
		if ret.All {
			d.All = all
		}
	}
	if ret.Count {
		d.Count = uint32(len(matched))
	}
	if withModSeq {
		d.ModSeq = uint64(highestModSeq(returnedOf(matched, ret)))
	}
	c.enc.ESearch(d)
}

// returnedOf is the part of the result an ESEARCH response reports: all of
// it with ALL or COUNT, else only the MIN and MAX messages (RFC 7162
// §3.1.10: MODSEQ is the highest of the messages returned).
func returnedOf(matched []target, ret imapwire.SearchReturn) []target {
	if len(matched) == 0 || ret.All || ret.Count {
		return matched
	}
	var out []target
	if ret.Partial != nil {
		out = append(out, partialOf(matched, *ret.Partial)...)
	}
	if ret.Min {
		out = append(out, matched[0])
	}
	if ret.Max {
		out = append(out, matched[len(matched)-1])
	}
	return out
}

// partialOf is the window of a result that PARTIAL asks for (RFC 5267
// §4.4): positions p.Lo to p.Hi, 1-based, those that exist.
func partialOf(matched []target, p imapwire.PartialRange) []target {
	lo, hi := int64(p.Lo)-1, min(int64(p.Hi), int64(len(matched)))
	if lo >= hi {
		return nil
	}
	return matched[lo:hi]
}

// highestModSeq is the highest MODSEQ of messages, 0 for none.
func highestModSeq(ts []target) store.ModSeq {
	var m store.ModSeq
	for _, t := range ts {
		m = max(m, t.ModSeq)
	}
	return m
}

// savedResult is what SAVE keeps (RFC 5182 §2.4): with MIN or MAX but
// neither ALL nor COUNT, only those messages.
func savedResult(matched []target, ret imapwire.SearchReturn) []store.UID {
	onlyMinMax := (ret.Min || ret.Max) && !ret.All && !ret.Count
	var out []store.UID
	for i, t := range matched {
		if onlyMinMax && !(i == 0 && ret.Min || i == len(matched)-1 && ret.Max) {
			continue
		}
		out = append(out, t.UID)
	}
	return out
}

// searchMsg evaluates keys against one message, loading its header and
// text only when a key needs them. It may run on a SEARCH worker
// goroutine (search_exec.go): it reads c but never changes it, and opens
// files through sess.
type searchMsg struct {
	c     *conn
	sess  store.Session
	sc    *searchScratch
	ctx   context.Context
	t     target
	total uint32
	data  *store.MessageData
	mv    *msgView
	hdr   message.Header
	hdrOK bool
}

func (m *searchMsg) close() {
	if m.mv != nil {
		m.mv.close()
	}
}

func (m *searchMsg) match(k *searchKey) (bool, error) {
	in := m.t.MessageInfo
	switch k.Op {
	case imapwire.SearchAll:
		return true, nil
	case imapwire.SearchAnd:
		for _, kid := range k.kids {
			if ok, err := m.match(kid); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case imapwire.SearchOr:
		for _, kid := range k.kids {
			if ok, err := m.match(kid); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case imapwire.SearchNot:
		ok, err := m.match(k.kids[0])
		return !ok, err
	case imapwire.SearchSeqSet, imapwire.SearchUID:
		return k.members[m.t.UID], nil
	case imapwire.SearchModSeq:
		// RFC 7162 §3.1.5: a MODSEQ equal to or greater than the value.
		// Per-flag entries were parsed and dropped: a message's MODSEQ is
		// the highest of its flags'.
		return in.ModSeq >= store.ModSeq(k.ModSeq), nil
	case imapwire.SearchFlag, imapwire.SearchNoFlag:
		has := in.Flags.Has(k.Flag)
		if k.Flag == imapwire.FlagRecent {
			// RECENT, NEW (RECENT UNSEEN) and OLD (NOT RECENT): recent for
			// this session (recent.go); never, for an IMAP4rev2 session.
			has = m.c.sel.isRecent(m.t.UID)
		}
		return has == (k.Op == imapwire.SearchFlag), nil
	case imapwire.SearchLarger:
		return m.c.s.view.sizeOf(in, m.data) > k.Size, nil
	case imapwire.SearchSmaller:
		return m.c.s.view.sizeOf(in, m.data) < k.Size, nil
	case imapwire.SearchBefore:
		return dateOf(in.InternalDate).Before(k.Date), nil
	case imapwire.SearchOn:
		return dateOf(in.InternalDate).Equal(k.Date), nil
	case imapwire.SearchSince:
		return !dateOf(in.InternalDate).Before(k.Date), nil
	case imapwire.SearchSentBefore, imapwire.SearchSentOn, imapwire.SearchSentSince:
		return m.sentDate(k)
	case imapwire.SearchOlder:
		// RFC 5032 §3: the internal date, as an instant (time zones
		// disregarded), more than Interval seconds before now; YOUNGER is
		// its complement, so OLDER n and YOUNGER n split the mailbox.
		return in.InternalDate.Before(k.cutoff), nil
	case imapwire.SearchYounger:
		return !in.InternalDate.Before(k.cutoff), nil
	case imapwire.SearchEmailID:
		// RFC 8474 §6; an id Postern never gave matches nothing.
		id, ok := parseEmailObjectID(k.Value)
		return ok && in.EmailID == id, nil
	case imapwire.SearchThreadID:
		return matchThreadID(k, in.UID), nil // threadid.go
	case imapwire.SearchSavedBefore, imapwire.SearchSavedOn, imapwire.SearchSavedSince, imapwire.SearchSaveDateSupported:
		return matchSaveDate(k, in), nil // RFC 8514 §4.3 (savedate.go)
	case imapwire.SearchHeader:
		if k.idx != nil {
			if ok, have := k.idx.answer(m.t.UID); have {
				return ok, nil
			}
		}
		return m.headerContains(k.Field, k.Value)
	case imapwire.SearchBody:
		if k.idx != nil {
			if ok, have := k.idx.answer(m.t.UID); have {
				return ok, nil
			}
		}
		return m.bodyContains(k.folded)
	case imapwire.SearchText:
		if k.idx != nil {
			if ok, have := k.idx.answer(m.t.UID); have {
				return ok || m.c.s.view.idFieldsContain(m.t.UID, k), nil
			}
		}
		if ok, err := m.headerText(k); ok || err != nil {
			return ok, err
		}
		return m.bodyContains(k.folded)
	}
	if k.idx != nil {
		if ok, have := k.idx.answer(m.t.UID); have {
			return ok, nil
		}
	}
	if name := envelopeKeys[k.Op]; name != "" {
		if ok, have := envelopeContains(m.envelope(), name, k.Value); have {
			return ok, nil
		}
		return m.headerContains(name, k.Value)
	}
	return false, fmt.Errorf("search key %d not evaluated", k.Op)
}

// dateOf drops the time of day: SEARCH compares dates only (RFC 9051
// §6.4.4), in the zone the time carries.
func dateOf(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// header opens the view of the message and reads its header.
func (m *searchMsg) header() (message.Header, error) {
	if m.hdrOK {
		return m.hdr, nil
	}
	if m.data == nil {
		return nil, nil
	}
	if m.mv == nil {
		m.mv = m.c.s.view.view(m.t.MessageInfo, m.data)
	}
	if err := m.mv.open(m.ctx, m.sess, m.c.sel.id); err != nil {
		if errors.Is(err, store.ErrNoSuchMessage) {
			m.hdrOK = true
			return nil, nil
		}
		return nil, err
	}
	hr := io.NewSectionReader(m.mv.readerAt(), 0, m.mv.topHeaderLen())
	h, err := message.ReadHeader(m.sc.headerReader(hr), wholeHeader(hr.Size()))
	if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
		return nil, fmt.Errorf("read header: %w", err)
	}
	m.hdr, m.hdrOK = h, true
	return h, nil
}

// headerContains: the decoded value of a field contains s,
// case-insensitively (RFC 9051 §6.4.4). An empty s matches any message
// with the field.
func (m *searchMsg) headerContains(field, s string) (bool, error) {
	h, err := m.header()
	if err != nil {
		return false, err
	}
	needle := strings.ToLower(s)
	for _, f := range h {
		if !strings.EqualFold(f.Name, field) {
			continue
		}
		if needle == "" || strings.Contains(strings.ToLower(message.DecodeHeaderText(f.Value())), needle) {
			return true, nil
		}
	}
	return false, nil
}

// headerText: any header line, as "Name: decoded value", contains the
// key's string case-insensitively (TEXT's header half).
func (m *searchMsg) headerText(k *searchKey) (bool, error) {
	h, err := m.header()
	if err != nil {
		return false, err
	}
	for _, f := range h {
		if m.sc.fieldTextContains(f, k.lower, k.lowerBytes) {
			return true, nil
		}
	}
	return false, nil
}

// sentDate compares the Date field, which the envelope keeps as the
// header's first Date field, so that no file is opened.
func (m *searchMsg) sentDate(k *searchKey) (bool, error) {
	var date string
	if env := m.envelope(); env != nil {
		date = env.Date
	} else {
		h, err := m.header()
		if err != nil || h == nil {
			return false, err
		}
		date = h.Get("Date")
	}
	t, err := mail.ParseDate(date)
	if err != nil {
		return false, nil
	}
	d := dateOf(t)
	switch k.Op {
	case imapwire.SearchSentBefore:
		return d.Before(k.Date), nil
	case imapwire.SearchSentOn:
		return d.Equal(k.Date), nil
	}
	return !d.Before(k.Date), nil
}

// bodyContains searches the text parts of the message, with their
// transfer encoding removed and converted to UTF-8 (search.Texts),
// streaming. needle is ASCII lower-cased.
func (m *searchMsg) bodyContains(needle []byte) (bool, error) {
	if _, err := m.header(); err != nil || m.mv == nil || m.mv.content == nil {
		return false, err
	}
	return search.Texts(m.mv.readerAt(), m.mv.part, m.mv.bodyRange, func(r io.Reader) (bool, error) {
		return m.sc.contains(r, needle), nil
	})
}
