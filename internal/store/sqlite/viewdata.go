package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.ViewDataLister = (*Session)(nil)

// ViewDataUIDs lists the messages of a mailbox whose content has an
// OpenVMS envelope or is foreign. The filter runs inside SQLite, so the
// mailbox's other messages cost a content row lookup each and no row
// returned (issue 15).
func (ss *Session) ViewDataUIDs(ctx context.Context, mailbox store.MailboxID) ([]store.UID, error) {
	defer observe("view_data_uids", time.Now())
	var uids []store.UID
	err := ss.read(ctx, func(tx *sql.Tx) error {
		if _, err := ss.mailboxByID(ctx, tx, mailbox); err != nil {
			return err
		}
		var err error
		uids, err = queryUIDList(ctx, tx, `SELECT m.uid FROM message m JOIN content c ON c.id = m.content
			WHERE m.mailbox = ? AND (c.vms IS NOT NULL OR c.is_foreign) ORDER BY m.uid`, mailbox)
		return err
	})
	return uids, err
}
