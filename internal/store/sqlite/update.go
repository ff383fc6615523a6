package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

// maxUID is the largest UID (RFC 9051 §2.3.1.1: a 32-bit value).
const maxUID = 1<<32 - 1

// StoreFlags changes the flags of messages. A message whose flags do not
// actually change keeps its MODSEQ and is reported unchanged, with its
// stored state. All the messages changed by one call get the same new
// MODSEQ.
//
// The result is decided from the stored flags, under the write lock. A
// call that would change nothing (a client setting \Seen on messages that
// have it) is first decided on a read snapshot and then needs no write
// transaction: a no-op at the snapshot's moment is a no-op of the call.
// With req.ExpectChange that look is skipped, the write deciding alone;
// with req.OmitUnchanged it reads only the seen and deleted columns when
// they answer the request (seenOnly).
func (ss *Session) StoreFlags(ctx context.Context, mailbox store.MailboxID, uids []store.UID, req store.FlagRequest) (store.FlagResult, error) {
	defer observe("store_flags", time.Now())
	if err := ss.checkOpen(); err != nil {
		return store.FlagResult{}, err
	}
	flags, err := store.CanonicalFlags(req.Flags)
	if err != nil {
		return store.FlagResult{}, err
	}
	uids = normalizeUIDs(uids)
	if !req.ExpectChange {
		res, noop, err := ss.lookForNoop(ctx, mailbox, uids, req, flags)
		if err != nil || noop {
			return res, err
		}
	}
	var res store.FlagResult
	err = ss.write(ctx, func(w *wtx) error {
		var err error
		if res, err = ss.decideFlags(ctx, w, mailbox, uids, req, flags); err != nil || len(res.Changed) == 0 {
			return err
		}
		return ss.writeFlags(ctx, w, mailbox, res.Changed)
	})
	if err != nil {
		return store.FlagResult{}, err
	}
	return res, nil
}

// lookForNoop decides the request on a read snapshot and reports whether
// it changes nothing, with the result to return then.
func (ss *Session) lookForNoop(ctx context.Context, mailbox store.MailboxID, uids []store.UID, req store.FlagRequest, flags store.Flags) (store.FlagResult, bool, error) {
	if cols, ok := columnFlags(req, flags); ok && len(uids) <= uidChunk {
		// One statement is one snapshot: no transaction to open.
		noop, err := ss.columnsNoop(ctx, ss.s.rdb, mailbox, uids, cols)
		return store.FlagResult{}, noop, err
	}
	var res store.FlagResult
	err := ss.read(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = ss.decideFlags(ctx, tx, mailbox, uids, req, flags)
		return err
	})
	return res, err == nil && len(res.Changed) == 0, err
}

// flagColumns says which of the message table's flag columns a request
// sets: they mirror \Seen and \Deleted.
type flagColumns struct{ seen, deleted bool }

// columnFlags reports whether the columns alone decide whether req changes
// a message: it adds only \Seen and \Deleted, unconditionally, and the
// caller needs no unchanged state.
func columnFlags(req store.FlagRequest, flags store.Flags) (flagColumns, bool) {
	var c flagColumns
	if !req.OmitUnchanged || req.Op != store.FlagsAdd || req.UnchangedSince != 0 || len(flags) == 0 {
		return c, false
	}
	for _, f := range flags {
		switch f {
		case store.FlagSeen:
			c.seen = true
		case store.FlagDeleted:
			c.deleted = true
		default:
			return c, false
		}
	}
	return c, true
}

// columnsNoop reports whether every message of uids already has the flags
// of cols. No message found leaves the mailbox to prove: a row found
// proves it exists, as in decideFlags.
func (ss *Session) columnsNoop(ctx context.Context, q querier, mailbox store.MailboxID, uids []store.UID, cols flagColumns) (bool, error) {
	type state struct{ seen, deleted bool }
	cur, err := selectByUIDs(ctx, q, `SELECT m.uid, m.seen, m.deleted FROM message m WHERE m.mailbox = ? AND %s`,
		mailbox, uids, func(rows *sql.Rows) (state, store.UID, error) {
			var st state
			var u store.UID
			err := rows.Scan(&u, &st.seen, &st.deleted)
			return st, u, err
		})
	if err != nil {
		return false, err
	}
	if len(cur) == 0 || !ss.owns(mailbox) {
		if _, err := ss.mailboxByID(ctx, q, mailbox); err != nil {
			return false, err
		}
	}
	for _, st := range cur {
		if cols.seen && !st.seen || cols.deleted && !st.deleted {
			return false, nil
		}
	}
	return true, nil
}

// decideFlags reads the stored state of uids and sorts them into the
// messages the request changes (with their new flags, MODSEQ not yet
// raised), those it leaves as they are, and those failing UnchangedSince.
func (ss *Session) decideFlags(ctx context.Context, q querier, mailbox store.MailboxID, uids []store.UID, req store.FlagRequest, flags store.Flags) (store.FlagResult, error) {
	var res store.FlagResult
	cur, err := selectByUIDs(ctx, q, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = ? AND %s ORDER BY m.uid`,
		mailbox, uids, scanInfoUID)
	if err != nil {
		return res, err
	}
	if len(cur) == 0 || !ss.owns(mailbox) {
		// A message row found proves its mailbox exists in this snapshot
		// (rows are deleted with their mailbox); only whether the
		// mailbox is the account's needs the mailbox row, once.
		if _, err := ss.mailboxByID(ctx, q, mailbox); err != nil {
			return res, err
		}
	}
	for _, mi := range cur {
		if req.UnchangedSince != 0 && mi.ModSeq > req.UnchangedSince {
			res.Failed = append(res.Failed, mi.UID) // RFC 7162 §3.1.3
			continue
		}
		nf, err := applyFlags(mi.Flags, req.Op, flags)
		if err != nil {
			return res, err
		}
		if sameFlags(mi.Flags, nf) {
			res.Unchanged = append(res.Unchanged, mi)
			continue
		}
		mi.Flags = nf
		res.Changed = append(res.Changed, mi)
	}
	return res, nil
}

// writeFlags stores the new flags of changed under one new MODSEQ, which
// it sets in changed, and queues their ChangeFlags.
func (ss *Session) writeFlags(ctx context.Context, w *wtx, mailbox store.MailboxID, changed []store.MessageInfo) error {
	modseq, err := w.bumpModSeq(ctx, mailbox)
	if err != nil {
		return err
	}
	stmt, err := w.PrepareContext(ctx, `UPDATE message SET flags = ?, seen = ?, deleted = ?, modseq = ? WHERE mailbox = ? AND uid = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	chs := make([]store.Change, 0, len(changed))
	for i := range changed {
		mi := &changed[i]
		mi.ModSeq = modseq
		_, err := stmt.ExecContext(ctx, formatFlags(mi.Flags), mi.Flags.Has(store.FlagSeen), mi.Flags.Has(store.FlagDeleted), modseq, mailbox, mi.UID)
		if err != nil {
			return err
		}
		chs = append(chs, store.ChangeFlags{Mailbox: mailbox, UID: mi.UID, ModSeq: modseq, Flags: mi.Flags})
	}
	w.publish(ss.account, ss.sub.ID(), chs...)
	return nil
}

func scanInfoUID(rows *sql.Rows) (store.MessageInfo, store.UID, error) {
	mi, err := scanInfo(rows)
	return mi, mi.UID, err
}

// applyFlags computes the flags that result from op; all are canonical.
func applyFlags(cur store.Flags, op store.FlagOp, flags store.Flags) (store.Flags, error) {
	switch op {
	case store.FlagsReplace:
		return flags, nil
	case store.FlagsAdd:
		return store.CanonicalFlags(append(append(store.Flags(nil), cur...), flags...))
	case store.FlagsRemove:
		var out store.Flags
		for _, f := range cur {
			if !flags.Has(f) {
				out = append(out, f)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("store flags: unknown operation %d", op)
}

// sameFlags compares two canonical flag lists case-insensitively, so that
// changing only a keyword's case is no change.
func sameFlags(a, b store.Flags) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Expunge removes messages, logging each UID with the expunge's MODSEQ.
// Their content stays until Reclaim.
func (ss *Session) Expunge(ctx context.Context, mailbox store.MailboxID, uids []store.UID) ([]store.UID, error) {
	defer observe("expunge", time.Now())
	return ss.expungeWhere(ctx, mailbox, uids, `SELECT m.uid FROM message m WHERE m.mailbox = ? AND %s ORDER BY m.uid`)
}

// expungeWhere removes the messages of uids that query (a selectByUIDs
// query returning UIDs) selects, in one write transaction.
func (ss *Session) expungeWhere(ctx context.Context, mailbox store.MailboxID, uids []store.UID, query string) ([]store.UID, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	uids = normalizeUIDs(uids)
	var removed []store.UID
	err := ss.write(ctx, func(w *wtx) error {
		var err error
		removed, err = selectByUIDs(ctx, w, query, mailbox, uids, scanUID)
		if err != nil {
			return err
		}
		if len(removed) == 0 || !ss.owns(mailbox) {
			// As in decideFlags: a row found proves the mailbox exists;
			// whether it is the account's needs its row, once.
			if _, err := ss.mailboxByID(ctx, w, mailbox); err != nil {
				removed = nil
				return err
			}
		}
		if len(removed) == 0 {
			return nil
		}
		modseq, err := w.bumpModSeq(ctx, mailbox)
		if err != nil {
			return err
		}
		if err := w.expunge(ctx, mailbox, removed, modseq); err != nil {
			return err
		}
		w.publish(ss.account, ss.sub.ID(), store.ChangeExpunge{Mailbox: mailbox, UIDs: removed, ModSeq: modseq})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// ExpungeDeleted removes those of uids whose stored flags hold \Deleted
// when the transaction runs: the deleted column mirrors the flag.
func (ss *Session) ExpungeDeleted(ctx context.Context, mailbox store.MailboxID, uids []store.UID) ([]store.UID, error) {
	defer observe("expunge_deleted", time.Now())
	return ss.expungeWhere(ctx, mailbox, uids, `SELECT m.uid FROM message m WHERE m.mailbox = ? AND m.deleted AND %s ORDER BY m.uid`)
}

func scanUID(rows *sql.Rows) (store.UID, store.UID, error) {
	var u store.UID
	err := rows.Scan(&u)
	return u, u, err
}

// expunge deletes the message rows and logs their UIDs.
func (w *wtx) expunge(ctx context.Context, mailbox store.MailboxID, uids []store.UID, modseq store.ModSeq) error {
	del, err := w.PrepareContext(ctx, `DELETE FROM message WHERE mailbox = ? AND uid = ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	return w.logExpunged(ctx, mailbox, uids, modseq, del)
}

// logExpunged records uids as expunged from mailbox at modseq, first
// running also (if not nil) for each UID.
func (w *wtx) logExpunged(ctx context.Context, mailbox store.MailboxID, uids []store.UID, modseq store.ModSeq, also *sql.Stmt) error {
	ins, err := w.PrepareContext(ctx, `INSERT OR REPLACE INTO expunged (mailbox, uid, modseq, at) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	at := w.s.now().UnixNano()
	for _, u := range uids {
		if also != nil {
			if _, err := also.ExecContext(ctx, mailbox, u); err != nil {
				return err
			}
		}
		if _, err := ins.ExecContext(ctx, mailbox, u, modseq, at); err != nil {
			return err
		}
	}
	return nil
}

// copyRow is what Copy and Move read of a source message.
type copyRow struct {
	info    store.MessageInfo
	content int64
}

func scanCopyRow(rows *sql.Rows) (copyRow, store.UID, error) {
	var r copyRow
	var err error
	r.info, err = scanInfo(rows, &r.content)
	return r, r.info.UID, err
}

// transfer reads the source messages and the destination of a Copy or
// Move, and reserves UIDs for them in the destination.
func (ss *Session) transfer(ctx context.Context, w *wtx, from store.MailboxID, uids []store.UID, to store.MailboxID) (rows []copyRow, dst mailboxRow, err error) {
	if _, err := ss.mailboxByID(ctx, w, from); err != nil {
		return nil, dst, err
	}
	if dst, err = ss.mailboxByID(ctx, w, to); err != nil {
		return nil, dst, err
	}
	rows, err = selectByUIDs(ctx, w, `SELECT `+infoColumns+`, m.content FROM message m WHERE m.mailbox = ? AND %s ORDER BY m.uid`,
		from, normalizeUIDs(uids), scanCopyRow)
	if err != nil || len(rows) == 0 {
		return nil, dst, err
	}
	if int64(dst.UIDNext)+int64(len(rows))-1 > maxUID {
		return nil, dst, fmt.Errorf("mailbox %q: UIDs exhausted: %w", dst.Name, store.ErrNotAllowed)
	}
	_, err = w.ExecContext(ctx, `UPDATE mailbox SET uidnext = uidnext + ? WHERE id = ?`, len(rows), to)
	return rows, dst, err
}

// Copy copies messages, sharing their content: each copy is a new message
// row (a new EmailID) referring to the same content row.
func (ss *Session) Copy(ctx context.Context, from store.MailboxID, uids []store.UID, to store.MailboxID) (store.CopyResult, error) {
	defer observe("copy", time.Now())
	if err := ss.checkOpen(); err != nil {
		return store.CopyResult{}, err
	}
	var res store.CopyResult
	err := ss.write(ctx, func(w *wtx) error {
		rows, dst, err := ss.transfer(ctx, w, from, uids, to)
		res = store.CopyResult{UIDValidity: dst.UIDValidity}
		if err != nil || len(rows) == 0 {
			return err
		}
		var octets int64
		for _, r := range rows {
			octets += r.info.Size
		}
		if err := w.checkQuota(ctx, ss.account, octets, int64(len(rows))); err != nil {
			return err
		}
		modseq, err := w.bumpModSeq(ctx, to)
		if err != nil {
			return err
		}
		saved := ss.s.now().UnixNano() // RFC 8514 §3: a copy is saved now
		// The copy is in its original's thread (store.ThreadKeeper).
		ins, err := w.PrepareContext(ctx, `INSERT INTO message (mailbox, uid, modseq, flags, seen, deleted, internal_date, internal_zone, size, content, saved, thread)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT thread FROM message WHERE mailbox = ? AND uid = ?)) RETURNING id`)
		if err != nil {
			return err
		}
		defer ins.Close()
		chs := make([]store.Change, 0, len(rows))
		for i, r := range rows {
			mi := r.info
			mi.UID = dst.UIDNext + store.UID(i)
			mi.ModSeq = modseq
			err := ins.QueryRowContext(ctx, to, mi.UID, modseq, formatFlags(mi.Flags), mi.Flags.Has(store.FlagSeen),
				mi.Flags.Has(store.FlagDeleted), sqlrow.TimeToInt(mi.InternalDate), zoneOf(mi.InternalDate), mi.Size, r.content, saved,
				from, r.info.UID).Scan(&mi.EmailID)
			if err != nil {
				return err
			}
			res.Source = append(res.Source, r.info.UID)
			res.Dest = append(res.Dest, mi.UID)
			chs = append(chs, store.ChangeAdd{Mailbox: to, Info: mi})
		}
		w.publish(ss.account, ss.sub.ID(), chs...)
		return nil
	})
	if err != nil {
		return store.CopyResult{}, err
	}
	return res, nil
}

// Move moves messages atomically: each message row is moved to the
// destination with a new UID, keeping its EmailID and content, and its old
// UID is logged as expunged in the source (RFC 6851).
func (ss *Session) Move(ctx context.Context, from store.MailboxID, uids []store.UID, to store.MailboxID) (store.CopyResult, error) {
	defer observe("move", time.Now())
	if err := ss.checkOpen(); err != nil {
		return store.CopyResult{}, err
	}
	var res store.CopyResult
	err := ss.write(ctx, func(w *wtx) error {
		rows, dst, err := ss.transfer(ctx, w, from, uids, to)
		res = store.CopyResult{UIDValidity: dst.UIDValidity}
		if err != nil || len(rows) == 0 {
			return err
		}
		srcModSeq, err := w.bumpModSeq(ctx, from)
		if err != nil {
			return err
		}
		dstModSeq := srcModSeq
		if to != from {
			if dstModSeq, err = w.bumpModSeq(ctx, to); err != nil {
				return err
			}
		}
		// The import key travels with the message unless the destination
		// already holds one with the same key.
		// RFC 8514 §3: a moved message is saved in its new mailbox now.
		upd, err := w.PrepareContext(ctx, `UPDATE message SET mailbox = ?1, uid = ?2, modseq = ?3, saved = ?5,
			import_key = CASE WHEN EXISTS (SELECT 1 FROM message o WHERE o.mailbox = ?1 AND o.import_key = message.import_key)
				THEN NULL ELSE import_key END
			WHERE id = ?4`)
		if err != nil {
			return err
		}
		defer upd.Close()
		adds := make([]store.Change, 0, len(rows)+1)
		for i, r := range rows {
			mi := r.info
			mi.UID = dst.UIDNext + store.UID(i)
			mi.ModSeq = dstModSeq
			if _, err := upd.ExecContext(ctx, to, mi.UID, dstModSeq, mi.EmailID, ss.s.now().UnixNano()); err != nil {
				return err
			}
			res.Source = append(res.Source, r.info.UID)
			res.Dest = append(res.Dest, mi.UID)
			adds = append(adds, store.ChangeAdd{Mailbox: to, Info: mi})
		}
		if err := w.logExpunged(ctx, from, res.Source, srcModSeq, nil); err != nil {
			return err
		}
		// Arrival first, then departure: no session ever sees the message
		// gone from both.
		w.publish(ss.account, ss.sub.ID(), append(adds, store.ChangeExpunge{Mailbox: from, UIDs: res.Source, ModSeq: srcModSeq})...)
		return nil
	})
	if err != nil {
		return store.CopyResult{}, err
	}
	return res, nil
}
