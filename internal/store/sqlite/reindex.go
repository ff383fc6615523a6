package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// reindexBatch is how many contents one Reindex transaction indexes.
const reindexBatch = 100

// unindexedSQL selects the contents, referred to by a message of the
// account (any account when the parameter is 0), that have no search
// index entry or one from before schema version 11 (no kept fields or no
// text entry), from a content id on.
const unindexedSQL = `SELECT c.id, c.file, c.size, c.part FROM content c
	WHERE c.refcount > 0 AND c.id > ?2
	AND NOT EXISTS (SELECT 1 FROM search_env e WHERE e.content = c.id AND e.kept IS NOT NULL AND e.text IS NOT NULL)
	AND (?1 = 0 OR EXISTS (SELECT 1 FROM message m JOIN mailbox b ON b.id = m.mailbox WHERE m.content = c.id AND b.account = ?1))
	ORDER BY c.id LIMIT ?3`

// Reindex implements store.Reindexer: it indexes, a batch per
// transaction, the contents that have no search index entry. Each batch's
// files are read before its transaction; a content whose file cannot be
// read or parsed is skipped (and counted) and stays scanned.
func (s *Store) Reindex(ctx context.Context, account store.AccountID, progress func(store.ReindexProgress)) (store.ReindexProgress, error) {
	var p store.ReindexProgress
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+unindexedSQL+`)`, int64(account), int64(0), -1).Scan(&p.Total)
	})
	if err != nil {
		return p, fmt.Errorf("reindex: %w", err)
	}
	var after int64
	for {
		batch, err := s.unindexed(ctx, account, after)
		if err != nil {
			return p, fmt.Errorf("reindex: %w", err)
		}
		if len(batch) == 0 {
			return p, nil
		}
		after = batch[len(batch)-1].id
		docs := make([]*search.Doc, len(batch))
		for i, c := range batch {
			if docs[i], err = s.extract(c); err != nil {
				p.Skipped++
			}
		}
		err = s.write(ctx, func(w *wtx) error {
			var ids []int64
			var live []*search.Doc
			for i, c := range batch {
				if docs[i] == nil {
					continue
				}
				// The content may have lost its last message meanwhile;
				// its rows would then stay until reclaim: skip it.
				var ok bool
				if err := w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM content WHERE id = ? AND file = ? AND refcount > 0)`, c.id, c.file).Scan(&ok); err != nil {
					return err
				}
				if ok {
					ids, live = append(ids, c.id), append(live, docs[i])
				}
			}
			return insertSearchBatch(ctx, w, ids, live)
		})
		if err != nil {
			return p, fmt.Errorf("reindex: %w", err)
		}
		p.Done += len(batch) - countNil(docs)
		if progress != nil {
			progress(p)
		}
	}
}

// unindexedContent is one content Reindex reads.
type unindexedContent struct {
	id   int64
	file string
	size int64
	part []byte
}

func (s *Store) unindexed(ctx context.Context, account store.AccountID, after int64) ([]unindexedContent, error) {
	var out []unindexedContent
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, unindexedSQL, int64(account), after, reindexBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c unindexedContent
			if err := rows.Scan(&c.id, &c.file, &c.size, &c.part); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// extract reads one content's file and builds its index entry.
func (s *Store) extract(c unindexedContent) (*search.Doc, error) {
	var part message.Part
	if err := part.UnmarshalBinary(c.part); err != nil {
		return nil, err
	}
	f, err := os.Open(s.contentPath(c.file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return search.Extract(f, c.size, &part, store.KeptHeaderFields)
}

func countNil(docs []*search.Doc) int {
	n := 0
	for _, d := range docs {
		if d == nil {
			n++
		}
	}
	return n
}
