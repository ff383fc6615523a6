package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// SEARCH asks the store's search index (store.Searcher), once per key,
// for the header keys (FROM, TO, CC, BCC, SUBJECT, HEADER) and the text
// keys (BODY, TEXT) before any message is evaluated. The index describes the message as stored, so
// its answer stands for the messages the client sees as stored: every
// message when the OpenVMS Mail view is off, else those without an
// OpenVMS envelope when Ignore-Mail11-Headers is on (viewer.view serves
// them as stored), and never the Send-ID-Headers lines. The other
// messages — and those the index holds nothing for, stored before it —
// are read and scanned as before, so the result is the scan's.

// indexAnswer is the index's answer to one key.
type indexAnswer struct {
	matched   map[store.UID]bool
	uncovered map[store.UID]bool // answer by reading the message
}

// answer returns the index's answer for a message, ok false when the
// message must be read.
func (a *indexAnswer) answer(uid store.UID) (match, ok bool) {
	if a.uncovered[uid] {
		return false, false
	}
	return a.matched[uid], true
}

// indexStored reports whether the index, which describes messages as
// stored, can stand for the view of a message without an OpenVMS
// envelope.
func (v *viewer) indexStored() bool { return v.mail11 == nil || v.ignoreMail11 }

// indexQuery returns the store query of a key, ok false for a key the
// index does not answer.
func (v *viewer) indexQuery(k *searchKey) (store.SearchQuery, bool) {
	switch k.Op {
	case imapwire.SearchFrom:
		return store.SearchQuery{Field: store.SearchFrom, Value: k.Value}, true
	case imapwire.SearchTo:
		return store.SearchQuery{Field: store.SearchTo, Value: k.Value}, true
	case imapwire.SearchCc:
		return store.SearchQuery{Field: store.SearchCc, Value: k.Value}, true
	case imapwire.SearchBcc:
		return store.SearchQuery{Field: store.SearchBcc, Value: k.Value}, true
	case imapwire.SearchSubject:
		return store.SearchQuery{Field: store.SearchSubject, Value: k.Value}, true
	case imapwire.SearchHeader:
		if v.sendIDHeaders && v.isIDField(k.Field) {
			return store.SearchQuery{}, false // a field only the view has
		}
		return store.SearchQuery{Field: store.SearchHeader, Name: k.Field, Value: k.Value}, true
	case imapwire.SearchBody:
		return store.SearchQuery{Field: store.SearchBody, Value: k.Value}, true
	case imapwire.SearchText:
		// The Send-ID fields the view adds are matched by idFieldsContain.
		return store.SearchQuery{Field: store.SearchText, Value: k.Value}, true
	}
	return store.SearchQuery{}, false
}

// isIDField reports whether a field name is one of the Send-ID-Headers
// fields the view adds.
func (v *viewer) isIDField(name string) bool {
	n := search.FoldName(name)
	return n == search.FoldName("X-IMAP4-Server") || n == search.FoldName("X-IMAP4-ID")
}

// askIndex fills the idx of every key of the tree the index answers. A
// key it cannot answer (store.ErrNotIndexed) keeps idx nil and is
// scanned.
func (c *conn) askIndex(ctx context.Context, k *searchKey) error {
	sr, ok := c.sess.(store.Searcher)
	if !ok || !c.s.view.indexStored() {
		return nil
	}
	var walk func(k *searchKey) error
	walk = func(k *searchKey) error {
		for _, kid := range k.kids {
			if err := walk(kid); err != nil {
				return err
			}
		}
		q, ok := c.s.view.indexQuery(k)
		if !ok {
			return nil
		}
		res, err := sr.SearchIndex(ctx, c.sel.id, q)
		if errors.Is(err, store.ErrNotIndexed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		k.idx = newIndexAnswer(res, c.s.view.mail11 != nil)
		return nil
	}
	return walk(k)
}

// newIndexAnswer builds the answer of a result; withVMS: messages with an
// OpenVMS envelope are read (the Mail11 view may rebuild them).
func newIndexAnswer(res store.SearchResult, withVMS bool) *indexAnswer {
	a := &indexAnswer{matched: make(map[store.UID]bool, len(res.Matched)), uncovered: make(map[store.UID]bool, len(res.Unindexed))}
	for _, u := range res.Matched {
		a.matched[u] = true
	}
	for _, u := range res.Unindexed {
		a.uncovered[u] = true
	}
	if withVMS {
		for _, u := range res.VMS {
			a.uncovered[u] = true
		}
	}
	return a
}

// dataNeeds reports which messages need their stored data (structure,
// envelope) to be evaluated: all of them when a key that needs data has
// no index answer, else those some key's index answer leaves to reading.
func (k *searchKey) dataNeeds(v *viewer) (all bool, some map[store.UID]bool) {
	some = map[store.UID]bool{}
	var walk func(k *searchKey)
	walk = func(k *searchKey) {
		for _, kid := range k.kids {
			walk(kid)
		}
		if !k.needsData(v) {
			return
		}
		if k.idx == nil {
			all = true
			return
		}
		for u := range k.idx.uncovered {
			some[u] = true
		}
	}
	walk(k)
	return all, some
}

// needsData reports whether the key itself (not its children) reads a
// message's stored data.
func (k *searchKey) needsData(v *viewer) bool {
	switch k.Op {
	case imapwire.SearchHeader, imapwire.SearchBody, imapwire.SearchText,
		imapwire.SearchSentBefore, imapwire.SearchSentOn, imapwire.SearchSentSince:
		return true
	case imapwire.SearchLarger, imapwire.SearchSmaller:
		return v.needsData()
	}
	return envelopeKeys[k.Op] != ""
}

// idFieldsContain reports whether the Send-ID-Headers fields the view
// adds to a message's header contain a TEXT key's string, as TEXT's
// header half compares each field (search.FieldLine, folded).
func (v *viewer) idFieldsContain(uid store.UID, k *searchKey) bool {
	prefix := v.idPrefix(uid)
	if prefix == nil {
		return false
	}
	h, _ := message.ReadHeader(bytes.NewReader(prefix), len(prefix)+1)
	for _, f := range h {
		if strings.Contains(search.Fold(search.FieldLine(f)), k.lower) {
			return true
		}
	}
	return false
}
