package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

var (
	_ store.IdentityImporter = (*Session)(nil)
	_ store.UIDLKeeper       = (*Session)(nil)
)

// SetMailboxIdentity gives an empty mailbox the source's UIDVALIDITY
// (store.IdentityImporter). The mailbox row keeps its ID; its expunge log
// is emptied (the UIDs it names belong to the old UIDVALIDITY) and its
// floor raised to the new HIGHESTMODSEQ, so that QRESYNC answers a client
// holding an older MODSEQ in full.
func (ss *Session) SetMailboxIdentity(ctx context.Context, mailbox store.MailboxID, uidValidity uint32, modSeqFloor store.ModSeq) (store.Mailbox, error) {
	defer observe("set_mailbox_identity", time.Now())
	if uidValidity == 0 {
		// RFC 9051 §9: uidvalidity is a nz-number.
		return store.Mailbox{}, fmt.Errorf("set mailbox identity: UIDVALIDITY 0: %w", store.ErrNotAllowed)
	}
	var mb store.Mailbox
	err := ss.write(ctx, func(w *wtx) error {
		m, err := ss.mailboxByID(ctx, w, mailbox)
		if err != nil {
			return err
		}
		var n int
		if err := w.QueryRowContext(ctx, `SELECT count(*) FROM message WHERE mailbox = ?`, mailbox).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("set identity of mailbox %q (%d messages): %w", m.Name, n, store.ErrNotEmpty)
		}
		if _, err := w.ExecContext(ctx, `DELETE FROM expunged WHERE mailbox = ?`, mailbox); err != nil {
			return err
		}
		_, err = w.ExecContext(ctx, `UPDATE mailbox SET uidvalidity = ?1, uidnext = 1, first_recent = 1,
			highestmodseq = max(highestmodseq, ?2), expunge_floor = max(highestmodseq, ?2) WHERE id = ?3`,
			uidValidity, int64(modSeqFloor), mailbox)
		if err != nil {
			return err
		}
		w.touch(mailbox)
		m, err = ss.mailboxByID(ctx, w, mailbox)
		mb = m.Mailbox
		return err
	})
	return mb, err
}

// AppendIdentified appends messages with the UIDs and POP3 unique-ids
// they ask for (store.IdentityImporter), through the path of Append.
func (ss *Session) AppendIdentified(ctx context.Context, mailbox store.MailboxID, reqs ...store.IdentifiedAppend) ([]store.AppendResult, error) {
	defer observe("append_identified", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	plain := make([]store.AppendRequest, len(reqs))
	for i, r := range reqs {
		if r.POP3UIDL != "" && !store.ValidUIDL(r.POP3UIDL) {
			return nil, fmt.Errorf("append: POP3 unique-id %q: %w", r.POP3UIDL, store.ErrInvalidName)
		}
		plain[i] = r.AppendRequest
	}
	// Fail fast, before reading any content: a resumed import meets its
	// messages again. The transaction checks again.
	if err := ss.appendPrecheck(ctx, mailbox, plain); err != nil {
		return nil, err
	}
	if err := ss.uidPrecheck(ctx, mailbox, reqs); err != nil {
		return nil, err
	}
	var results []store.AppendResult
	err := ss.spoolAndIndex(ctx, plain, func(w *wtx, spool []*spooled) error {
		for i, sp := range spool {
			sp.uid, sp.uidl = reqs[i].UID, reqs[i].POP3UIDL
		}
		var err error
		if results, err = ss.index(ctx, w, mailbox, spool); err != nil {
			return err
		}
		// Not recent (RFC 3501 §2.3.2): claimed at once, unless messages
		// before them are still unclaimed (recency is one range).
		_, err = w.ExecContext(ctx, `UPDATE mailbox SET first_recent = uidnext WHERE id = ?1 AND NOT EXISTS
			(SELECT 1 FROM message m WHERE m.mailbox = ?1 AND m.uid >= mailbox.first_recent AND m.uid < ?2)`,
			mailbox, int64(results[0].UID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return results, nil
}

// uidPrecheck runs assignUIDs on the read pool, before any content is
// read.
func (ss *Session) uidPrecheck(ctx context.Context, mailbox store.MailboxID, reqs []store.IdentifiedAppend) error {
	mb, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox)
	if err != nil {
		return err
	}
	spool := make([]*spooled, len(reqs))
	for i, r := range reqs {
		spool[i] = &spooled{uid: r.UID}
	}
	_, err = assignUIDs(ctx, ss.s.rdb, mb, spool)
	return err
}

// RaiseUIDNext raises a mailbox's UIDNEXT (store.IdentityImporter). No
// MODSEQ changes: no message did.
func (ss *Session) RaiseUIDNext(ctx context.Context, mailbox store.MailboxID, next store.UID) (store.Mailbox, error) {
	defer observe("raise_uidnext", time.Now())
	var mb store.Mailbox
	err := ss.write(ctx, func(w *wtx) error {
		if _, err := ss.mailboxByID(ctx, w, mailbox); err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, `UPDATE mailbox SET uidnext = max(uidnext, ?) WHERE id = ?`, int64(next), mailbox); err != nil {
			return err
		}
		w.touch(mailbox)
		m, err := ss.mailboxByID(ctx, w, mailbox)
		mb = m.Mailbox
		return err
	})
	return mb, err
}

// POP3UIDLs lists the kept POP3 unique-ids of a mailbox (store.UIDLKeeper).
func (ss *Session) POP3UIDLs(ctx context.Context, mailbox store.MailboxID, fn func(store.UID, string) error) error {
	defer observe("pop3_uidls", time.Now())
	return ss.read(ctx, func(tx *sql.Tx) error {
		if _, err := ss.mailboxByID(ctx, tx, mailbox); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT uid, pop3_uidl FROM message WHERE mailbox = ? AND pop3_uidl IS NOT NULL ORDER BY uid`, mailbox)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				u    store.UID
				uidl string
			)
			if err := rows.Scan(&u, &uidl); err != nil {
				return err
			}
			if err := fn(u, uidl); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
