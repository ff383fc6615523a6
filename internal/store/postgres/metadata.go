package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/postern/postern/internal/store"
)

var _ store.MetadataKeeper = (*Session)(nil)

// Metadata implements store.MetadataKeeper (table metadata, schema
// version 2; mailbox 0 holds the server's entries).
func (ss *Session) Metadata(ctx context.Context, mailbox store.MailboxID, names []string, depth int) ([]store.MetadataEntry, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if mailbox != 0 {
		if err := checkMailboxOf(ctx, ss.s.pool, ss.account, mailbox); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT name, value FROM metadata WHERE account = $1 AND mailbox = $2 ORDER BY name COLLATE "C"`,
		ss.account, mailbox)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	defer rows.Close()
	var out []store.MetadataEntry
	for rows.Next() {
		var e store.MetadataEntry
		if err := rows.Scan(&e.Name, &e.Value); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		if slices.ContainsFunc(names, func(n string) bool { return store.MetadataUnder(e.Name, n, depth) }) {
			if e.Value == nil {
				e.Value = []byte{}
			}
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return out, nil
}

// SetMetadata implements store.MetadataKeeper: in one transaction under
// the account row's lock, so that two nodes setting entries at once
// cannot together pass maxEntries.
func (ss *Session) SetMetadata(ctx context.Context, mailbox store.MailboxID, entries []store.MetadataEntry, maxEntries int) error {
	err := ss.tx(ctx, func(t *wtx) error {
		if err := ss.lockAccount(ctx, t); err != nil {
			return err
		}
		if mailbox != 0 {
			if err := checkMailboxOf(ctx, t, ss.account, mailbox); err != nil {
				return err
			}
		}
		var changed []string
		for _, e := range entries {
			name := strings.ToLower(e.Name)
			var tag pgconn.CommandTag
			var err error
			if e.Value == nil {
				tag, err = t.Exec(ctx, `DELETE FROM metadata WHERE account = $1 AND mailbox = $2 AND name = $3`, ss.account, mailbox, name)
			} else {
				tag, err = t.Exec(ctx, `INSERT INTO metadata (account, mailbox, name, value) VALUES ($1, $2, $3, $4)
					ON CONFLICT (account, mailbox, name) DO UPDATE SET value = excluded.value WHERE metadata.value IS DISTINCT FROM excluded.value`,
					ss.account, mailbox, name, e.Value)
			}
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 && !slices.Contains(changed, name) {
				changed = append(changed, name)
			}
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM metadata WHERE account = $1 AND mailbox = $2`, ss.account, mailbox).Scan(&n); err != nil {
			return err
		}
		if n > maxEntries {
			return store.ErrMetadataTooMany // rolls the transaction back
		}
		if len(changed) > 0 {
			ss.publish(t, store.ChangeMetadata{Mailbox: mailbox, Entries: changed})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set metadata: %w", err)
	}
	return nil
}
