package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

var _ store.DKIMKeyKeeper = (*Store)(nil)

// AddDKIMKey stores a DKIM signing key (schema version 14, dkim_key).
func (s *Store) AddDKIMKey(ctx context.Context, key store.DKIMKey) error {
	defer observe("add_dkim_key", time.Now())
	domain, selector := strings.ToLower(key.Domain), strings.ToLower(key.Selector)
	if domain == "" || selector == "" || len(key.PrivateKey) == 0 {
		return fmt.Errorf("add DKIM key: domain, selector and key are required")
	}
	created := key.Created
	if created.IsZero() {
		created = s.now()
	}
	return s.write(ctx, func(w *wtx) error {
		var exists bool
		if err := w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM dkim_key WHERE domain = ? AND selector = ?)`,
			domain, selector).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("DKIM key %s._domainkey.%s: %w", selector, domain, store.ErrDKIMKeyExists)
		}
		_, err := w.ExecContext(ctx, `INSERT INTO dkim_key (domain, selector, algorithm, private_key, created) VALUES (?, ?, ?, ?, ?)`,
			domain, selector, key.Algorithm, key.PrivateKey, sqlrow.TimeToInt(created))
		return err
	})
}

// DKIMKeys returns the keys of a domain, or of every domain for "".
func (s *Store) DKIMKeys(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	defer observe("dkim_keys", time.Now())
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	q := `SELECT domain, selector, algorithm, private_key, created FROM dkim_key`
	var args []any
	if domain != "" {
		q += ` WHERE domain = ?`
		args = append(args, strings.ToLower(domain))
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY domain, created, selector`, args...)
	if err != nil {
		return nil, fmt.Errorf("DKIM keys: %w", err)
	}
	defer rows.Close()
	var keys []store.DKIMKey
	for rows.Next() {
		var k store.DKIMKey
		var created int64
		if err := rows.Scan(&k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, &created); err != nil {
			return nil, fmt.Errorf("DKIM keys: %w", err)
		}
		k.Created = intToTime(created)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// DeleteDKIMKey removes a domain's key under a selector.
func (s *Store) DeleteDKIMKey(ctx context.Context, domain, selector string) error {
	defer observe("delete_dkim_key", time.Now())
	domain, selector = strings.ToLower(domain), strings.ToLower(selector)
	return s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM dkim_key WHERE domain = ? AND selector = ?`, domain, selector)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("DKIM key %s._domainkey.%s: %w", selector, domain, store.ErrNoSuchDKIMKey)
		}
		return nil
	})
}
