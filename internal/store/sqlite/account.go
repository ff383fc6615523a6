package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

const accountColumns = `id, name, password_hash, scram_salt, scram_iterations, scram_stored_key,
	scram_server_key, apop_secret, disabled, no_mail, expires, admin, created, quota_storage, quota_messages, source`

// CreateAccount adds an account and its store.DefaultMailboxes.
func (s *Store) CreateAccount(ctx context.Context, name string, init store.AccountUpdate) (store.Account, error) {
	defer observe("create_account", time.Now())
	if err := store.ValidateAccountName(name); err != nil {
		return store.Account{}, err
	}
	name = strings.ToLower(name)
	var acc store.Account
	err := s.write(ctx, func(w *wtx) error {
		var exists bool
		if err := w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM account WHERE name = ?)`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("create account %q: %w", name, store.ErrAccountExists)
		}
		res, err := w.ExecContext(ctx, `INSERT INTO account (name, created) VALUES (?, ?)`, name, sqlrow.TimeToInt(s.now()))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := applyAccountUpdate(ctx, w, store.AccountID(id), init); err != nil {
			return err
		}
		for _, mb := range store.DefaultMailboxes {
			if _, err := w.createMailbox(ctx, store.AccountID(id), mb.Name, mb.SpecialUse); err != nil {
				return err
			}
		}
		acc, err = scanAccount(w.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM account WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return store.Account{}, err
	}
	return acc, nil
}

// Account looks an account up by name, case-insensitively.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	defer observe("account", time.Now())
	if err := s.checkOpen(); err != nil {
		return store.Account{}, err
	}
	acc, err := scanAccount(s.rdb.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM account WHERE name = ?`, strings.ToLower(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account %q: %w", name, store.ErrNoSuchAccount)
	}
	return acc, err
}

// Accounts lists every account, ordered by name.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	defer observe("accounts", time.Now())
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+accountColumns+` FROM account ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var accs []store.Account
	for rows.Next() {
		acc, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		accs = append(accs, acc)
	}
	return accs, rows.Err()
}

// UpdateAccount applies the non-nil fields of u.
func (s *Store) UpdateAccount(ctx context.Context, name string, u store.AccountUpdate) (store.Account, error) {
	defer observe("update_account", time.Now())
	var acc store.Account
	err := s.write(ctx, func(w *wtx) error {
		var id store.AccountID
		err := w.QueryRowContext(ctx, `SELECT id FROM account WHERE name = ?`, strings.ToLower(name)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("update account %q: %w", name, store.ErrNoSuchAccount)
		} else if err != nil {
			return err
		}
		if err := applyAccountUpdate(ctx, w, id, u); err != nil {
			return err
		}
		acc, err = scanAccount(w.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM account WHERE id = ?`, id))
		return err
	})
	return acc, err
}

// DeleteAccount removes an account with its mailboxes, messages and
// subscriptions. Their content files go at the next Reclaim.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	defer observe("delete_account", time.Now())
	var id store.AccountID
	err := s.write(ctx, func(w *wtx) error {
		err := w.QueryRowContext(ctx, `SELECT id FROM account WHERE name = ?`, strings.ToLower(name)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delete account %q: %w", name, store.ErrNoSuchAccount)
		} else if err != nil {
			return err
		}
		ids, err := queryMailboxIDs(ctx, w, id)
		if err != nil {
			return err
		}
		w.touch(ids...)
		// ON DELETE CASCADE removes mailboxes, messages (whose trigger
		// releases their content), the expunge log and subscriptions.
		_, err = w.ExecContext(ctx, `DELETE FROM account WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, locksDir, maildropLockName(id))); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("remove maildrop lock file", "account", id, "err", err)
	}
	return nil
}

func queryMailboxIDs(ctx context.Context, q querier, account store.AccountID) ([]store.MailboxID, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM mailbox WHERE account = ?`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []store.MailboxID
	for rows.Next() {
		var id store.MailboxID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func applyAccountUpdate(ctx context.Context, w *wtx, id store.AccountID, u store.AccountUpdate) error {
	cols, err := sqlrow.AccountUpdate(u)
	if err != nil || len(cols) == 0 {
		return err
	}
	sets := make([]string, len(cols))
	args := make([]any, len(cols), len(cols)+1)
	for i, c := range cols {
		sets[i] = c.Name + " = ?"
		args[i] = c.Value
	}
	args = append(args, id)
	_, err = w.ExecContext(ctx, `UPDATE account SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...)
	return err
}

type scanner interface{ Scan(dest ...any) error }

func scanAccount(row scanner) (store.Account, error) {
	var a store.Account
	var expires, created int64
	var qs, qm sql.NullInt64
	err := row.Scan(&a.ID, &a.Name, &a.PasswordHash, &a.SCRAM.Salt, &a.SCRAM.Iterations, &a.SCRAM.StoredKey,
		&a.SCRAM.ServerKey, &a.APOPSecret, &a.Disabled, &a.NoMail, &expires, &a.Admin, &created, &qs, &qm, &a.Source)
	a.QuotaStorage, a.QuotaMessages = quotaSetting(qs), quotaSetting(qm)
	a.Expires = intToTime(expires)
	a.Created = intToTime(created)
	return a, err
}

func intToTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// zoneOf returns the offset of t's zone in seconds east of UTC, which the
// message table keeps beside the instant (internal_zone).
func zoneOf(t time.Time) int64 {
	_, off := t.Zone()
	return int64(off)
}

// zonedTime is intToTime shown in a zone offset seconds east of UTC: in
// UTC itself for 0, else in a fixed zone of that offset.
func zonedTime(n, offset int64) time.Time {
	t := intToTime(n)
	if offset == 0 || t.IsZero() {
		return t
	}
	return t.In(time.FixedZone("", int(offset)))
}
