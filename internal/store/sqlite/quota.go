package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

var _ store.QuotaKeeper = (*Store)(nil)

// quotaSetting turns an account's quota column into the store's
// encoding: NULL follows the site default.
func quotaSetting(v sql.NullInt64) int64 {
	if !v.Valid {
		return store.QuotaDefault
	}
	return v.Int64
}

// Quota returns an account's usage and the limits in force.
func (s *Store) Quota(ctx context.Context, id store.AccountID) (store.Quota, error) {
	defer observe("quota", time.Now())
	if err := s.checkOpen(); err != nil {
		return store.Quota{}, err
	}
	return s.quota(ctx, s.rdb, id)
}

// quota reads an account's usage (the sums of its mailboxes' counters,
// which the triggers of schema version 5 keep exact) and its limits. In a
// write transaction it sees every commit before it and its own writes.
func (s *Store) quota(ctx context.Context, q querier, id store.AccountID) (store.Quota, error) {
	var qs, qm sql.NullInt64
	var quota store.Quota
	err := q.QueryRowContext(ctx, `SELECT a.quota_storage, a.quota_messages,
			(SELECT coalesce(sum(used_octets), 0) FROM mailbox WHERE account = a.id),
			(SELECT coalesce(sum(used_messages), 0) FROM mailbox WHERE account = a.id)
		FROM account a WHERE a.id = ?`, id).Scan(&qs, &qm, &quota.Storage.Used, &quota.Messages.Used)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Quota{}, fmt.Errorf("quota of account %d: %w", id, store.ErrNoSuchAccount)
	} else if err != nil {
		return store.Quota{}, err
	}
	quota.Storage.Limit = s.limit(quotaSetting(qs), s.opts.QuotaStorage)
	quota.Messages.Limit = s.limit(quotaSetting(qm), s.opts.QuotaMessages)
	return quota, nil
}

// limit resolves an account's setting against the site default.
func (s *Store) limit(setting, siteDefault int64) int64 {
	if setting != store.QuotaDefault {
		return setting
	}
	if siteDefault <= 0 {
		return store.QuotaNone
	}
	return siteDefault
}

// checkQuota fails with store.ErrOverQuota when adding messages messages
// of octets octets in all would take the account past one of its limits
// (RFC 9208 §7 OVERQUOTA). It runs in the write transaction that adds
// them, so that concurrent deliveries cannot together overshoot.
func (w *wtx) checkQuota(ctx context.Context, account store.AccountID, octets, messages int64) error {
	q, err := w.s.quota(ctx, w, account)
	if err != nil {
		return err
	}
	if !q.Fits(octets, messages) {
		return fmt.Errorf("add %d messages of %d octets: %w", messages, octets, store.ErrOverQuota)
	}
	return nil
}
