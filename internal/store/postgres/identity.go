package postgres

import (
	"context"
	"fmt"

	"github.com/postern/postern/internal/store"
)

var (
	_ store.IdentityImporter = (*Session)(nil)
	_ store.UIDLKeeper       = (*Session)(nil)
)

// SetMailboxIdentity gives an empty mailbox the source's UIDVALIDITY: its
// expunge log is emptied and its floor raised to the new HIGHESTMODSEQ.
func (ss *Session) SetMailboxIdentity(ctx context.Context, mailbox store.MailboxID, uidValidity uint32, modSeqFloor store.ModSeq) (store.Mailbox, error) {
	if uidValidity == 0 {
		// RFC 9051 §9: uidvalidity is a nz-number.
		return store.Mailbox{}, fmt.Errorf("set mailbox identity: UIDVALIDITY 0: %w", store.ErrNotAllowed)
	}
	var mb store.Mailbox
	err := ss.tx(ctx, func(t *wtx) error {
		m, err := ss.mailboxByID(ctx, t, mailbox, true)
		if err != nil {
			return err
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM message WHERE mailbox = $1`, mailbox).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("set identity of mailbox %q (%d messages): %w", m.Name, n, store.ErrNotEmpty)
		}
		if _, err := t.Exec(ctx, `DELETE FROM expunged WHERE mailbox = $1`, mailbox); err != nil {
			return err
		}
		_, err = t.Exec(ctx, `UPDATE mailbox SET uidvalidity = $1, uidnext = 1, first_recent = 1,
			highestmodseq = greatest(highestmodseq, $2), expunge_floor = greatest(highestmodseq, $2) WHERE id = $3`,
			int64(uidValidity), int64(modSeqFloor), mailbox)
		if err != nil {
			return err
		}
		m, err = ss.mailboxByID(ctx, t, mailbox, false)
		mb = m.Mailbox
		return err
	})
	return mb, err
}

// AppendIdentified appends messages with the UIDs and POP3 unique-ids
// they ask for, through the path of Append; they are not \Recent.
func (ss *Session) AppendIdentified(ctx context.Context, mailbox store.MailboxID, reqs ...store.IdentifiedAppend) ([]store.AppendResult, error) {
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
	mb, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false)
	if err != nil {
		return nil, err
	}
	pre := make([]*spooled, len(reqs))
	for i, r := range reqs {
		pre[i] = &spooled{uid: r.UID}
	}
	if _, err := assignUIDs(ctx, ss.s.pool, mb, pre); err != nil {
		return nil, err
	}
	var results []store.AppendResult
	err = ss.spoolAndIndex(ctx, plain, func(t *wtx, spool []*spooled) error {
		for i, sp := range spool {
			sp.uid, sp.uidl = reqs[i].UID, reqs[i].POP3UIDL
		}
		var err error
		if results, err = ss.index(ctx, t, mailbox, spool); err != nil {
			return err
		}
		// Not recent (RFC 3501 §2.3.2): claimed at once, unless messages
		// before them are still unclaimed (recency is one range).
		_, err = t.Exec(ctx, `UPDATE mailbox SET first_recent = uidnext WHERE id = $1 AND NOT EXISTS
			(SELECT 1 FROM message m WHERE m.mailbox = $1 AND m.uid >= mailbox.first_recent AND m.uid < $2)`,
			mailbox, int64(results[0].UID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return results, nil
}

// RaiseUIDNext raises a mailbox's UIDNEXT. No MODSEQ changes: no message
// did.
func (ss *Session) RaiseUIDNext(ctx context.Context, mailbox store.MailboxID, next store.UID) (store.Mailbox, error) {
	var mb store.Mailbox
	err := ss.tx(ctx, func(t *wtx) error {
		if _, err := ss.mailboxByID(ctx, t, mailbox, true); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `UPDATE mailbox SET uidnext = greatest(uidnext, $1) WHERE id = $2`, int64(next), mailbox); err != nil {
			return err
		}
		m, err := ss.mailboxByID(ctx, t, mailbox, false)
		mb = m.Mailbox
		return err
	})
	return mb, err
}

// POP3UIDLs calls fn for each message of the mailbox with a kept
// unique-id, in ascending UID order.
func (ss *Session) POP3UIDLs(ctx context.Context, mailbox store.MailboxID, fn func(store.UID, string) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT uid, pop3_uidl FROM message WHERE mailbox = $1 AND pop3_uidl IS NOT NULL ORDER BY uid`, mailbox)
	if err != nil {
		return err
	}
	type kept struct {
		uid  int64
		uidl string
	}
	var got []kept
	for rows.Next() {
		var k kept
		if err := rows.Scan(&k.uid, &k.uidl); err != nil {
			rows.Close()
			return err
		}
		got = append(got, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range got {
		if err := fn(store.UID(k.uid), k.uidl); err != nil {
			return err
		}
	}
	return nil
}
