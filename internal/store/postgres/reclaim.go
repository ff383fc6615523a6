package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/postern/postern/internal/store"
)

// orphanGrace is how old a body no content row names must be before
// Reclaim removes it: it must outlast any append between its body's
// commit and its index transaction, on any node.
const orphanGrace = "1 hour"

// Reclaim removes the content rows no message refers to any longer, with
// their bodies, then the bodies an append left behind (its index
// transaction failed or its node died) once older than orphanGrace. A
// content row is deleted only if no message refers to it at the delete's
// moment; a COPY that would add a reference to it afterwards fails on
// the foreign key rather than refer to a removed body (its source message
// was expunged, so it had nothing to copy).
func (s *Store) Reclaim(ctx context.Context) (int, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	var names []string
	rows, err := s.pool.Query(ctx, `DELETE FROM content c WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.content = c.id)
		RETURNING c.body`)
	if err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reclaim: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, s.bodies.Remove(ctx, n))
	}
	// Bodies in the database that no content row names: orphans of
	// appends that did not commit. (Bodies in files are swept by the
	// files' own owner; see docs/scale-out.md.)
	tag, err := s.pool.Exec(ctx, `DELETE FROM body_head h WHERE h.created < now() - interval '`+orphanGrace+`'
		AND NOT EXISTS (SELECT 1 FROM content c WHERE c.body = h.name)`)
	errs = append(errs, err)
	n := len(names) + int(tag.RowsAffected())
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("reclaim: %w", err)
	}
	return n, nil
}
