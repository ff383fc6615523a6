package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.MetadataKeeper = (*Session)(nil)

// RFC 5464 metadata lives in the index (table metadata, schema version
// 15): mailbox 0 holds the server's entries; a trigger removes a
// mailbox's entries with it.

// Metadata implements store.MetadataKeeper.
func (ss *Session) Metadata(ctx context.Context, mailbox store.MailboxID, names []string, depth int) ([]store.MetadataEntry, error) {
	defer observe("metadata", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	var out []store.MetadataEntry
	err := ss.s.read(ctx, func(tx *sql.Tx) error {
		out = nil
		if mailbox != 0 {
			if err := checkMailboxOf(ctx, tx, ss.account, mailbox); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT name, value FROM metadata WHERE account = ? AND mailbox = ? ORDER BY name`, ss.account, mailbox)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e store.MetadataEntry
			if err := rows.Scan(&e.Name, &e.Value); err != nil {
				return err
			}
			if slices.ContainsFunc(names, func(n string) bool { return store.MetadataUnder(e.Name, n, depth) }) {
				if e.Value == nil {
					e.Value = []byte{}
				}
				out = append(out, e)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return out, nil
}

// SetMetadata implements store.MetadataKeeper.
func (ss *Session) SetMetadata(ctx context.Context, mailbox store.MailboxID, entries []store.MetadataEntry, maxEntries int) error {
	defer observe("set_metadata", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	err := ss.write(ctx, func(w *wtx) error {
		if mailbox != 0 {
			if err := checkMailboxOf(ctx, w, ss.account, mailbox); err != nil {
				return err
			}
		}
		var changed []string
		for _, e := range entries {
			name := strings.ToLower(e.Name)
			var res sql.Result
			var err error
			if e.Value == nil {
				res, err = w.ExecContext(ctx, `DELETE FROM metadata WHERE account = ? AND mailbox = ? AND name = ?`, ss.account, mailbox, name)
			} else {
				res, err = w.ExecContext(ctx, `INSERT INTO metadata (account, mailbox, name, value) VALUES (?, ?, ?, ?)
					ON CONFLICT (account, mailbox, name) DO UPDATE SET value = excluded.value WHERE metadata.value IS NOT excluded.value`,
					ss.account, mailbox, name, e.Value)
			}
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 && !slices.Contains(changed, name) {
				changed = append(changed, name)
			}
		}
		var n int
		if err := w.QueryRowContext(ctx, `SELECT count(*) FROM metadata WHERE account = ? AND mailbox = ?`, ss.account, mailbox).Scan(&n); err != nil {
			return err
		}
		if n > maxEntries {
			return store.ErrMetadataTooMany // rolls the transaction back
		}
		if len(changed) > 0 {
			w.publish(ss.account, ss.sub.ID(), store.ChangeMetadata{Mailbox: mailbox, Entries: changed})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set metadata: %w", err)
	}
	return nil
}
