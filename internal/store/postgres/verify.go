package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

// VerifyReport is what Verify found in a PostgreSQL store.
type VerifyReport struct {
	Messages int64 // message rows
	Bodies   int64 // content rows, each body read and hashed
	Bytes    int64 // octets read and hashed
	// Missing and Corrupt list bodies absent from the body store, or
	// whose size or SHA-256 is not their content row's.
	Missing, Corrupt []string
	// Problems are the broken invariants (UIDs, MODSEQs, sizes, quota
	// usage), one line each.
	Problems []string
}

// OK reports whether the store is sound.
func (r *VerifyReport) OK() bool {
	return len(r.Missing) == 0 && len(r.Corrupt) == 0 && len(r.Problems) == 0
}

// invariantChecks return one row per broken invariant, with a
// description; they are the SQLite store's (sqlite.invariantChecks),
// minus the reference counts this schema does not keep.
var invariantChecks = []string{
	// RFC 3501 §2.3.1.1: UIDs ascend and UIDNEXT is above every one.
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): UIDNEXT ' || b.uidnext || ' is not above its highest UID ' || max(m.uid)
	 FROM mailbox b JOIN message m ON m.mailbox = b.id GROUP BY b.id HAVING max(m.uid) >= b.uidnext`,
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): UIDNEXT ' || b.uidnext || ' is not above its highest expunged UID ' || max(e.uid)
	 FROM mailbox b JOIN expunged e ON e.mailbox = b.id GROUP BY b.id HAVING max(e.uid) >= b.uidnext`,
	// RFC 7162 §3.1: HIGHESTMODSEQ is at least every MODSEQ of the mailbox.
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): HIGHESTMODSEQ ' || b.highestmodseq || ' is below a message MODSEQ ' || max(m.modseq)
	 FROM mailbox b JOIN message m ON m.mailbox = b.id GROUP BY b.id HAVING max(m.modseq) > b.highestmodseq`,
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): HIGHESTMODSEQ ' || b.highestmodseq || ' is below an expunge MODSEQ ' || max(e.modseq)
	 FROM mailbox b JOIN expunged e ON e.mailbox = b.id GROUP BY b.id HAVING max(e.modseq) > b.highestmodseq`,
	`SELECT 'message ' || id || ': UID ' || uid || ' or MODSEQ ' || modseq || ' is not positive' FROM message WHERE uid < 1 OR modseq < 1`,
	`SELECT 'mailbox ' || m.mailbox || ': UID ' || m.uid || ' is both present and expunged'
	 FROM message m JOIN expunged e ON e.mailbox = m.mailbox AND e.uid = m.uid`,
	`SELECT 'mailbox ' || id || ' (' || name || '): UIDVALIDITY is 0' FROM mailbox WHERE uidvalidity = 0`,
	`SELECT 'message ' || m.id || ': size ' || m.size || ' differs from its content''s ' || c.size
	 FROM message m JOIN content c ON c.id = m.content WHERE m.size <> c.size`,
	// RFC 9208 quota usage: each mailbox's counters are the sums of its
	// messages (kept by the message_usage trigger).
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): quota usage ' || b.used_octets || ' octets in ' || b.used_messages ||
		' messages, but its messages hold ' || coalesce(sum(m.size), 0) || ' in ' || count(m.id)
	 FROM mailbox b LEFT JOIN message m ON m.mailbox = b.id GROUP BY b.id
	 HAVING coalesce(sum(m.size), 0) <> b.used_octets OR count(m.id) <> b.used_messages`,
}

// verifyBody is a content row to check against its body.
type verifyBody struct {
	name   string
	size   int64
	sha256 []byte
}

// Verify checks the store while nodes may be using it: the invariants
// and the list of content rows in one repeatable-read snapshot, then
// every body against its row (present, same size, same SHA-256). It
// repairs nothing. progress, if set, is told how many bodies are done.
func (s *Store) Verify(ctx context.Context, progress func(done, total int64)) (*VerifyReport, error) {
	r := &VerifyReport{}
	var bodies []verifyBody
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		for _, q := range invariantChecks {
			lines, err := queryLines(ctx, tx, q)
			if err != nil {
				return fmt.Errorf("check invariants: %w", err)
			}
			r.Problems = append(r.Problems, lines...)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM message`).Scan(&r.Messages); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT body, size, sha256 FROM content ORDER BY id`)
		if err != nil {
			return err
		}
		bodies, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (verifyBody, error) {
			var b verifyBody
			return b, row.Scan(&b.name, &b.size, &b.sha256)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	for i, b := range bodies {
		if err := s.verifyBody(ctx, b, r); err != nil {
			return r, err
		}
		r.Bodies++
		if progress != nil {
			progress(int64(i+1), int64(len(bodies)))
		}
	}
	return r, nil
}

// verifyBody reads one body and records it as missing or corrupt. A body
// in the database is read from it, never from the node's cache.
func (s *Store) verifyBody(ctx context.Context, b verifyBody, r *VerifyReport) error {
	var c store.Content
	var err error
	if db, ok := s.bodies.(dbBodies); ok {
		c, err = db.openStored(ctx, b.name, false)
	} else {
		c, err = s.bodies.Open(ctx, b.name)
	}
	if errors.Is(err, store.ErrNoSuchMessage) {
		r.Missing = append(r.Missing, b.name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("open body %s: %w", b.name, err)
	}
	defer c.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(c, 0, c.Size()))
	r.Bytes += n
	switch {
	case err != nil:
		r.Corrupt = append(r.Corrupt, fmt.Sprintf("%s: %v", b.name, err))
	case c.Size() != b.size || n != b.size:
		r.Corrupt = append(r.Corrupt, fmt.Sprintf("%s: %d octets, the index says %d", b.name, n, b.size))
	case !bytes.Equal(h.Sum(nil), b.sha256):
		r.Corrupt = append(r.Corrupt, fmt.Sprintf("%s: SHA-256 differs from the index's", b.name))
	}
	return nil
}

func queryLines(ctx context.Context, tx pgx.Tx, q string) ([]string, error) {
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
