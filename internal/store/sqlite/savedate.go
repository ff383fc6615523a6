package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.SaveDateKeeper = (*Session)(nil)

// savedRow is one message's save date as stored (schema version 18).
type savedRow struct {
	uid   store.UID
	saved sql.NullInt64
}

func scanSaved(rows *sql.Rows) (savedRow, store.UID, error) {
	var r savedRow
	err := rows.Scan(&r.uid, &r.saved)
	return r, r.uid, err
}

// SaveDates returns the save dates of messages (RFC 8514 §3): the column
// saved, NULL (the zero time) for a message stored before version 18.
func (ss *Session) SaveDates(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]time.Time, error) {
	defer observe("save_dates", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return nil, err
	}
	var rows []savedRow
	var err error
	if uids == nil {
		rows, err = selectAll(ctx, ss.s.rdb, `SELECT m.uid, m.saved FROM message m WHERE m.mailbox = ?`, mailbox)
	} else {
		rows, err = selectByUIDs(ctx, ss.s.rdb, `SELECT m.uid, m.saved FROM message m WHERE m.mailbox = ? AND %s`,
			mailbox, normalizeUIDs(uids), scanSaved)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[store.UID]time.Time, len(rows))
	for _, r := range rows {
		var t time.Time
		if r.saved.Valid {
			t = time.Unix(0, r.saved.Int64).UTC()
		}
		out[r.uid] = t
	}
	return out, nil
}

// selectAll reads the save date of every message of a mailbox.
func selectAll(ctx context.Context, q querier, query string, mailbox store.MailboxID) ([]savedRow, error) {
	rs, err := q.QueryContext(ctx, query, mailbox)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []savedRow
	for rs.Next() {
		r, _, err := scanSaved(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}
