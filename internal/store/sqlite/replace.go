package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.Replacer = (*Session)(nil)

// Replace appends req to mailbox and expunges message uid of from in one
// write transaction (RFC 8508 §3.4): other sessions see both changes or
// neither. The old message is removed first within the transaction, so
// that the quota check of the append sees only the net change.
func (ss *Session) Replace(ctx context.Context, mailbox store.MailboxID, req store.AppendRequest, from store.MailboxID, uid store.UID) (store.AppendResult, error) {
	defer observe("replace", time.Now())
	if err := ss.checkOpen(); err != nil {
		return store.AppendResult{}, err
	}
	// Fail fast, before reading any content. The transaction checks again.
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return store.AppendResult{}, err
	}
	var res store.AppendResult
	err := ss.spoolAndIndex(ctx, []store.AppendRequest{req}, func(w *wtx, spool []*spooled) error {
		if err := ss.expungeOne(ctx, w, from, uid); err != nil {
			return err
		}
		results, err := ss.index(ctx, w, mailbox, spool)
		if err != nil {
			return err
		}
		res = results[0]
		return nil
	})
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("replace: %w", err)
	}
	return res, nil
}

// expungeOne removes message uid of mailbox in w, logging it with a new
// MODSEQ; store.ErrNoSuchMessage when it is not there.
func (ss *Session) expungeOne(ctx context.Context, w *wtx, mailbox store.MailboxID, uid store.UID) error {
	if _, err := ss.mailboxByID(ctx, w, mailbox); err != nil {
		return err
	}
	var one int
	err := w.QueryRowContext(ctx, `SELECT 1 FROM message WHERE mailbox = ? AND uid = ?`, mailbox, uid).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("message %d: %w", uid, store.ErrNoSuchMessage)
	} else if err != nil {
		return err
	}
	modseq, err := w.bumpModSeq(ctx, mailbox)
	if err != nil {
		return err
	}
	if err := w.expunge(ctx, mailbox, []store.UID{uid}, modseq); err != nil {
		return err
	}
	w.publish(ss.account, ss.sub.ID(), store.ChangeExpunge{Mailbox: mailbox, UIDs: []store.UID{uid}, ModSeq: modseq})
	return nil
}
