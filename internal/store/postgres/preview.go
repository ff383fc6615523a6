package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

var _ store.PreviewKeeper = (*Session)(nil)

// Previews returns the kept previews of messages (RFC 8970; schema
// version 7, content.preview): NULL, for content stored before it, is
// left out.
func (ss *Session) Previews(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]string, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return nil, err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT m.uid, c.preview FROM message m JOIN content c ON c.id = m.content
		WHERE m.mailbox = $1 AND m.uid = ANY($2) AND c.preview IS NOT NULL`, mailbox, uidArray(normalizeUIDs(uids)))
	if err != nil {
		return nil, err
	}
	out := map[store.UID]string{}
	var uid int64
	var preview string
	_, err = pgx.ForEachRow(rows, []any{&uid, &preview}, func() error {
		out[store.UID(uid)] = preview
		return nil
	})
	return out, err
}

// KeepPreviews sets the preview of the content of messages that have
// none. Nothing is published: the message did not change.
func (ss *Session) KeepPreviews(ctx context.Context, mailbox store.MailboxID, previews map[store.UID]string) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil || len(previews) == 0 {
		return err
	}
	return ss.s.tx(ctx, func(t *wtx) error {
		for uid, p := range previews {
			_, err := t.Exec(ctx, `UPDATE content SET preview = $1
				WHERE preview IS NULL AND id = (SELECT content FROM message WHERE mailbox = $2 AND uid = $3)`, p, mailbox, int64(uid))
			if err != nil {
				return err
			}
		}
		return nil
	})
}
