package imapserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/imap/thread"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// SORT and THREAD (RFC 5256) run the search of their criteria as SEARCH
// does, then order the matches with internal/imap/thread. What the keys
// need comes from the stored ENVELOPE and index data, loaded top-level
// part only, so SORT opens no message file. THREAD=REFERENCES and REFS
// also need the References field, which the envelope does not keep: the
// store keeps it with the header fields of store.KeptHeaderFields, and a
// message stored before it did, or shown with a rebuilt header, is read.

// cmdSort: RFC 5256 §3 SORT, with the keys of RFC 5957 (SORT=DISPLAY).
func (c *conn) cmdSort(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.sort(ctx, tag, dec, false)
}

// cmdUIDSort: RFC 5256 §3, UID SORT answers UIDs.
func (c *conn) cmdUIDSort(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.sort(ctx, tag, dec, true)
}

func (c *conn) sort(ctx context.Context, tag string, dec *imapwire.Decoder, uid bool) error {
	args := imapwire.ParseSortArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkSearchNumbers(args.Key); err != nil {
		return err
	}
	if err := c.checkUpdateTag(tag, args.Return); err != nil {
		return err
	}
	crit := sortCriteria(args.Criteria)
	sorted, key, err := c.execSort(ctx, args, crit)
	if err != nil {
		if args.Return.Save {
			c.sel.saved = nil // RFC 5182 §2.1: a failed SAVE empties $
		}
		return err
	}
	nums := make([]uint32, len(sorted))
	for i, t := range sorted {
		nums[i] = numberOf(t, uid)
	}
	if ret := args.Return; ret.Extended {
		// RFC 5267 §3 (ESORT): the ESEARCH of SEARCH, in sort order: MIN
		// is the first message sorted, MAX the last, ALL keeps the order.
		if ret.Save {
			// RFC 5182 §2.4 (as for SEARCH): "$" is a set; it keeps no
			// order.
			c.sel.saved = savedResult(sorted, ret)
			slices.Sort(c.sel.saved)
		}
		c.writeESearch(tag, ret, sorted, uid, key.usesModSeq(), imapwire.SeqSetInOrder(nums...))
		if ret.Update {
			c.startUpdate(tag, uid, key, crit, sorted) // RFC 5267 §4.3
		}
		return nil
	}
	var m store.ModSeq
	if key.usesModSeq() {
		m = highestModSeq(sorted) // RFC 7162 §3.1.6, as for SEARCH
	}
	c.enc.Sort(nums, uint64(m))
	return nil
}

// execSort runs SORT's search and orders the messages it matched.
func (c *conn) execSort(ctx context.Context, args imapwire.SortArgs, crit []thread.Criterion) ([]target, *searchKey, error) {
	matched, key, err := c.searchCriteria(ctx, args.Charset, args.Key)
	if err != nil {
		return nil, nil, err
	}
	sorted, err := c.sortTargets(ctx, matched, crit)
	return sorted, key, err
}

// sortCriteria maps the parsed criteria to the thread package's.
func sortCriteria(cs []imapwire.SortCriterion) []thread.Criterion {
	crit := make([]thread.Criterion, len(cs))
	for i, sc := range cs {
		crit[i] = thread.Criterion{Key: sortKeys[sc.Key], Reverse: sc.Reverse}
	}
	return crit
}

// sortTargets orders messages by crit (RFC 5256 §3); messages expunged
// meanwhile are left out.
func (c *conn) sortTargets(ctx context.Context, matched []target, crit []thread.Criterion) ([]target, error) {
	msgs, kept, err := c.sortData(ctx, matched, false)
	if err != nil {
		return nil, err
	}
	order := thread.Sort(msgs, crit)
	sorted := make([]target, len(order))
	for i, j := range order {
		sorted[i] = kept[j]
	}
	return sorted, nil
}

// sortKeys maps the grammar's sort keys to the thread package's.
var sortKeys = map[string]thread.Key{
	imapwire.SortArrival: thread.KeyArrival, imapwire.SortCc: thread.KeyCc, imapwire.SortDate: thread.KeyDate,
	imapwire.SortFrom: thread.KeyFrom, imapwire.SortSize: thread.KeySize, imapwire.SortSubject: thread.KeySubject,
	imapwire.SortTo: thread.KeyTo, imapwire.SortDisplayFrom: thread.KeyDisplayFrom, imapwire.SortDisplayTo: thread.KeyDisplayTo,
}

// searchCriteria runs the search-criteria of SORT and THREAD (RFC 5256
// §3): the charset is mandatory and, as for SEARCH, US-ASCII or UTF-8
// (RFC 5256 §3: "NO [BADCHARSET]" otherwise); MODSEQ enables CONDSTORE
// (RFC 7162 §3.1).
func (c *conn) searchCriteria(ctx context.Context, charset string, k imapwire.SearchKey) ([]target, *searchKey, error) {
	switch strings.ToUpper(charset) {
	case "US-ASCII", "UTF-8":
	default:
		return nil, nil, nof("BADCHARSET (US-ASCII UTF-8)", "Unsupported charset")
	}
	key := compileSearch(k)
	if key.usesModSeq() {
		if err := c.enableCondStore(ctx); err != nil {
			return nil, nil, err
		}
	}
	matched, err := c.evalSearch(ctx, key)
	c.nextProgressPass() // the sort data is the second pass (progress.go)
	return matched, key, err
}

// numberOf is what a SORT or THREAD response says of a message.
func numberOf(t target, uid bool) uint32 {
	if uid {
		return uint32(t.UID)
	}
	return t.seq
}

// sortData returns, for each target still in the store, what sorting and
// threading read of it, with the targets kept (in the same order). The
// envelope is the client's view of it (the Mail11 view rebuilds it), as
// FETCH ENVELOPE shows. refs: read the References field too.
func (c *conn) sortData(ctx context.Context, targets []target, refs bool) ([]thread.Message, []target, error) {
	msgs := make([]thread.Message, 0, len(targets))
	kept := make([]target, 0, len(targets))
	for start := 0; start < len(targets); start += topFetchBatch {
		c.reportProgress(start, len(targets)) // RFC 9585 (progress.go)
		batch := targets[start:min(start+topFetchBatch, len(targets))]
		data, keptFields, err := c.loadSortBatch(ctx, batch, refs)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range batch {
			d, ok := data[t.UID]
			if !ok {
				continue // expunged meanwhile
			}
			mv := c.s.view.view(t.MessageInfo, &d.data)
			mv.ref = d.ref
			m := sortMessage(t, mv)
			if h, ok := keptFields[t.UID]; ok && c.s.view.indexStored() && d.data.VMS == nil {
				// Shown as stored: the kept field is the view's.
				m.References = h.Get("References")
			} else if refs {
				if m.References, err = c.references(ctx, mv); err != nil {
					return nil, nil, err
				}
			}
			msgs = append(msgs, m)
			kept = append(kept, t)
		}
	}
	return msgs, kept, nil
}

// loadSortBatch loads the stored data of a batch: the top-level parts,
// and, when the References are read (refs), the header fields the store
// keeps (store.HeaderKeeper), or, when it keeps none and the store can,
// the structure with each message's content ref, so that opening a
// message costs no index query of its own (store.ContentLocator).
func (c *conn) loadSortBatch(ctx context.Context, batch []target, refs bool) (map[store.UID]storedMsg, map[store.UID]message.Header, error) {
	loc, ok := c.sess.(store.ContentLocator)
	hk, keeps := c.sess.(store.HeaderKeeper)
	if !refs || keeps || !ok {
		data, err := c.loadData(ctx, batch, true, true)
		if err != nil || !refs || !keeps {
			return data, nil, err
		}
		kept := make(map[store.UID]message.Header, len(batch))
		err = hk.KeptHeaders(ctx, c.sel.id, uidsOf(batch), func(u store.UID, h message.Header) error {
			kept[u] = h
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("load kept header fields: %w", err)
		}
		return data, kept, nil
	}
	uids := uidsOf(batch)
	out := make(map[store.UID]storedMsg, len(uids))
	err := loc.MessageDataRefs(ctx, c.sel.id, uids, func(d store.MessageData, r store.ContentRef) error {
		out[d.Info.UID] = storedMsg{data: d, ref: r}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load messages: %w", err)
	}
	return out, nil, nil
}

// sortMessage fills a thread.Message from the view of a message.
func sortMessage(t target, mv *msgView) thread.Message {
	m := thread.Message{InternalDate: t.InternalDate, Size: mv.size}
	env := mv.part.Envelope
	if env == nil {
		return m
	}
	// RFC 5256 §2.2: a Date that does not parse is no sent date.
	if d, err := mail.ParseDate(env.Date); err == nil {
		m.Date = d
	}
	m.Subject = env.Subject
	m.From, m.To, m.Cc = firstAddress(env.From), firstAddress(env.To), firstAddress(env.Cc)
	m.MessageID, m.InReplyTo = env.MessageID, env.InReplyTo
	return m
}

func firstAddress(list []message.Address) thread.Address {
	if len(list) == 0 {
		return thread.Address{}
	}
	a := list[0]
	return thread.Address{Name: a.Name, Mailbox: a.Mailbox, Host: a.Host}
}

// references reads the References field from the message's header, as
// the view shows it.
// It is for the messages whose References the store does not keep.
func (c *conn) references(ctx context.Context, mv *msgView) (string, error) {
	if err := mv.open(ctx, c.sess, c.sel.id); err != nil {
		if errors.Is(err, store.ErrNoSuchMessage) {
			return "", nil
		}
		return "", err
	}
	defer mv.close()
	h, err := message.ReadHeader(io.NewSectionReader(mv.readerAt(), 0, mv.topHeaderLen()), wholeHeader(mv.topHeaderLen()))
	if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
		return "", fmt.Errorf("read header of message %d: %w", mv.info.UID, err)
	}
	return h.Get("References"), nil
}
