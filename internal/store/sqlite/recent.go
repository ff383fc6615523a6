package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/postern/postern/internal/store"
)

// RFC 3501 §2.3.2 \Recent: the mailbox row keeps first_recent, the lowest
// UID no session has claimed. A claim moves it to UIDNEXT under the write
// lock, which is what makes two claims never overlap.

// ClaimRecent claims the unclaimed messages of a mailbox. When there is
// nothing to claim (the common case: a session told of a message another
// session already claimed), a read answers without a write transaction.
func (ss *Session) ClaimRecent(ctx context.Context, mailbox store.MailboxID) (store.UIDRange, error) {
	defer observe("claim_recent", time.Now())
	r, err := ss.UnclaimedRecent(ctx, mailbox)
	if err != nil || r.First >= r.Next {
		return r, err
	}
	err = ss.write(ctx, func(w *wtx) error {
		var err error
		if r, err = ss.unclaimed(ctx, w, mailbox); err != nil || r.First >= r.Next {
			return err
		}
		_, err = w.ExecContext(ctx, `UPDATE mailbox SET first_recent = uidnext WHERE id = ?`, mailbox)
		return err
	})
	if err != nil {
		return store.UIDRange{}, err
	}
	return r, nil
}

// UnclaimedRecent returns the range no session has claimed.
func (ss *Session) UnclaimedRecent(ctx context.Context, mailbox store.MailboxID) (store.UIDRange, error) {
	var r store.UIDRange
	err := ss.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = ss.unclaimed(ctx, tx, mailbox)
		return err
	})
	return r, err
}

func (ss *Session) unclaimed(ctx context.Context, q querier, mailbox store.MailboxID) (store.UIDRange, error) {
	if _, err := ss.mailboxByID(ctx, q, mailbox); err != nil {
		return store.UIDRange{}, err
	}
	var r store.UIDRange
	err := q.QueryRowContext(ctx, `SELECT first_recent, uidnext FROM mailbox WHERE id = ?`, mailbox).Scan(&r.First, &r.Next)
	return r, err
}
