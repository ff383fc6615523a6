package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

var _ store.ThreadKeeper = (*Session)(nil)

// assignThread gives the message just inserted as id its thread, the one
// store.ThreadKeeper describes, and records the message IDs it carries
// and refers to as keys of that thread (a key already taken keeps its
// thread). The caller holds the account's lock (lockAccount), so the
// account's threads are assigned one message at a time.
func assignThread(ctx context.Context, t *wtx, account store.AccountID, id store.EmailID, tr store.ThreadRefs) error {
	keys := tr.Keys()
	thread := store.ThreadID(id)
	if len(keys) > 0 {
		rows, err := t.Query(ctx, `SELECT msgid, thread FROM thread_key WHERE account = $1 AND msgid = ANY($2)`, account, keys)
		if err != nil {
			return fmt.Errorf("thread: %w", err)
		}
		found := map[string]store.ThreadID{}
		var k string
		var th int64
		if _, err := pgx.ForEachRow(rows, []any{&k, &th}, func() error {
			found[k] = store.ThreadID(th)
			return nil
		}); err != nil {
			return fmt.Errorf("thread: %w", err)
		}
		for _, k := range keys {
			if f, ok := found[k]; ok {
				thread = f
				break
			}
		}
	}
	if _, err := t.Exec(ctx, `UPDATE message SET thread = $1 WHERE id = $2`, int64(thread), int64(id)); err != nil {
		return fmt.Errorf("thread: %w", err)
	}
	if len(keys) > 0 {
		_, err := t.Exec(ctx, `INSERT INTO thread_key (account, msgid, thread) SELECT $1, k, $3 FROM unnest($2::text[]) AS k
			ON CONFLICT DO NOTHING`, account, keys, int64(thread))
		if err != nil {
			return fmt.Errorf("thread key: %w", err)
		}
	}
	return nil
}

// ThreadIDs returns the threads of messages (RFC 8474 §5.2; schema
// version 8, message.thread): 0 for NULL, a message stored before it.
func (ss *Session) ThreadIDs(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]store.ThreadID, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return nil, err
	}
	q, args := `SELECT uid, thread FROM message WHERE mailbox = $1`, []any{mailbox}
	if uids != nil {
		q, args = q+` AND uid = ANY($2)`, append(args, uidArray(normalizeUIDs(uids)))
	}
	rows, err := ss.s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := map[store.UID]store.ThreadID{}
	var uid int64
	var thread *int64
	_, err = pgx.ForEachRow(rows, []any{&uid, &thread}, func() error {
		var t store.ThreadID
		if thread != nil {
			t = store.ThreadID(*thread)
		}
		out[store.UID(uid)] = t
		return nil
	})
	return out, err
}
