package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.PreviewKeeper = (*Session)(nil)

// previewVersion is the schema version that added content.preview.
const previewVersion = 21

// Previews returns the kept previews of messages (RFC 8970; schema
// version 21, content.preview): NULL, for content stored before it, is
// left out.
func (ss *Session) Previews(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]string, error) {
	defer observe("previews", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return nil, err
	}
	type row struct {
		uid     store.UID
		preview sql.NullString
	}
	rows, err := selectByUIDs(ctx, ss.s.rdb, `SELECT m.uid, c.preview FROM message m JOIN content c ON c.id = m.content WHERE m.mailbox = ? AND %s`,
		mailbox, normalizeUIDs(uids), func(rs *sql.Rows) (row, store.UID, error) {
			var r row
			err := rs.Scan(&r.uid, &r.preview)
			return r, r.uid, err
		})
	if err != nil {
		return nil, err
	}
	out := make(map[store.UID]string, len(rows))
	for _, r := range rows {
		if r.preview.Valid {
			out[r.uid] = r.preview.String
		}
	}
	return out, nil
}

// KeepPreviews sets the preview of the content of messages that have
// none. Nothing is published: the message did not change.
func (ss *Session) KeepPreviews(ctx context.Context, mailbox store.MailboxID, previews map[store.UID]string) error {
	defer observe("keep_previews", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil || len(previews) == 0 {
		return err
	}
	return ss.write(ctx, func(w *wtx) error {
		upd, err := w.PrepareContext(ctx, `UPDATE content SET preview = ?
			WHERE preview IS NULL AND id = (SELECT content FROM message WHERE mailbox = ? AND uid = ?)`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for uid, p := range previews {
			if _, err := upd.ExecContext(ctx, p, mailbox, uid); err != nil {
				return err
			}
		}
		return nil
	})
}
