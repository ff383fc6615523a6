package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

const accountColumns = `id, name, password_hash, scram_salt, scram_iterations, scram_stored_key,
	scram_server_key, apop_secret, disabled, no_mail, expires, admin, created, quota_storage, quota_messages, source`

// CreateAccount adds an account and its store.DefaultMailboxes.
func (s *Store) CreateAccount(ctx context.Context, name string, init store.AccountUpdate) (store.Account, error) {
	if err := store.ValidateAccountName(name); err != nil {
		return store.Account{}, err
	}
	name = strings.ToLower(name)
	var acc store.Account
	err := s.tx(ctx, func(t *wtx) error {
		var id store.AccountID
		err := t.QueryRow(ctx, `INSERT INTO account (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id`,
			name, sqlrow.TimeToInt(s.now())).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("create account %q: %w", name, store.ErrAccountExists)
		} else if err != nil {
			return err
		}
		if err := applyAccountUpdate(ctx, t, id, init); err != nil {
			return err
		}
		for _, mb := range store.DefaultMailboxes {
			if _, err := t.createMailbox(ctx, id, mb.Name, mb.SpecialUse); err != nil {
				return err
			}
		}
		acc, err = scanAccount(t.QueryRow(ctx, `SELECT `+accountColumns+` FROM account WHERE id = $1`, id))
		return err
	})
	return acc, err
}

// Account looks an account up by name, case-insensitively.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	if s.isClosed() {
		return store.Account{}, store.ErrClosed
	}
	acc, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM account WHERE name = $1`, strings.ToLower(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account %q: %w", name, store.ErrNoSuchAccount)
	}
	return acc, err
}

// Accounts lists every account, ordered by name.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM account ORDER BY name COLLATE "C"`)
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
	var acc store.Account
	err := s.tx(ctx, func(t *wtx) error {
		id, err := accountID(ctx, t, name, "update")
		if err != nil {
			return err
		}
		if err := applyAccountUpdate(ctx, t, id, u); err != nil {
			return err
		}
		acc, err = scanAccount(t.QueryRow(ctx, `SELECT `+accountColumns+` FROM account WHERE id = $1`, id))
		return err
	})
	return acc, err
}

// DeleteAccount removes an account with its mailboxes, messages and
// subscriptions. Their bodies go at the next Reclaim.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	return s.tx(ctx, func(t *wtx) error {
		id, err := accountID(ctx, t, name, "delete")
		if err != nil {
			return err
		}
		_, err = t.Exec(ctx, `DELETE FROM account WHERE id = $1`, id)
		return err
	})
}

// accountID finds an account by name and locks its row.
func accountID(ctx context.Context, q querier, name, op string) (store.AccountID, error) {
	var id store.AccountID
	err := q.QueryRow(ctx, `SELECT id FROM account WHERE name = $1 FOR UPDATE`, strings.ToLower(name)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%s account %q: %w", op, name, store.ErrNoSuchAccount)
	}
	return id, err
}

func applyAccountUpdate(ctx context.Context, t *wtx, id store.AccountID, u store.AccountUpdate) error {
	cols, err := sqlrow.AccountUpdate(u)
	if err != nil || len(cols) == 0 {
		return err
	}
	sets := make([]string, len(cols))
	args := make([]any, len(cols), len(cols)+1)
	for i, c := range cols {
		sets[i] = c.Name + " = $" + strconv.Itoa(i+1)
		args[i] = c.Value
	}
	args = append(args, id)
	_, err = t.Exec(ctx, `UPDATE account SET `+strings.Join(sets, ", ")+` WHERE id = $`+strconv.Itoa(len(args)), args...)
	return err
}

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	var expires, created int64
	var qs, qm *int64
	err := row.Scan(&a.ID, &a.Name, &a.PasswordHash, &a.SCRAM.Salt, &a.SCRAM.Iterations, &a.SCRAM.StoredKey,
		&a.SCRAM.ServerKey, &a.APOPSecret, &a.Disabled, &a.NoMail, &expires, &a.Admin, &created, &qs, &qm, &a.Source)
	a.QuotaStorage, a.QuotaMessages = quotaSetting(qs), quotaSetting(qm)
	a.Expires = intToTime(expires)
	a.Created = intToTime(created)
	return a, err
}

// quotaSetting is an account's limit as stored: NULL is the site default.
func quotaSetting(v *int64) int64 {
	if v == nil {
		return store.QuotaDefault
	}
	return *v
}

func intToTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
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
