package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

var _ store.QuotaKeeper = (*Store)(nil)

// Quota returns an account's usage and the limits in force.
func (s *Store) Quota(ctx context.Context, id store.AccountID) (store.Quota, error) {
	if s.isClosed() {
		return store.Quota{}, store.ErrClosed
	}
	return s.quota(ctx, s.pool, id)
}

// quota reads an account's usage (the sums of its mailboxes' counters,
// which the message_usage trigger keeps exact) and its limits.
func (s *Store) quota(ctx context.Context, q querier, id store.AccountID) (store.Quota, error) {
	var qs, qm *int64
	var quota store.Quota
	err := q.QueryRow(ctx, `SELECT a.quota_storage, a.quota_messages,
			(SELECT coalesce(sum(used_octets), 0) FROM mailbox WHERE account = a.id)::bigint,
			(SELECT coalesce(sum(used_messages), 0) FROM mailbox WHERE account = a.id)::bigint
		FROM account a WHERE a.id = $1`, id).Scan(&qs, &qm, &quota.Storage.Used, &quota.Messages.Used)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Quota{}, fmt.Errorf("quota of account %d: %w", id, store.ErrNoSuchAccount)
	} else if err != nil {
		return store.Quota{}, err
	}
	quota.Storage.Limit = limit(quotaSetting(qs), s.opts.QuotaStorage)
	quota.Messages.Limit = limit(quotaSetting(qm), s.opts.QuotaMessages)
	return quota, nil
}

// limit resolves an account's setting against the site default.
func limit(setting, siteDefault int64) int64 {
	if setting != store.QuotaDefault {
		return setting
	}
	if siteDefault <= 0 {
		return store.QuotaNone
	}
	return siteDefault
}

// checkQuota fails with store.ErrOverQuota when adding messages messages
// of octets octets would take the account past a limit (RFC 9208 §7
// OVERQUOTA). Its caller holds the account row's lock, so concurrent
// additions on any node cannot together overshoot.
func (t *wtx) checkQuota(ctx context.Context, account store.AccountID, octets, messages int64) error {
	q, err := t.s.quota(ctx, t, account)
	if err != nil {
		return err
	}
	if !q.Fits(octets, messages) {
		return fmt.Errorf("add %d messages of %d octets: %w", messages, octets, store.ErrOverQuota)
	}
	return nil
}
