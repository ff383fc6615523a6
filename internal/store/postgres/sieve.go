package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

var _ store.SieveKeeper = (*Store)(nil)

// SieveScripts lists an account's scripts in name order.
func (s *Store) SieveScripts(ctx context.Context, account store.AccountID) ([]store.SieveScriptInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, octet_length(content), active FROM sieve_script
		WHERE account = $1 ORDER BY name COLLATE "C"`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.SieveScriptInfo
	for rows.Next() {
		var si store.SieveScriptInfo
		if err := rows.Scan(&si.Name, &si.Size, &si.Active); err != nil {
			return nil, err
		}
		out = append(out, si)
	}
	return out, rows.Err()
}

// SieveScript returns a script's text and whether it is active.
func (s *Store) SieveScript(ctx context.Context, account store.AccountID, name string) (string, bool, error) {
	var content string
	var active bool
	err := s.pool.QueryRow(ctx, `SELECT content, active FROM sieve_script WHERE account = $1 AND name = $2`, account, name).Scan(&content, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, fmt.Errorf("sieve script %q: %w", name, store.ErrNoSuchScript)
	}
	return content, active, err
}

// ActiveSieveScript returns the active script.
func (s *Store) ActiveSieveScript(ctx context.Context, account store.AccountID) (string, string, error) {
	var name, content string
	err := s.pool.QueryRow(ctx, `SELECT name, content FROM sieve_script WHERE account = $1 AND active`, account).Scan(&name, &content)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("active sieve script: %w", store.ErrNoSuchScript)
	}
	return name, content, err
}

// PutSieveScript creates or replaces a script, keeping its active state.
func (s *Store) PutSieveScript(ctx context.Context, account store.AccountID, name, content string) error {
	return s.tx(ctx, func(t *wtx) error {
		if err := checkAccount(ctx, t, account); err != nil {
			return err
		}
		_, err := t.Exec(ctx, `INSERT INTO sieve_script (account, name, content) VALUES ($1, $2, $3)
			ON CONFLICT (account, name) DO UPDATE SET content = excluded.content`, account, name, content)
		return err
	})
}

// SetActiveSieveScript makes name the active script ("" none).
func (s *Store) SetActiveSieveScript(ctx context.Context, account store.AccountID, name string) error {
	return s.tx(ctx, func(t *wtx) error {
		if err := checkAccount(ctx, t, account); err != nil {
			return err
		}
		if name != "" {
			if err := scriptExists(ctx, t, account, name); err != nil {
				return err
			}
		}
		if _, err := t.Exec(ctx, `UPDATE sieve_script SET active = false WHERE account = $1 AND active`, account); err != nil {
			return err
		}
		_, err := t.Exec(ctx, `UPDATE sieve_script SET active = true WHERE account = $1 AND name = $2`, account, name)
		return err
	})
}

// DeleteSieveScript removes an inactive script.
func (s *Store) DeleteSieveScript(ctx context.Context, account store.AccountID, name string) error {
	return s.tx(ctx, func(t *wtx) error {
		var active bool
		err := t.QueryRow(ctx, `SELECT active FROM sieve_script WHERE account = $1 AND name = $2 FOR UPDATE`, account, name).Scan(&active)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("sieve script %q: %w", name, store.ErrNoSuchScript)
		} else if err != nil {
			return err
		}
		if active {
			return fmt.Errorf("sieve script %q: %w", name, store.ErrScriptActive)
		}
		_, err = t.Exec(ctx, `DELETE FROM sieve_script WHERE account = $1 AND name = $2`, account, name)
		return err
	})
}

// RenameSieveScript renames a script, keeping its active state.
func (s *Store) RenameSieveScript(ctx context.Context, account store.AccountID, oldName, newName string) error {
	return s.tx(ctx, func(t *wtx) error {
		if err := scriptExists(ctx, t, account, oldName); err != nil {
			return err
		}
		if oldName == newName {
			return nil
		}
		if err := scriptExists(ctx, t, account, newName); err == nil {
			return fmt.Errorf("sieve script %q: %w", newName, store.ErrScriptExists)
		} else if !errors.Is(err, store.ErrNoSuchScript) {
			return err
		}
		_, err := t.Exec(ctx, `UPDATE sieve_script SET name = $1 WHERE account = $2 AND name = $3`, newName, account, oldName)
		if isUnique(err) {
			return fmt.Errorf("sieve script %q: %w", newName, store.ErrScriptExists)
		}
		return err
	})
}

// VacationDue records a vacation response unless one with the same key
// still covers now: one statement, so two nodes delivering to the same
// sender at once send one response.
func (s *Store) VacationDue(ctx context.Context, account store.AccountID, key string, now time.Time, period time.Duration) (bool, error) {
	due := false
	err := s.tx(ctx, func(t *wtx) error {
		due = false
		if err := checkAccount(ctx, t, account); err != nil {
			return err
		}
		// Expired entries of the account go as a new one is written.
		if _, err := t.Exec(ctx, `DELETE FROM sieve_vacation WHERE account = $1 AND until <= $2 AND key <> $3`, account, now.UnixNano(), key); err != nil {
			return err
		}
		var one int
		err := t.QueryRow(ctx, `INSERT INTO sieve_vacation (account, key, until) VALUES ($1, $2, $3)
			ON CONFLICT (account, key) DO UPDATE SET until = excluded.until WHERE sieve_vacation.until <= $4
			RETURNING 1`, account, key, now.Add(period).UnixNano(), now.UnixNano()).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		due = err == nil
		return err
	})
	return due, err
}

func scriptExists(ctx context.Context, q querier, account store.AccountID, name string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM sieve_script WHERE account = $1 AND name = $2`, account, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("sieve script %q: %w", name, store.ErrNoSuchScript)
	}
	return err
}

// checkAccount fails with ErrNoSuchAccount for an unknown account, and
// locks its row for the transaction.
func checkAccount(ctx context.Context, q querier, account store.AccountID) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM account WHERE id = $1 FOR UPDATE`, account).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("account %d: %w", account, store.ErrNoSuchAccount)
	}
	return err
}
