package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

var _ store.RetrievalKeeper = (*Store)(nil)

// MarkRetrieved records the first POP3 retrieval of messages: only rows
// still at 0 take the time. No MODSEQ changes and nothing is published.
func (s *Store) MarkRetrieved(ctx context.Context, account store.AccountID, mailbox store.MailboxID, uids []store.UID, at time.Time) error {
	if at.UnixNano() <= 0 {
		return fmt.Errorf("mark retrieved: time %v is not after 1970", at)
	}
	uids = normalizeUIDs(uids)
	return s.tx(ctx, func(t *wtx) error {
		if err := checkMailboxOf(ctx, t, account, mailbox); err != nil || len(uids) == 0 {
			return err
		}
		_, err := t.Exec(ctx, `UPDATE message SET retrieved = $1 WHERE mailbox = $2 AND uid = ANY($3) AND retrieved = 0`,
			at.UnixNano(), mailbox, uidArray(uids))
		return err
	})
}

// ExpireRetrieved expunges the messages of mailbox first retrieved before
// the given time, foreign content excepted, in one transaction under the
// mailbox's lock.
func (s *Store) ExpireRetrieved(ctx context.Context, account store.AccountID, mailbox store.MailboxID, before time.Time) ([]store.UID, error) {
	var removed []store.UID
	err := s.tx(ctx, func(t *wtx) error {
		removed = nil
		if err := checkMailboxOf(ctx, t, account, mailbox); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `SELECT 1 FROM mailbox WHERE id = $1 FOR UPDATE`, mailbox); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT m.uid FROM message m JOIN content c ON c.id = m.content
			WHERE m.mailbox = $1 AND m.retrieved > 0 AND m.retrieved < $2 AND NOT c.is_foreign
			ORDER BY m.uid`, mailbox, before.UnixNano())
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
		// No session to skip: every session of the account hears of it.
		t.publish(account, 0, store.ChangeExpunge{Mailbox: mailbox, UIDs: removed, ModSeq: modseq})
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
	err := q.QueryRow(ctx, `SELECT 1 FROM mailbox WHERE id = $1 AND account = $2`, mailbox, account).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("mailbox %d: %w", mailbox, store.ErrNoSuchMailbox)
	}
	return err
}
