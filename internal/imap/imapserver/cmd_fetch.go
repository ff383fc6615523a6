package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// wholeHeader is the limit that makes message.ReadHeader read a header
// block of n octets to its end. HEADER.FIELDS, SEARCH HEADER and SORT read
// the whole header, whatever its size (issue 12: they silently stopped at
// 1 MiB); the memory is bounded by the message size limit.
func wholeHeader(n int64) int { return int(min(n, 1<<40)) + 1 }

// cmdFetch: RFC 9051 §6.4.5.
func (c *conn) cmdFetch(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.fetch(ctx, dec, false)
}

// cmdUIDFetch: RFC 9051 §6.4.9.
func (c *conn) cmdUIDFetch(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.fetch(ctx, dec, true)
}

// fetchPlan is a parsed FETCH: what to send and what to load for it.
type fetchPlan struct {
	items         []imapwire.FetchItem
	needData      bool // structure from the store (ENVELOPE, BODYSTRUCTURE, sections)
	needContent   bool // message bytes
	needStructure bool // BODYSTRUCTURE or BODY
	setsSeen      bool
	hasFlags      bool
	hasUID        bool
	hasModSeq     bool
	hasSaveDate   bool
	saved         saveDates // SAVEDATE: the batch's save dates (savedate.go)
	hasPreview    bool
	hasThreadID   bool
	threads       map[store.UID]store.ThreadID // THREADID: the batch's (threadid.go)
	previews      *batchPreviews               // PREVIEW: the batch's (preview.go); nil: the store keeps none
}

// topOnly reports whether the items look at no more of the stored
// structure than its top-level part (ENVELOPE, RFC822.SIZE).
func (p fetchPlan) topOnly() bool { return !p.needStructure && !p.needContent }

func (c *conn) fetch(ctx context.Context, dec *imapwire.Decoder, uid bool) error {
	args := imapwire.ParseFetchArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if args.Vanished {
		// RFC 7162 §3.2.6: only in UID FETCH, only with CHANGEDSINCE,
		// and only after ENABLE QRESYNC (§3.2.3); BAD otherwise.
		switch {
		case !c.qresync:
			return badf("VANISHED needs ENABLE QRESYNC")
		case !uid:
			return badf("VANISHED is only allowed in UID FETCH")
		case args.ChangedSince == 0:
			return badf("VANISHED needs CHANGEDSINCE")
		}
	}
	// RFC 9586 §3: a UIDFETCH response carries the UID in front, so UID
	// FETCH adds no UID item of its own after ENABLE UIDONLY.
	plan := planFetch(args.Items, uid && !c.uidOnly, c.s.view.needsData())
	if args.ChangedSince != 0 && !plan.hasModSeq {
		// RFC 7162 §3.1.4.1: CHANGEDSINCE implies the MODSEQ item.
		plan.items = append(plan.items, imapwire.FetchItem{Attr: imapwire.FetchModSeq})
		plan.hasModSeq = true
	}
	if plan.hasModSeq {
		// RFC 7162 §3.1: FETCH MODSEQ and CHANGEDSINCE enable CONDSTORE.
		if err := c.enableCondStore(ctx); err != nil {
			return err
		}
	}
	targets, err := c.sel.resolve(args.SeqSet, uid)
	if err != nil {
		return err
	}
	if args.Vanished {
		// §3.2.6: VANISHED (EARLIER) precedes the FETCH responses.
		if err := c.fetchVanished(ctx, args.SeqSet, args.ChangedSince); err != nil {
			return err
		}
	}
	if args.ChangedSince != 0 {
		// RFC 7162 §3.1.4.1: only messages whose MODSEQ is greater.
		targets = slices.DeleteFunc(targets, func(t target) bool { return uint64(t.ModSeq) <= args.ChangedSince })
	}
	seen := map[store.UID]bool{}
	if plan.setsSeen && !c.sel.readOnly {
		if seen, err = c.markSeen(ctx, targets); err != nil {
			return err
		}
	}
	write := func() error { return c.writeBatches(ctx, targets, plan, seen) }
	if plan.needContent {
		return c.withBulkWriter(write)
	}
	return write()
}

// writeBatches loads and writes the targets' responses, fetchBatch
// messages at a time (topFetchBatch when only top-level parts are read).
func (c *conn) writeBatches(ctx context.Context, targets []target, plan fetchPlan, seen map[store.UID]bool) error {
	expungeIssued := false
	var dropped error  // the first item left out of a response
	mv := new(msgView) // each message's view in turn (writeFetch)
	plan = c.previewPlan(plan)
	size := fetchBatch
	if plan.needData && plan.topOnly() {
		// Top-level parts are small: fewer, larger reads.
		size = topFetchBatch
	}
	for start := 0; start < len(targets); start += size {
		batch := targets[start:min(start+size, len(targets))]
		plan, err := c.loadPreviews(ctx, batch, plan) // this batch's plan
		if err != nil {
			return err
		}
		data, err := c.loadStored(ctx, batch, plan)
		if err != nil {
			return err
		}
		if plan.hasSaveDate {
			if plan.saved, err = c.loadSaveDates(ctx, uidsOf(batch)); err != nil {
				return err
			}
		}
		if plan.hasThreadID {
			if plan.threads, err = c.loadThreadIDs(ctx, uidsOf(batch)); err != nil {
				return err
			}
		}
		for _, t := range batch {
			if i := c.sel.index(t.UID); i >= 0 {
				t.msgEntry = c.sel.msgs[i] // flags after markSeen
			}
			d, ok := data[t.UID]
			if plan.needData && (!ok || t.gone) {
				expungeIssued = true
				continue
			}
			written, err := c.writeFetch(ctx, mv, t, plan, d, seen[t.UID], &dropped)
			if err != nil {
				return err
			}
			expungeIssued = expungeIssued || !written
		}
		c.keepPreviews(ctx, plan.previews)
		if err := c.enc.Err(); err != nil {
			return err
		}
	}
	if dropped != nil {
		// Every response was finished cleanly; the command fails now,
		// e.g. NO [UNKNOWN-CTE] (RFC 3516 §4.3), as Dovecot answers.
		return dropped
	}
	if expungeIssued {
		// RFC 9051 §7.1 (RFC 5530 §3) and RFC 2180 §4.1: a message another
		// session expunged, whose EXPUNGE this session may not send yet
		// (§7.5.1), is answered with what still exists: the others, and a
		// tagged OK telling the client to look (Dovecot does the same).
		c.resp.code = "EXPUNGEISSUED"
		c.resp.text = "Some messages were expunged"
	}
	return nil
}

// planFetch decides what to load. uid adds the UID item UID FETCH always
// returns; sizeNeedsData is set when sizes depend on the stored structure
// (the Mail11 view).
func planFetch(items []imapwire.FetchItem, uid, sizeNeedsData bool) fetchPlan {
	p := fetchPlan{items: items}
	for _, it := range items {
		switch it.Attr {
		case imapwire.FetchUID:
			p.hasUID = true
		case imapwire.FetchModSeq:
			p.hasModSeq = true
		case imapwire.FetchFlags:
			p.hasFlags = true
		case imapwire.FetchSaveDate:
			p.hasSaveDate = true
		case imapwire.FetchThreadID:
			p.hasThreadID = true
		case imapwire.FetchPreview:
			// The Mail11 view decides per message whether the kept
			// preview is the view's (preview.go).
			p.hasPreview = true
			p.needData = p.needData || sizeNeedsData
		case imapwire.FetchEnvelope:
			p.needData = true
		case imapwire.FetchBodyStructure, imapwire.FetchBody:
			p.needData, p.needStructure = true, true
		case imapwire.FetchRFC822Size:
			p.needData = p.needData || sizeNeedsData
		case imapwire.FetchBodySection, imapwire.FetchBinarySection, imapwire.FetchBinarySize,
			imapwire.FetchRFC822, imapwire.FetchRFC822Header, imapwire.FetchRFC822Text:
			p.needData, p.needContent = true, true
		}
		if it.SetsSeen() {
			p.setsSeen = true
		}
	}
	if uid && !p.hasUID {
		// RFC 9051 §6.4.9: UID FETCH always returns the UID.
		p.items = append([]imapwire.FetchItem{{Attr: imapwire.FetchUID}}, p.items...)
		p.hasUID = true
	}
	return p
}

// markSeen sets \Seen on the targets, before their bodies are sent
// (RFC 9051 §6.4.5), and returns the UIDs it changed. Every target still
// in the view goes to the store, in one call for the command, which adds
// \Seen to the flags it holds: the view's copy may miss a \Seen another
// session just removed. The store answers a FETCH of messages already
// seen from one read of their seen column, without a write; the view's
// copy only hints which path is likely (store.FlagRequest). The committed
// states of the messages changed are merged into the view.
func (c *conn) markSeen(ctx context.Context, targets []target) (map[store.UID]bool, error) {
	out := map[store.UID]bool{}
	uids := uidsOf(targets)
	if len(uids) == 0 {
		return out, nil
	}
	req := store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}, OmitUnchanged: true}
	req.ExpectChange = viewExpectsChange(targets, req)
	fr, err := c.sess.StoreFlags(ctx, c.sel.id, uids, req)
	if err != nil {
		return nil, fmt.Errorf("set \\Seen: %w", err)
	}
	for _, in := range fr.Changed {
		c.sel.merge(in)
		out[in.UID] = true
	}
	for _, in := range fr.Unchanged {
		c.sel.merge(in)
	}
	return out, nil
}

// loadData fetches the stored structure of a batch of messages, before
// anything is written, so no store read is open while writing. With top
// set, only the top-level part is needed.
func (c *conn) loadData(ctx context.Context, batch []target, need, top bool) (map[store.UID]storedMsg, error) {
	if !need {
		return nil, nil
	}
	uids := uidsOf(batch)
	out := make(map[store.UID]storedMsg, len(uids))
	if len(uids) == 0 {
		return out, nil
	}
	load := c.sess.MessageData
	if l, ok := c.sess.(store.TopDataLoader); ok && top {
		load = l.MessageDataTop
	}
	err := load(ctx, c.sel.id, uids, func(d store.MessageData) error {
		out[d.Info.UID] = storedMsg{data: d}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	c.deriveStored(ctx, c.sel.id, out)
	return out, nil
}

// loadStored is loadData for FETCH. When bodies are sent and the store
// offers content refs, it loads them with the structure, through the
// read-ahead window, so that no message costs an index query of its own.
func (c *conn) loadStored(ctx context.Context, batch []target, plan fetchPlan) (map[store.UID]storedMsg, error) {
	loc, ok := c.sess.(store.ContentLocator)
	if !ok || !plan.needContent {
		return c.loadData(ctx, batch, plan.needData, plan.topOnly())
	}
	uids := uidsOf(batch)
	if len(uids) == 0 {
		return map[store.UID]storedMsg{}, nil
	}
	c.sel.ahead.forget(c.sess.Changes())
	out, err := c.sel.ahead.load(ctx, loc, c.sel, uids)
	if err == nil {
		c.deriveStored(ctx, c.sel.id, out)
	}
	return out, err
}

// writeFetch writes one FETCH response. It reports false, writing
// nothing, when the message's content is gone (expunged and reclaimed).
// An item that fails before anything of it is written is left out, and
// the response finished without it (issue 12: a tagged NO never lands
// inside "* n FETCH ("); *dropped keeps the first such error, for the
// tagged response of the command.
func (c *conn) writeFetch(ctx context.Context, mv *msgView, t target, plan fetchPlan, d storedMsg, seenSet bool, dropped *error) (bool, error) {
	if plan.needData {
		c.s.view.viewInto(mv, t.MessageInfo, &d.data)
		mv.ref = d.ref
	} else {
		c.s.view.viewInto(mv, t.MessageInfo, nil)
	}
	defer mv.close()
	if plan.needContent || plan.needStructure && mv.needsOpenForStructure() {
		if err := mv.open(ctx, c.sess, c.sel.id); err != nil {
			if errors.Is(err, store.ErrNoSuchMessage) {
				return false, nil
			}
			return false, err
		}
	}
	var preview string
	if plan.hasPreview {
		var err error
		if preview, err = c.previewOf(ctx, mv, plan.previews); errors.Is(err, store.ErrNoSuchMessage) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	fw := c.beginFetch(t.seq, t.UID)
	for _, it := range plan.items {
		switch it.Attr {
		case imapwire.FetchSaveDate:
			writeSaveDate(fw, plan.saved, t.UID) // RFC 8514 §4.2 (savedate.go)
			continue
		case imapwire.FetchPreview:
			fw.Item("PREVIEW").String(preview) // RFC 8970 §3.1 (preview.go)
			continue
		case imapwire.FetchThreadID:
			writeThreadID(fw, plan.threads, t.UID) // RFC 8474 §5.2 (threadid.go)
			continue
		}
		if err := c.writeFetchItem(fw, mv, t, it); err != nil && *dropped == nil {
			*dropped = err
		}
	}
	if seenSet && !plan.hasFlags {
		fw.Item("FLAGS").Flags(c.shownFlags(t.MessageInfo))
	}
	if seenSet && c.condStore {
		// RFC 7162 §3.1: a FETCH that set \Seen reports the UID and the
		// new MODSEQ once CONDSTORE is enabled.
		if !plan.hasUID && !c.uidOnly {
			fw.Item("UID").Number(uint32(t.UID))
		}
		if !plan.hasModSeq {
			writeModSeq(fw, t.ModSeq)
		}
	}
	return true, fw.End()
}

// writeFetchItem writes one data item with its name. It returns an error
// only when it wrote nothing of the item; a failure after that breaks the
// response and is the encoder's (the connection ends).
func (c *conn) writeFetchItem(fw *imapwire.FetchWriter, mv *msgView, t target, it imapwire.FetchItem) error {
	switch it.Attr {
	case imapwire.FetchFlags:
		fw.Item("FLAGS").Flags(c.shownFlags(t.MessageInfo))
	case imapwire.FetchUID:
		fw.Item("UID").Number(uint32(t.UID))
	case imapwire.FetchInternalDate:
		fw.Item("INTERNALDATE").DateTime(t.InternalDate)
	case imapwire.FetchRFC822Size:
		fw.Item("RFC822.SIZE").Number64(mv.size)
	case imapwire.FetchModSeq:
		writeModSeq(fw, t.ModSeq)
	case imapwire.FetchEnvelope:
		writeEnvelope(fw.Item("ENVELOPE"), mv.part.Envelope)
	case imapwire.FetchBodyStructure:
		writeBodyStructure(fw.Item("BODYSTRUCTURE"), mv.part, true)
	case imapwire.FetchBody:
		writeBodyStructure(fw.Item("BODY"), mv.part, false)
	case imapwire.FetchRFC822:
		c.s.stats.Retrieved(mv.size)
		c.writeRange(fw.Item("RFC822"), mv, 0, mv.size, nil)
	case imapwire.FetchRFC822Header:
		c.writeRange(fw.Item("RFC822.HEADER"), mv, 0, mv.topHeaderLen(), nil)
	case imapwire.FetchRFC822Text:
		s, end := mv.bodyRange(mv.part)
		c.writeRange(fw.Item("RFC822.TEXT"), mv, s, end-s, nil)
	case imapwire.FetchBodySection:
		if isWholeMessage(it) {
			c.s.stats.Retrieved(mv.size)
		}
		return c.writeBodySection(fw, mv, it)
	case imapwire.FetchBinarySection, imapwire.FetchBinarySize:
		return c.writeBinary(fw, mv, it)
	case imapwire.FetchEmailID:
		fw.Item("EMAILID").ObjectID(emailObjectID(t.EmailID)) // RFC 8474 §5.1
	}
	return nil
}

// isWholeMessage reports whether a BODY[] item retrieves the message: the
// whole of it, or the first chunk of a client that fetches it in pieces
// (BODY.PEEK[]<0.65536>), so that each retrieval counts once in the
// Retrieved Messages statistics, as a POP3 RETR does.
func isWholeMessage(it imapwire.FetchItem) bool {
	return len(it.Section.Part) == 0 && it.Section.Specifier == imapwire.SectionAll &&
		(it.Partial == nil || it.Partial.Offset == 0)
}

// writeRange writes n bytes of the view from off as a literal (or data
// from memory when b is not nil), with the partial applied by the caller.
func (c *conn) writeRange(e *imapwire.Encoder, mv *msgView, off, n int64, b []byte) {
	var r io.Reader = io.NewSectionReader(mv.readerAt(), off, n)
	if b != nil {
		r, n = bytes.NewReader(b), int64(len(b))
	}
	if e.WriteLiteralFrom(r, n) == nil {
		metricFetchedOctets.Add(float64(n))
	}
}

// writeBodySection writes the data of BODY[section]<partial>.
func (c *conn) writeBodySection(fw *imapwire.FetchWriter, mv *msgView, it imapwire.FetchItem) error {
	off, n, b, ok, err := c.sectionBytes(mv, it.Section)
	if err != nil {
		return err
	}
	e := fw.Item(it.ResponseName())
	if !ok {
		e.NIL()
		return nil
	}
	if b != nil {
		off, n = 0, int64(len(b))
	}
	if it.Partial != nil {
		start, cnt := it.Partial.Window(n)
		off, n = off+start, cnt
		if b != nil {
			b = b[start : start+cnt]
		}
	}
	c.writeRange(e, mv, off, n, b)
	return nil
}

// sectionBytes locates a section in the view: a byte range, or bytes
// built in memory (HEADER.FIELDS). ok is false for a section that does not
// exist, which is sent as NIL.
func (c *conn) sectionBytes(mv *msgView, sec imapwire.Section) (off, n int64, b []byte, ok bool, err error) {
	p := mv.part
	if len(sec.Part) > 0 {
		path := make([]int, len(sec.Part))
		for i, x := range sec.Part {
			path[i] = int(x)
		}
		if p, ok = mv.part.Section(path); !ok {
			return 0, 0, nil, false, nil
		}
	}
	msg := p
	if len(sec.Part) > 0 && sec.Specifier != imapwire.SectionAll && sec.Specifier != imapwire.SectionMIME {
		// RFC 9051 §6.4.5: HEADER, TEXT and HEADER.FIELDS after a part
		// number address the message inside a message/rfc822 part.
		if msg = p.Message(); msg == nil {
			return 0, 0, nil, false, nil
		}
	}
	var s, e int64
	switch sec.Specifier {
	case imapwire.SectionAll:
		if len(sec.Part) == 0 {
			return 0, mv.size, nil, true, nil
		}
		s, e = mv.bodyRange(p)
	case imapwire.SectionMIME:
		s, e = mv.headerRange(p)
	case imapwire.SectionHeader:
		s, e = mv.headerRange(msg)
	case imapwire.SectionText:
		s, e = mv.bodyRange(msg)
	case imapwire.SectionHeaderFields, imapwire.SectionHeaderFieldsNot:
		s, e = mv.headerRange(msg)
		h, err := message.ReadHeader(io.NewSectionReader(mv.readerAt(), s, e-s), wholeHeader(e-s))
		if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
			return 0, 0, nil, false, fmt.Errorf("read header: %w", err)
		}
		if sec.Specifier == imapwire.SectionHeaderFields {
			return 0, 0, h.SelectFields(sec.Fields), true, nil
		}
		return 0, 0, h.ExcludeFields(sec.Fields), true, nil
	}
	return s, e - s, nil, true, nil
}

// writeBinary writes BINARY[section]<partial> or BINARY.SIZE[section]
// (RFC 3516): the part's content with its Content-Transfer-Encoding
// removed. A section with a specifier (HEADER, TEXT, MIME, HEADER.FIELDS),
// which RFC 3516's grammar leaves out and clients and Dovecot use, is
// sent as BODY[…] would send it: those octets have no encoding to remove.
func (c *conn) writeBinary(fw *imapwire.FetchWriter, mv *msgView, it imapwire.FetchItem) error {
	open, ok, err := c.binarySource(mv, it.Section)
	if err != nil {
		return err
	}
	if !ok {
		// A part that does not exist, as BODY[…] of one: no data.
		if it.Attr == imapwire.FetchBinarySize {
			fw.Item(it.ResponseName()).Number64(0)
		} else {
			fw.Item(it.ResponseName()).NIL()
		}
		return nil
	}
	r, err := open()
	if err != nil {
		return err // NO [UNKNOWN-CTE], before anything of the item is written
	}
	size, hasNUL := countDecoded(r)
	if it.Attr == imapwire.FetchBinarySize {
		fw.Item(it.ResponseName()).Number64(size)
		return nil
	}
	start, cnt := it.Partial.Window(size)
	r, _ = open()
	if _, err := io.CopyN(io.Discard, r, start); err != nil && err != io.EOF {
		return fmt.Errorf("binary section: %w", err)
	}
	e := fw.Item(it.ResponseName())
	if hasNUL {
		// RFC 3516 §4.2: binary data goes out as literal8.
		err = e.WriteLiteral8From(r, cnt)
	} else {
		err = e.WriteLiteralFrom(r, cnt)
	}
	if err == nil {
		metricFetchedOctets.Add(float64(cnt))
	}
	return nil
}

// binarySource returns a function that opens the data of BINARY[section]
// from its start; ok is false for a section that does not exist.
func (c *conn) binarySource(mv *msgView, sec imapwire.Section) (open func() (io.Reader, error), ok bool, err error) {
	if sec.Specifier != imapwire.SectionAll {
		off, n, b, ok, err := c.sectionBytes(mv, sec)
		if err != nil || !ok {
			return nil, false, err
		}
		return func() (io.Reader, error) {
			if b != nil {
				return bytes.NewReader(b), nil
			}
			return io.NewSectionReader(mv.readerAt(), off, n), nil
		}, true, nil
	}
	p, off, n, ok := binaryRange(mv, sec)
	if !ok {
		return nil, false, nil
	}
	return func() (io.Reader, error) {
		raw := io.NewSectionReader(mv.readerAt(), off, n)
		if p == nil || p.IsMultipart() || p.Message() != nil {
			return raw, nil
		}
		return decodeCTE(raw, p.Encoding)
	}, true, nil
}

// binaryRange locates the data of BINARY[section] (RFC 3516 §4.2): the
// part, nil for the whole message, and its body's range; ok is false for
// a part that does not exist.
func binaryRange(mv *msgView, sec imapwire.Section) (p *message.Part, off, n int64, ok bool) {
	if len(sec.Part) == 0 {
		return nil, 0, mv.size, true
	}
	path := make([]int, len(sec.Part))
	for i, x := range sec.Part {
		path[i] = int(x)
	}
	if p, ok = mv.part.Section(path); !ok {
		return nil, 0, 0, false
	}
	s, e := mv.bodyRange(p)
	return p, s, e - s, true
}

// decodeCTE returns a reader removing a Content-Transfer-Encoding, or
// NO [UNKNOWN-CTE] for one it does not know (RFC 3516 §4.3). The decoding
// is SEARCH's (search.DecodeTransfer), so BINARY and BODY agree.
func decodeCTE(r io.Reader, enc string) (io.Reader, error) {
	d, err := search.DecodeTransfer(r, enc)
	if err != nil {
		return nil, nof("UNKNOWN-CTE", "Unknown Content-Transfer-Encoding")
	}
	return d, nil
}

// countDecoded reads r to its end (or its first decoding error) and
// returns the length and whether a NUL occurred.
func countDecoded(r io.Reader) (int64, bool) {
	buf := make([]byte, 32*1024)
	var n int64
	nul := false
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if !nul && bytes.IndexByte(buf[:k], 0) >= 0 {
			nul = true
		}
		if err != nil {
			return n, nul
		}
	}
}
