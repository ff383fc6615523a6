package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.RetrievalKeeper = (*Store)(nil)

// MarkRetrieved records the first POP3 retrieval of messages (schema
// version 8, column retrieved): only rows still at 0 take the time, so a
// later retrieval keeps the first. No MODSEQ changes and nothing is
// published: IMAP sees nothing of it.
func (s *Store) MarkRetrieved(ctx context.Context, account store.AccountID, mailbox store.MailboxID, uids []store.UID, at time.Time) error {
	defer observe("mark_retrieved", time.Now())
	if at.UnixNano() <= 0 {
		return fmt.Errorf("mark retrieved: time %v is not after 1970", at)
	}
	uids = normalizeUIDs(uids)
	return s.write(ctx, func(w *wtx) error {
		if err := checkMailboxOf(ctx, w, account, mailbox); err != nil || len(uids) == 0 {
			return err
		}
		upd, err := w.PrepareContext(ctx, `UPDATE message SET retrieved = ? WHERE mailbox = ? AND uid = ? AND retrieved = 0`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, u := range uids {
			if _, err := upd.ExecContext(ctx, at.UnixNano(), mailbox, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// ExpireRetrieved expunges the messages of mailbox first retrieved before
// the given time, foreign content excepted, in one write transaction: the
// selection and the expunge see the same rows, so a message moved away or
// expunged meanwhile is neither removed nor reported.
func (s *Store) ExpireRetrieved(ctx context.Context, account store.AccountID, mailbox store.MailboxID, before time.Time) ([]store.UID, error) {
	defer observe("expire_retrieved", time.Now())
	var removed []store.UID
	err := s.write(ctx, func(w *wtx) error {
		removed = nil
		if err := checkMailboxOf(ctx, w, account, mailbox); err != nil {
			return err
		}
		var err error
		removed, err = queryUIDList(ctx, w, `SELECT m.uid FROM message m JOIN content c ON c.id = m.content
			WHERE m.mailbox = ? AND m.retrieved > 0 AND m.retrieved < ? AND NOT c.is_foreign
			ORDER BY m.uid`, mailbox, before.UnixNano())
		if err != nil || len(removed) == 0 {
			return err
		}
		modseq, err := w.bumpModSeq(ctx, mailbox)
		if err != nil {
			return err
		}
		if err := w.expunge(ctx, mailbox, removed, modseq); err != nil {
			return err
		}
		// No session to skip: every session of the account hears of it,
		// the caller's own included.
		w.publish(account, 0, store.ChangeExpunge{Mailbox: mailbox, UIDs: removed, ModSeq: modseq})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// checkMailboxOf fails with store.ErrNoSuchMailbox unless the mailbox is
// one of the account's.
func checkMailboxOf(ctx context.Context, q querier, account store.AccountID, mailbox store.MailboxID) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM mailbox WHERE id = ? AND account = ?`, mailbox, account).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mailbox %d: %w", mailbox, store.ErrNoSuchMailbox)
	}
	return err
}
