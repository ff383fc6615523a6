package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

var _ store.SaveDateKeeper = (*Session)(nil)

// SaveDates returns the save dates of messages (RFC 8514 §3): the column
// saved, NULL (the zero time) for a message stored before schema
// version 5.
func (ss *Session) SaveDates(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]time.Time, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return nil, err
	}
	q, args := `SELECT uid, saved FROM message WHERE mailbox = $1`, []any{mailbox}
	if uids != nil {
		q, args = q+` AND uid = ANY($2)`, append(args, uidArray(normalizeUIDs(uids)))
	}
	rows, err := ss.s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := map[store.UID]time.Time{}
	var uid int64
	var saved *int64
	_, err = pgx.ForEachRow(rows, []any{&uid, &saved}, func() error {
		var t time.Time
		if saved != nil {
			t = time.Unix(0, *saved).UTC()
		}
		out[store.UID(uid)] = t
		return nil
	})
	return out, err
}
