package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

var _ store.DKIMKeyKeeper = (*Store)(nil)

// AddDKIMKey stores a new key.
func (s *Store) AddDKIMKey(ctx context.Context, key store.DKIMKey) error {
	domain, selector := strings.ToLower(key.Domain), strings.ToLower(key.Selector)
	if domain == "" || selector == "" || len(key.PrivateKey) == 0 {
		return fmt.Errorf("add DKIM key: domain, selector and key are required")
	}
	created := key.Created
	if created.IsZero() {
		created = s.now()
	}
	return s.tx(ctx, func(t *wtx) error {
		tag, err := t.Exec(ctx, `INSERT INTO dkim_key (domain, selector, algorithm, private_key, created) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, domain, selector, key.Algorithm, key.PrivateKey, sqlrow.TimeToInt(created))
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("DKIM key %s._domainkey.%s: %w", selector, domain, store.ErrDKIMKeyExists)
		}
		return err
	})
}

// DKIMKeys returns the keys of a domain, or of every domain for "".
func (s *Store) DKIMKeys(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT domain, selector, algorithm, private_key, created FROM dkim_key
		WHERE $1 = '' OR domain = $1 ORDER BY domain COLLATE "C", created, selector COLLATE "C"`, strings.ToLower(domain))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.DKIMKey
	for rows.Next() {
		var k store.DKIMKey
		var created int64
		if err := rows.Scan(&k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, &created); err != nil {
			return nil, err
		}
		k.Created = intToTime(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteDKIMKey removes a domain's key under a selector.
func (s *Store) DeleteDKIMKey(ctx context.Context, domain, selector string) error {
	return s.tx(ctx, func(t *wtx) error {
		tag, err := t.Exec(ctx, `DELETE FROM dkim_key WHERE domain = $1 AND selector = $2`, strings.ToLower(domain), strings.ToLower(selector))
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("DKIM key %s._domainkey.%s: %w", selector, domain, store.ErrNoSuchDKIMKey)
		}
		return err
	})
}
