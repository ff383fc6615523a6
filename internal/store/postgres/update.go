package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

// maxUID is the largest UID (RFC 9051 §2.3.1.1: a 32-bit value).
const maxUID = 1<<32 - 1

// StoreFlags changes the flags of messages, decided from the stored flags
// after the mailbox row is locked: in READ COMMITTED each statement then
// sees every commit before the lock, on every node.
func (ss *Session) StoreFlags(ctx context.Context, mailbox store.MailboxID, uids []store.UID, req store.FlagRequest) (store.FlagResult, error) {
	flags, err := store.CanonicalFlags(req.Flags)
	if err != nil {
		return store.FlagResult{}, err
	}
	uids = normalizeUIDs(uids)
	var res store.FlagResult
	err = ss.tx(ctx, func(t *wtx) error {
		if _, err := ss.mailboxByID(ctx, t, mailbox, true); err != nil {
			return err
		}
		if res, err = ss.decideFlags(ctx, t, mailbox, uids, req, flags); err != nil || len(res.Changed) == 0 {
			return err
		}
		return ss.writeFlags(ctx, t, mailbox, res.Changed)
	})
	if err != nil {
		return store.FlagResult{}, err
	}
	return res, nil
}

// decideFlags sorts the messages of uids into those the request changes
// (with their new flags, MODSEQ not yet raised), those it leaves as they
// are, and those failing UnchangedSince (RFC 7162 §3.1.3).
func (ss *Session) decideFlags(ctx context.Context, q querier, mailbox store.MailboxID, uids []store.UID, req store.FlagRequest, flags store.Flags) (store.FlagResult, error) {
	var res store.FlagResult
	rows, err := q.Query(ctx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = $1 AND m.uid = ANY($2) ORDER BY m.uid`,
		mailbox, uidArray(uids))
	if err != nil {
		return res, err
	}
	defer rows.Close()
	for rows.Next() {
		mi, err := scanInfo(rows)
		if err != nil {
			return res, err
		}
		if req.UnchangedSince != 0 && mi.ModSeq > req.UnchangedSince {
			res.Failed = append(res.Failed, mi.UID)
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
	return res, rows.Err()
}

// writeFlags stores the new flags of changed under one new MODSEQ, which
// it sets in changed, and queues their ChangeFlags.
func (ss *Session) writeFlags(ctx context.Context, t *wtx, mailbox store.MailboxID, changed []store.MessageInfo) error {
	modseq, err := t.bumpModSeq(ctx, mailbox)
	if err != nil {
		return err
	}
	chs := make([]store.Change, 0, len(changed))
	for i := range changed {
		mi := &changed[i]
		mi.ModSeq = modseq
		_, err := t.Exec(ctx, `UPDATE message SET flags = $1, seen = $2, deleted = $3, modseq = $4 WHERE mailbox = $5 AND uid = $6`,
			flagArray(mi.Flags), mi.Flags.Has(store.FlagSeen), mi.Flags.Has(store.FlagDeleted), int64(modseq), mailbox, int64(mi.UID))
		if err != nil {
			return err
		}
		chs = append(chs, store.ChangeFlags{Mailbox: mailbox, UID: mi.UID, ModSeq: modseq, Flags: mi.Flags})
	}
	ss.publish(t, chs...)
	return nil
}

// flagArray is a flag list as a text[] argument (never NULL).
func flagArray(f store.Flags) []string {
	if f == nil {
		return []string{}
	}
	return f
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

// sameFlags compares two canonical flag lists case-insensitively.
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
// Their bodies stay until Reclaim.
func (ss *Session) Expunge(ctx context.Context, mailbox store.MailboxID, uids []store.UID) ([]store.UID, error) {
	return ss.expungeWhere(ctx, mailbox, uids, false)
}

// ExpungeDeleted removes those of uids whose stored flags hold \Deleted
// when the transaction runs.
func (ss *Session) ExpungeDeleted(ctx context.Context, mailbox store.MailboxID, uids []store.UID) ([]store.UID, error) {
	return ss.expungeWhere(ctx, mailbox, uids, true)
}

func (ss *Session) expungeWhere(ctx context.Context, mailbox store.MailboxID, uids []store.UID, deletedOnly bool) ([]store.UID, error) {
	uids = normalizeUIDs(uids)
	var removed []store.UID
	err := ss.tx(ctx, func(t *wtx) error {
		removed = nil
		if _, err := ss.mailboxByID(ctx, t, mailbox, true); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT uid FROM message WHERE mailbox = $1 AND uid = ANY($2) AND (deleted OR NOT $3) ORDER BY uid`,
			mailbox, uidArray(uids), deletedOnly)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u int64
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			removed = append(removed, store.UID(u))
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(removed) == 0 {
			return err
		}
		modseq, err := t.bumpModSeq(ctx, mailbox)
		if err != nil {
			return err
		}
		if err := t.expunge(ctx, mailbox, removed, modseq); err != nil {
			return err
		}
		ss.publish(t, store.ChangeExpunge{Mailbox: mailbox, UIDs: removed, ModSeq: modseq})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// expunge deletes the message rows and logs their UIDs.
func (t *wtx) expunge(ctx context.Context, mailbox store.MailboxID, uids []store.UID, modseq store.ModSeq) error {
	if _, err := t.Exec(ctx, `DELETE FROM message WHERE mailbox = $1 AND uid = ANY($2)`, mailbox, uidArray(uids)); err != nil {
		return err
	}
	return t.logExpunged(ctx, mailbox, uids, modseq)
}

// logExpunged records uids as expunged from mailbox at modseq.
func (t *wtx) logExpunged(ctx context.Context, mailbox store.MailboxID, uids []store.UID, modseq store.ModSeq) error {
	_, err := t.Exec(ctx, `INSERT INTO expunged (mailbox, uid, modseq, at) SELECT $1, u, $2, $3 FROM unnest($4::bigint[]) AS u
		ON CONFLICT (mailbox, uid) DO UPDATE SET modseq = excluded.modseq, at = excluded.at`,
		mailbox, int64(modseq), t.s.now().UnixNano(), uidArray(uids))
	return err
}

// copyRow is what Copy and Move read of a source message.
type copyRow struct {
	info    store.MessageInfo
	content int64
}

// transfer locks the mailboxes of a Copy or Move (in ID order, so that
// two transfers never deadlock), reads the source messages and reserves
// UIDs for them in the destination.
func (ss *Session) transfer(ctx context.Context, t *wtx, from store.MailboxID, uids []store.UID, to store.MailboxID) ([]copyRow, mailboxRow, error) {
	first, second := min(from, to), max(from, to)
	m1, err := ss.mailboxByID(ctx, t, first, true)
	if err != nil {
		return nil, m1, err
	}
	dst := m1
	if second != first {
		m2, err := ss.mailboxByID(ctx, t, second, true)
		if err != nil {
			return nil, m2, err
		}
		if to == second {
			dst = m2
		}
	}
	rows, err := t.Query(ctx, `SELECT `+infoColumns+`, m.content FROM message m WHERE m.mailbox = $1 AND m.uid = ANY($2) ORDER BY m.uid`,
		from, uidArray(normalizeUIDs(uids)))
	if err != nil {
		return nil, dst, err
	}
	var out []copyRow
	for rows.Next() {
		var r copyRow
		if r.info, err = scanInfo(rows, &r.content); err != nil {
			rows.Close()
			return nil, dst, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return nil, dst, err
	}
	if int64(dst.UIDNext)+int64(len(out))-1 > maxUID {
		return nil, dst, fmt.Errorf("mailbox %q: UIDs exhausted: %w", dst.Name, store.ErrNotAllowed)
	}
	_, err = t.Exec(ctx, `UPDATE mailbox SET uidnext = uidnext + $1 WHERE id = $2`, len(out), to)
	return out, dst, err
}

// Copy copies messages, sharing their bodies: each copy is a new message
// row (a new EmailID) referring to the same content row.
func (ss *Session) Copy(ctx context.Context, from store.MailboxID, uids []store.UID, to store.MailboxID) (store.CopyResult, error) {
	var res store.CopyResult
	err := ss.tx(ctx, func(t *wtx) error {
		if err := ss.lockAccount(ctx, t); err != nil {
			return err
		}
		rows, dst, err := ss.transfer(ctx, t, from, uids, to)
		res = store.CopyResult{UIDValidity: dst.UIDValidity}
		if err != nil || len(rows) == 0 {
			return err
		}
		var octets int64
		for _, r := range rows {
			octets += r.info.Size
		}
		if err := t.checkQuota(ctx, ss.account, octets, int64(len(rows))); err != nil {
			return err
		}
		modseq, err := t.bumpModSeq(ctx, to)
		if err != nil {
			return err
		}
		chs := make([]store.Change, 0, len(rows))
		for i, r := range rows {
			mi := r.info
			mi.UID = dst.UIDNext + store.UID(i)
			mi.ModSeq = modseq
			// RFC 8514 §3: a copy is saved in its mailbox now.
			// The copy is in its original's thread (store.ThreadKeeper).
			err := t.QueryRow(ctx, `INSERT INTO message (mailbox, uid, modseq, flags, seen, deleted, internal_date, internal_zone, size, content, saved, thread)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, (SELECT thread FROM message WHERE mailbox = $12 AND uid = $13)) RETURNING id`,
				to, int64(mi.UID), int64(modseq), flagArray(mi.Flags),
				mi.Flags.Has(store.FlagSeen), mi.Flags.Has(store.FlagDeleted), sqlrow.TimeToInt(mi.InternalDate), zoneOf(mi.InternalDate),
				mi.Size, r.content, ss.s.now().UnixNano(), from, int64(r.info.UID)).Scan(&mi.EmailID)
			if err != nil {
				return err
			}
			res.Source = append(res.Source, r.info.UID)
			res.Dest = append(res.Dest, mi.UID)
			chs = append(chs, store.ChangeAdd{Mailbox: to, Info: mi})
		}
		ss.publish(t, chs...)
		return nil
	})
	if err != nil {
		return store.CopyResult{}, err
	}
	return res, nil
}

// Move moves messages atomically: each message row goes to the
// destination with a new UID, keeping its EmailID and body, and its old
// UID is logged as expunged in the source (RFC 6851).
func (ss *Session) Move(ctx context.Context, from store.MailboxID, uids []store.UID, to store.MailboxID) (store.CopyResult, error) {
	var res store.CopyResult
	err := ss.tx(ctx, func(t *wtx) error {
		rows, dst, err := ss.transfer(ctx, t, from, uids, to)
		res = store.CopyResult{UIDValidity: dst.UIDValidity}
		if err != nil || len(rows) == 0 {
			return err
		}
		srcModSeq, err := t.bumpModSeq(ctx, from)
		if err != nil {
			return err
		}
		dstModSeq := srcModSeq
		if to != from {
			if dstModSeq, err = t.bumpModSeq(ctx, to); err != nil {
				return err
			}
		}
		adds := make([]store.Change, 0, len(rows)+1)
		for i, r := range rows {
			mi := r.info
			mi.UID = dst.UIDNext + store.UID(i)
			mi.ModSeq = dstModSeq
			// The import key travels with the message unless the
			// destination already holds one with the same key.
			// RFC 8514 §3: a moved message is saved in its new mailbox now.
			_, err := t.Exec(ctx, `UPDATE message SET mailbox = $1, uid = $2, modseq = $3, saved = $5,
				import_key = CASE WHEN EXISTS (SELECT 1 FROM message o WHERE o.mailbox = $1 AND o.import_key = message.import_key AND o.id <> message.id)
					THEN NULL ELSE import_key END
				WHERE id = $4`, to, int64(mi.UID), int64(dstModSeq), mi.EmailID, ss.s.now().UnixNano())
			if err != nil {
				return err
			}
			res.Source = append(res.Source, r.info.UID)
			res.Dest = append(res.Dest, mi.UID)
			adds = append(adds, store.ChangeAdd{Mailbox: to, Info: mi})
		}
		if err := t.logExpunged(ctx, from, res.Source, srcModSeq); err != nil {
			return err
		}
		// Arrival first, then departure: no session ever sees the message
		// gone from both.
		ss.publish(t, append(adds, store.ChangeExpunge{Mailbox: from, UIDs: res.Source, ModSeq: srcModSeq})...)
		return nil
	})
	if err != nil {
		return store.CopyResult{}, err
	}
	return res, nil
}

// zoneOf returns the offset of t's zone in seconds east of UTC.
func zoneOf(t time.Time) int32 {
	_, off := t.Zone()
	return int32(off)
}
