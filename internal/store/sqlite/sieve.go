package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.SieveKeeper = (*Store)(nil)

// Sieve scripts and the vacation log live in the index (schema version
// 13, tables sieve_script and sieve_vacation), so backups carry them.

// SieveScripts lists the account's scripts.
func (s *Store) SieveScripts(ctx context.Context, account store.AccountID) ([]store.SieveScriptInfo, error) {
	defer observe("sieve_scripts", time.Now())
	var out []store.SieveScriptInfo
	err := s.read(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT name, length(CAST(content AS BLOB)), active FROM sieve_script
			WHERE account = ? ORDER BY name`, account)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i store.SieveScriptInfo
			if err := rows.Scan(&i.Name, &i.Size, &i.Active); err != nil {
				return err
			}
			out = append(out, i)
		}
		return rows.Err()
	})
	return out, err
}

// SieveScript returns one script.
func (s *Store) SieveScript(ctx context.Context, account store.AccountID, name string) (string, bool, error) {
	defer observe("sieve_script", time.Now())
	var content string
	var active bool
	err := s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT content, active FROM sieve_script WHERE account = ? AND name = ?`,
			account, name).Scan(&content, &active)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sieve script %q: %w", name, store.ErrNoSuchScript)
		}
		return err
	})
	return content, active, err
}

// ActiveSieveScript returns the active script.
func (s *Store) ActiveSieveScript(ctx context.Context, account store.AccountID) (string, string, error) {
	defer observe("sieve_active", time.Now())
	var name, content string
	err := s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT name, content FROM sieve_script WHERE account = ? AND active`,
			account).Scan(&name, &content)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("active sieve script: %w", store.ErrNoSuchScript)
		}
		return err
	})
	return name, content, err
}

// PutSieveScript creates or replaces a script.
func (s *Store) PutSieveScript(ctx context.Context, account store.AccountID, name, content string) error {
	defer observe("sieve_put", time.Now())
	return s.write(ctx, func(w *wtx) error {
		if err := checkAccount(ctx, w, account); err != nil {
			return err
		}
		_, err := w.ExecContext(ctx, `INSERT INTO sieve_script (account, name, content) VALUES (?, ?, ?)
			ON CONFLICT (account, name) DO UPDATE SET content = excluded.content`, account, name, content)
		return err
	})
}

// SetActiveSieveScript activates one script (or none).
func (s *Store) SetActiveSieveScript(ctx context.Context, account store.AccountID, name string) error {
	defer observe("sieve_activate", time.Now())
	return s.write(ctx, func(w *wtx) error {
		if name != "" {
			if err := scriptExists(ctx, w, account, name); err != nil {
				return err
			}
		}
		if _, err := w.ExecContext(ctx, `UPDATE sieve_script SET active = 0 WHERE account = ? AND active`, account); err != nil {
			return err
		}
		_, err := w.ExecContext(ctx, `UPDATE sieve_script SET active = 1 WHERE account = ? AND name = ?`, account, name)
		return err
	})
}

// DeleteSieveScript removes an inactive script.
func (s *Store) DeleteSieveScript(ctx context.Context, account store.AccountID, name string) error {
	defer observe("sieve_delete", time.Now())
	return s.write(ctx, func(w *wtx) error {
		var active bool
		err := w.QueryRowContext(ctx, `SELECT active FROM sieve_script WHERE account = ? AND name = ?`, account, name).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sieve script %q: %w", name, store.ErrNoSuchScript)
		} else if err != nil {
			return err
		}
		if active {
			return fmt.Errorf("sieve script %q: %w", name, store.ErrScriptActive)
		}
		_, err = w.ExecContext(ctx, `DELETE FROM sieve_script WHERE account = ? AND name = ?`, account, name)
		return err
	})
}

// RenameSieveScript renames a script.
func (s *Store) RenameSieveScript(ctx context.Context, account store.AccountID, oldName, newName string) error {
	defer observe("sieve_rename", time.Now())
	return s.write(ctx, func(w *wtx) error {
		if err := scriptExists(ctx, w, account, oldName); err != nil {
			return err
		}
		if oldName == newName {
			return nil
		}
		if err := scriptExists(ctx, w, account, newName); err == nil {
			return fmt.Errorf("sieve script %q: %w", newName, store.ErrScriptExists)
		} else if !errors.Is(err, store.ErrNoSuchScript) {
			return err
		}
		_, err := w.ExecContext(ctx, `UPDATE sieve_script SET name = ? WHERE account = ? AND name = ?`, newName, account, oldName)
		return err
	})
}

// VacationDue records a vacation response unless one with the same key
// still covers now.
func (s *Store) VacationDue(ctx context.Context, account store.AccountID, key string, now time.Time, period time.Duration) (bool, error) {
	defer observe("vacation_due", time.Now())
	due := false
	err := s.write(ctx, func(w *wtx) error {
		due = false
		if err := checkAccount(ctx, w, account); err != nil {
			return err
		}
		var until int64
		err := w.QueryRowContext(ctx, `SELECT until FROM sieve_vacation WHERE account = ? AND key = ?`, account, key).Scan(&until)
		if err == nil && until > now.UnixNano() {
			return nil
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Expired entries of the account go as a new one is written, so
		// the log stays as small as the set of recent senders.
		if _, err := w.ExecContext(ctx, `DELETE FROM sieve_vacation WHERE account = ? AND until <= ?`, account, now.UnixNano()); err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, `INSERT OR REPLACE INTO sieve_vacation (account, key, until) VALUES (?, ?, ?)`,
			account, key, now.Add(period).UnixNano()); err != nil {
			return err
		}
		due = true
		return nil
	})
	return due, err
}

func scriptExists(ctx context.Context, w *wtx, account store.AccountID, name string) error {
	var one int
	err := w.QueryRowContext(ctx, `SELECT 1 FROM sieve_script WHERE account = ? AND name = ?`, account, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sieve script %q: %w", name, store.ErrNoSuchScript)
	}
	return err
}

func checkAccount(ctx context.Context, w *wtx, account store.AccountID) error {
	var one int
	err := w.QueryRowContext(ctx, `SELECT 1 FROM account WHERE id = ?`, account).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("account %d: %w", account, store.ErrNoSuchAccount)
	}
	return err
}
