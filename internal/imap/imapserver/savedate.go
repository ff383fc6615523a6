package imapserver

import (
	"context"
	"fmt"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// SAVEDATE (RFC 8514). The store records when each message was saved in
// its mailbox (store.SaveDateKeeper: APPEND, delivery, import, COPY,
// MOVE); FETCH SAVEDATE and the SEARCH keys SAVEDBEFORE, SAVEDON,
// SAVEDSINCE and SAVEDATESUPPORTED read it, one store query per FETCH
// batch or per SEARCH. A message stored before the store kept save dates
// has none: FETCH answers NIL for it (§4.2 allows NIL), and the SAVED*
// keys compare its internal date instead, the fallback §4.3 prescribes
// for storage without save dates. The date is shown in the server's zone
// (that of its clock), like the INTERNALDATE of delivered mail.

// saveDates holds the save dates one command reads.
type saveDates struct {
	kept  bool                    // the store keeps save dates (SAVEDATESUPPORTED)
	dates map[store.UID]time.Time // zero time: not known
	loc   *time.Location          // the server's zone
}

// loadSaveDates reads the save dates of uids in the selected mailbox
// (all of its messages when uids is nil).
func (c *conn) loadSaveDates(ctx context.Context, uids []store.UID) (saveDates, error) {
	sd := saveDates{loc: c.s.opts.Clock().Location()}
	sk, ok := c.sess.(store.SaveDateKeeper)
	if !ok {
		return sd, nil
	}
	if uids != nil && len(uids) == 0 {
		return saveDates{kept: true, loc: sd.loc}, nil
	}
	m, err := sk.SaveDates(ctx, c.sel.id, uids)
	if err != nil {
		return sd, fmt.Errorf("load save dates: %w", err)
	}
	return saveDates{kept: true, dates: m, loc: sd.loc}, nil
}

// of returns a message's save date in the server's zone, ok false when it
// is not known.
func (sd saveDates) of(uid store.UID) (time.Time, bool) {
	t := sd.dates[uid]
	if t.IsZero() {
		return time.Time{}, false
	}
	return t.In(sd.loc), true
}

// day is the date SAVEDBEFORE, SAVEDON and SAVEDSINCE compare
// (disregarding time and timezone, RFC 8514 §4.3): the save date's day in
// the server's zone, or the internal date's, as BEFORE/ON/SINCE see it,
// for a message without a save date.
func (sd saveDates) day(in store.MessageInfo) time.Time {
	if t, ok := sd.of(in.UID); ok {
		return dateOf(t)
	}
	return dateOf(in.InternalDate)
}

// writeSaveDate writes the SAVEDATE data item (RFC 8514 §4.2, §5:
// "SAVEDATE" SP (date-time / nil)).
func writeSaveDate(fw *imapwire.FetchWriter, sd saveDates, uid store.UID) {
	if t, ok := sd.of(uid); ok {
		fw.Item("SAVEDATE").DateTime(t)
		return
	}
	fw.Item("SAVEDATE").NIL()
}

// isSaveDateKey reports whether a key reads save dates.
func isSaveDateKey(k *searchKey) bool {
	switch k.Op {
	case imapwire.SearchSavedBefore, imapwire.SearchSavedOn, imapwire.SearchSavedSince, imapwire.SearchSaveDateSupported:
		return true
	}
	return false
}

// askSaveDates loads the save dates of the selected mailbox once when a
// key of the tree needs them, for every such key.
func (c *conn) askSaveDates(ctx context.Context, k *searchKey) error {
	if !k.any(isSaveDateKey) {
		return nil
	}
	sd, err := c.loadSaveDates(ctx, nil)
	if err != nil {
		return err
	}
	k.any(func(k *searchKey) bool {
		if isSaveDateKey(k) {
			k.saved = &sd
		}
		return false
	})
	return nil
}

// matchSaveDate evaluates a save-date key (RFC 8514 §4.3) on a message.
func matchSaveDate(k *searchKey, in store.MessageInfo) bool {
	switch k.Op {
	case imapwire.SearchSavedBefore:
		return k.saved.day(in).Before(k.Date)
	case imapwire.SearchSavedOn:
		return k.saved.day(in).Equal(k.Date)
	case imapwire.SearchSavedSince:
		return !k.saved.day(in).Before(k.Date)
	}
	return k.saved.kept // SAVEDATESUPPORTED: every message, or none
}
