package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

var _ store.OutboundQueue = (*Store)(nil)

// The outbound queue lives in the index (table queue_msg, schema version
// 17), body included: one write transaction makes a queued message
// durable. The single writer orders claims, so the lease columns only
// matter across a crash and between processes sharing the index.

// QueueAdd stores a message and its body. The body is read before the
// write transaction, which must not wait on a client.
func (s *Store) QueueAdd(ctx context.Context, m store.QueuedMessage, body io.Reader) error {
	defer observe("queue_add", time.Now())
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("read queued message: %w", err)
	}
	return s.write(ctx, func(w *wtx) error {
		_, err := w.ExecContext(ctx, `INSERT INTO queue_msg (id, created, next_attempt, size, envelope, body) VALUES (?, ?, ?, ?, ?, ?)`,
			m.ID, sqlrow.TimeToInt(m.Created), sqlrow.TimeToInt(m.NextAttempt), len(b), m.Envelope, b)
		if err != nil {
			return fmt.Errorf("queue message %s: %w", m.ID, err)
		}
		return nil
	})
}

// QueueClaim leases the oldest due, free message.
func (s *Store) QueueClaim(ctx context.Context, owner string, now time.Time, lease time.Duration) (*store.QueuedMessage, error) {
	defer observe("queue_claim", time.Now())
	var m *store.QueuedMessage
	n, until := sqlrow.TimeToInt(now), now.Add(lease)
	err := s.write(ctx, func(w *wtx) error {
		m = nil
		var got store.QueuedMessage
		var created, next int64
		err := w.QueryRowContext(ctx, `SELECT id, created, next_attempt, size, envelope FROM queue_msg
			WHERE next_attempt <= ? AND (lease_owner = '' OR lease_until <= ?) ORDER BY created, id LIMIT 1`, n, n).
			Scan(&got.ID, &created, &next, &got.Size, &got.Envelope)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, `UPDATE queue_msg SET lease_owner = ?, lease_until = ? WHERE id = ?`,
			owner, sqlrow.TimeToInt(until), got.ID); err != nil {
			return err
		}
		got.Created, got.NextAttempt = intToTime(created), intToTime(next)
		got.LeaseOwner, got.LeaseUntil = owner, intToTime(sqlrow.TimeToInt(until))
		m = &got
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim queued message: %w", err)
	}
	return m, nil
}

// leased runs an update of a message whose lease owner holds.
func (s *Store) leased(ctx context.Context, what, id, owner, q string, args ...any) error {
	return s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, q, append(args, id, owner)...)
		if err != nil {
			return fmt.Errorf("%s queued message %s: %w", what, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s queued message %s: %w", what, id, store.ErrLeaseLost)
		}
		return nil
	})
}

// QueueRenew extends owner's lease.
func (s *Store) QueueRenew(ctx context.Context, id, owner string, until time.Time) error {
	defer observe("queue_renew", time.Now())
	return s.leased(ctx, "renew", id, owner, `UPDATE queue_msg SET lease_until = ? WHERE id = ? AND lease_owner = ?`,
		sqlrow.TimeToInt(until))
}

// QueueRelease records an attempt and ends the lease.
func (s *Store) QueueRelease(ctx context.Context, id, owner string, envelope []byte, next time.Time) error {
	defer observe("queue_release", time.Now())
	return s.leased(ctx, "release", id, owner, `UPDATE queue_msg SET envelope = ?, next_attempt = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ?`, envelope, sqlrow.TimeToInt(next))
}

// QueueRemove removes a message whose lease owner holds.
func (s *Store) QueueRemove(ctx context.Context, id, owner string) error {
	defer observe("queue_remove", time.Now())
	return s.leased(ctx, "remove", id, owner, `DELETE FROM queue_msg WHERE id = ? AND lease_owner = ?`)
}

// QueueDelete removes a message no one is delivering.
func (s *Store) QueueDelete(ctx context.Context, id string, now time.Time) error {
	defer observe("queue_delete", time.Now())
	return s.write(ctx, func(w *wtx) error {
		var m store.QueuedMessage
		var until int64
		err := w.QueryRowContext(ctx, `SELECT lease_owner, lease_until FROM queue_msg WHERE id = ?`, id).Scan(&m.LeaseOwner, &until)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", store.ErrNoSuchQueued, id)
		}
		if err != nil {
			return err
		}
		if m.LeaseUntil = intToTime(until); m.Leased(now) {
			return fmt.Errorf("%w: %s", store.ErrQueuedBusy, id)
		}
		_, err = w.ExecContext(ctx, `DELETE FROM queue_msg WHERE id = ?`, id)
		return err
	})
}

// QueueBody reads a message's body into memory.
func (s *Store) QueueBody(ctx context.Context, id string) (io.ReadSeekCloser, error) {
	defer observe("queue_body", time.Now())
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var b []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT body FROM queue_msg WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", store.ErrNoSuchQueued, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read queued message %s: %w", id, err)
	}
	return nopSeekCloser{bytes.NewReader(b)}, nil
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// QueueList returns every queued message, oldest first.
func (s *Store) QueueList(ctx context.Context) ([]store.QueuedMessage, error) {
	defer observe("queue_list", time.Now())
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, created, next_attempt, size, envelope, lease_owner, lease_until
		FROM queue_msg ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	defer rows.Close()
	var out []store.QueuedMessage
	for rows.Next() {
		var m store.QueuedMessage
		var created, next, until int64
		if err := rows.Scan(&m.ID, &created, &next, &m.Size, &m.Envelope, &m.LeaseOwner, &until); err != nil {
			return nil, err
		}
		m.Created, m.NextAttempt, m.LeaseUntil = intToTime(created), intToTime(next), intToTime(until)
		out = append(out, m)
	}
	return out, rows.Err()
}

// QueueFlush makes every message due at now.
func (s *Store) QueueFlush(ctx context.Context, now time.Time) (int, error) {
	defer observe("queue_flush", time.Now())
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `UPDATE queue_msg SET next_attempt = ?`, sqlrow.TimeToInt(now))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// QueueNextDue returns when a claim may next find something.
func (s *Store) QueueNextDue(ctx context.Context) (time.Time, bool, error) {
	defer observe("queue_next_due", time.Now())
	if err := s.checkOpen(); err != nil {
		return time.Time{}, false, err
	}
	var next sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT min(CASE WHEN lease_owner <> '' AND lease_until > next_attempt THEN lease_until ELSE next_attempt END)
		FROM queue_msg`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return intToTime(next.Int64), true, nil
}
