package postgres

import (
	"context"

	"github.com/postern/postern/internal/store"
)

// RFC 3501 §2.3.2 \Recent: the mailbox row keeps first_recent, the lowest
// UID no session has claimed. A claim moves it to UIDNEXT under the row's
// lock, which is what makes two claims, on any nodes, never overlap.

// ClaimRecent claims the unclaimed messages of a mailbox.
func (ss *Session) ClaimRecent(ctx context.Context, mailbox store.MailboxID) (store.UIDRange, error) {
	var r store.UIDRange
	err := ss.tx(ctx, func(t *wtx) error {
		if _, err := ss.mailboxByID(ctx, t, mailbox, true); err != nil {
			return err
		}
		var first, next int64
		if err := t.QueryRow(ctx, `SELECT first_recent, uidnext FROM mailbox WHERE id = $1`, mailbox).Scan(&first, &next); err != nil {
			return err
		}
		r = store.UIDRange{First: store.UID(first), Next: store.UID(next)}
		if first >= next {
			return nil
		}
		_, err := t.Exec(ctx, `UPDATE mailbox SET first_recent = uidnext WHERE id = $1`, mailbox)
		return err
	})
	if err != nil {
		return store.UIDRange{}, err
	}
	return r, nil
}

// UnclaimedRecent returns the range no session has claimed.
func (ss *Session) UnclaimedRecent(ctx context.Context, mailbox store.MailboxID) (store.UIDRange, error) {
	if err := ss.checkOpen(); err != nil {
		return store.UIDRange{}, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return store.UIDRange{}, err
	}
	var first, next int64
	err := ss.s.pool.QueryRow(ctx, `SELECT first_recent, uidnext FROM mailbox WHERE id = $1`, mailbox).Scan(&first, &next)
	return store.UIDRange{First: store.UID(first), Next: store.UID(next)}, err
}
