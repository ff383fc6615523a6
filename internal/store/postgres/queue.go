package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlrow"
)

var (
	_ store.OutboundQueue = (*Store)(nil)
	_ store.QueueWaker    = (*Store)(nil)
)

// QueueWake is signalled when a node (this one included) queued a
// message or flushed the queue: pg_notify on queueChannel, delivered at
// commit to every node's listener.
func (s *Store) QueueWake() <-chan struct{} { return s.queueWake }

// wakeQueues tells every node's queue runner to look for work once t
// commits.
func wakeQueues(ctx context.Context, t *wtx) error {
	_, err := t.Exec(ctx, `SELECT pg_notify($1, '')`, queueChannel)
	return err
}

// queueChunk is the size of one row of a queued body (queue_chunk).
const queueChunk = 256 << 10

// QueueAdd stores a message and its body in one transaction.
func (s *Store) QueueAdd(ctx context.Context, m store.QueuedMessage, body io.Reader) error {
	return s.tx(ctx, func(t *wtx) error {
		if _, err := t.Exec(ctx, `INSERT INTO queue_msg (id, created, next_attempt, size, envelope) VALUES ($1, $2, $3, 0, $4)`,
			m.ID, sqlrow.TimeToInt(m.Created), sqlrow.TimeToInt(m.NextAttempt), m.Envelope); err != nil {
			return fmt.Errorf("queue message %s: %w", m.ID, err)
		}
		buf := make([]byte, queueChunk)
		var size int64
		for seq := 0; ; seq++ {
			n, err := io.ReadFull(body, buf)
			if n > 0 {
				if _, err := t.Exec(ctx, `INSERT INTO queue_chunk (id, seq, data) VALUES ($1, $2, $3)`, m.ID, seq, buf[:n]); err != nil {
					return err
				}
				size += int64(n)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return fmt.Errorf("read queued message: %w", err)
			}
		}
		if _, err := t.Exec(ctx, `UPDATE queue_msg SET size = $2 WHERE id = $1`, m.ID, size); err != nil {
			return err
		}
		return wakeQueues(ctx, t)
	})
}

// QueueClaim leases the oldest due, free message: FOR UPDATE SKIP LOCKED
// lets nodes claiming at the same instant pass over each other's row
// instead of waiting for it, and the lease columns keep it theirs after
// the transaction ends.
func (s *Store) QueueClaim(ctx context.Context, owner string, now time.Time, lease time.Duration) (*store.QueuedMessage, error) {
	var m store.QueuedMessage
	var created, next int64
	n := sqlrow.TimeToInt(now)
	until := sqlrow.TimeToInt(now.Add(lease))
	err := s.tx(ctx, func(t *wtx) error {
		return t.QueryRow(ctx, `UPDATE queue_msg SET lease_owner = $1, lease_until = $2
			WHERE id = (SELECT id FROM queue_msg WHERE next_attempt <= $3 AND (lease_owner = '' OR lease_until <= $3)
				ORDER BY created, id LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING id, created, next_attempt, size, envelope`, owner, until, n).
			Scan(&m.ID, &created, &next, &m.Size, &m.Envelope)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim queued message: %w", err)
	}
	m.Created, m.NextAttempt = intToTime(created), intToTime(next)
	m.LeaseOwner, m.LeaseUntil = owner, intToTime(until)
	return &m, nil
}

// leased runs an update of a message whose lease owner holds.
func (s *Store) leased(ctx context.Context, what, id, owner, sql string, args ...any) error {
	return s.tx(ctx, func(t *wtx) error {
		tag, err := t.Exec(ctx, sql, append([]any{id, owner}, args...)...)
		if err != nil {
			return fmt.Errorf("%s queued message %s: %w", what, id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s queued message %s: %w", what, id, store.ErrLeaseLost)
		}
		return nil
	})
}

// QueueRenew extends owner's lease.
func (s *Store) QueueRenew(ctx context.Context, id, owner string, until time.Time) error {
	return s.leased(ctx, "renew", id, owner,
		`UPDATE queue_msg SET lease_until = $3 WHERE id = $1 AND lease_owner = $2`, sqlrow.TimeToInt(until))
}

// QueueRelease records an attempt and ends the lease.
func (s *Store) QueueRelease(ctx context.Context, id, owner string, envelope []byte, next time.Time) error {
	return s.leased(ctx, "release", id, owner, `UPDATE queue_msg SET envelope = $3, next_attempt = $4, lease_owner = '', lease_until = 0
		WHERE id = $1 AND lease_owner = $2`, envelope, sqlrow.TimeToInt(next))
}

// QueueRemove removes a message whose lease owner holds.
func (s *Store) QueueRemove(ctx context.Context, id, owner string) error {
	return s.leased(ctx, "remove", id, owner, `DELETE FROM queue_msg WHERE id = $1 AND lease_owner = $2`)
}

// QueueDelete removes a message no one is delivering.
func (s *Store) QueueDelete(ctx context.Context, id string, now time.Time) error {
	return s.tx(ctx, func(t *wtx) error {
		var owner string
		var until int64
		err := t.QueryRow(ctx, `SELECT lease_owner, lease_until FROM queue_msg WHERE id = $1 FOR UPDATE`, id).Scan(&owner, &until)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", store.ErrNoSuchQueued, id)
		}
		if err != nil {
			return err
		}
		if (store.QueuedMessage{LeaseOwner: owner, LeaseUntil: intToTime(until)}).Leased(now) {
			return fmt.Errorf("%w: %s", store.ErrQueuedBusy, id)
		}
		_, err = t.Exec(ctx, `DELETE FROM queue_msg WHERE id = $1`, id)
		return err
	})
}

// QueueBody reads a message's body into memory.
func (s *Store) QueueBody(ctx context.Context, id string) (io.ReadSeekCloser, error) {
	var buf bytes.Buffer
	var found bool
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queue_msg WHERE id = $1)`, id).Scan(&found); err != nil || !found {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT data FROM queue_chunk WHERE id = $1 ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				return err
			}
			buf.Write(data)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read queued message %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: %s", store.ErrNoSuchQueued, id)
	}
	return nopSeekCloser{bytes.NewReader(buf.Bytes())}, nil
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// QueueList returns every queued message, oldest first.
func (s *Store) QueueList(ctx context.Context) ([]store.QueuedMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, created, next_attempt, size, envelope, lease_owner, lease_until
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
	var n int64
	err := s.tx(ctx, func(t *wtx) error {
		tag, err := t.Exec(ctx, `UPDATE queue_msg SET next_attempt = $1`, sqlrow.TimeToInt(now))
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return wakeQueues(ctx, t)
	})
	return int(n), err
}

// QueueNextDue returns when a claim may next find something.
func (s *Store) QueueNextDue(ctx context.Context) (time.Time, bool, error) {
	var next *int64
	err := s.pool.QueryRow(ctx, `SELECT min(CASE WHEN lease_owner <> '' AND lease_until > next_attempt THEN lease_until ELSE next_attempt END)
		FROM queue_msg`).Scan(&next)
	if err != nil || next == nil {
		return time.Time{}, false, err
	}
	return intToTime(*next), true, nil
}
