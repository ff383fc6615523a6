package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.ThreadKeeper = (*Session)(nil)

// threadVersion is the schema version that added message.thread.
const threadVersion = 22

// assignThread gives the message just inserted as id its thread, the one
// store.ThreadKeeper describes, and records the message IDs it carries
// and refers to as keys of that thread (a key already taken keeps its
// thread: threads are never merged).
func assignThread(ctx context.Context, w *wtx, account store.AccountID, id store.EmailID, tr store.ThreadRefs) error {
	keys := tr.Keys()
	thread, err := lookupThread(ctx, w, account, keys)
	if err != nil {
		return fmt.Errorf("thread: %w", err)
	}
	if thread == 0 {
		thread = store.ThreadID(id)
	}
	if _, err := w.ExecContext(ctx, `UPDATE message SET thread = ? WHERE id = ?`, thread, id); err != nil {
		return fmt.Errorf("thread: %w", err)
	}
	for _, k := range keys {
		if _, err := w.ExecContext(ctx, `INSERT OR IGNORE INTO thread_key (account, msgid, thread) VALUES (?, ?, ?)`, account, k, thread); err != nil {
			return fmt.Errorf("thread key: %w", err)
		}
	}
	return nil
}

// lookupThread returns the thread of the first of keys the account has a
// thread for, or 0.
func lookupThread(ctx context.Context, q querier, account store.AccountID, keys []string) (store.ThreadID, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	args := []any{account}
	for _, k := range keys {
		args = append(args, k)
	}
	rows, err := q.QueryContext(ctx, `SELECT msgid, thread FROM thread_key WHERE account = ? AND msgid IN (?`+
		strings.Repeat(`, ?`, len(keys)-1)+`)`, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	found := map[string]store.ThreadID{}
	for rows.Next() {
		var k string
		var t store.ThreadID
		if err := rows.Scan(&k, &t); err != nil {
			return 0, err
		}
		found[k] = t
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if t, ok := found[k]; ok {
			return t, nil
		}
	}
	return 0, nil
}

// ThreadIDs returns the threads of messages (RFC 8474 §5.2; schema
// version 22, message.thread): 0 for NULL, a message stored before it.
func (ss *Session) ThreadIDs(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]store.ThreadID, error) {
	defer observe("thread_ids", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return nil, err
	}
	type row struct {
		uid    store.UID
		thread sql.NullInt64
	}
	scan := func(rs *sql.Rows) (row, store.UID, error) {
		var r row
		err := rs.Scan(&r.uid, &r.thread)
		return r, r.uid, err
	}
	var rows []row
	var err error
	if uids == nil {
		rows, err = selectMailbox(ctx, ss.s.rdb, `SELECT m.uid, m.thread FROM message m WHERE m.mailbox = ?`, mailbox, scan)
	} else {
		rows, err = selectByUIDs(ctx, ss.s.rdb, `SELECT m.uid, m.thread FROM message m WHERE m.mailbox = ? AND %s`,
			mailbox, normalizeUIDs(uids), scan)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[store.UID]store.ThreadID, len(rows))
	for _, r := range rows {
		out[r.uid] = store.ThreadID(r.thread.Int64)
	}
	return out, nil
}

// selectMailbox reads query's rows for every message of a mailbox.
func selectMailbox[T any](ctx context.Context, q querier, query string, mailbox store.MailboxID,
	scan func(*sql.Rows) (T, store.UID, error)) ([]T, error) {
	rs, err := q.QueryContext(ctx, query, mailbox)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []T
	for rs.Next() {
		r, _, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}
