package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
)

// chunkSize is the size of one body_chunk row: large enough that a
// message is a few rows, small enough that a partial FETCH reads little.
const chunkSize = 256 << 10

// dbBodies keeps bodies in the database (body_head, body_chunk), so that
// a node needs no shared disk.
type dbBodies struct {
	pool *pgxpool.Pool
}

var _ body.Bodies = dbBodies{}

// Create starts a body, written to a temporary file until Commit sends it.
func (b dbBodies) Create(context.Context) (body.Writer, error) {
	f, err := os.CreateTemp("", "postern-body-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // anonymous: gone with the descriptor
	return &dbWriter{b: b, File: f}, nil
}

type dbWriter struct {
	b dbBodies
	*os.File
}

// Commit copies the body into the database, in one transaction.
func (w *dbWriter) Commit(ctx context.Context, name string) error {
	defer w.Close()
	size, err := w.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO body_head (name, size) VALUES ($1, $2)`, name, size); err != nil {
			return err
		}
		buf := make([]byte, chunkSize)
		var batch pgx.Batch
		for seq, off := 0, int64(0); off < size; seq, off = seq+1, off+chunkSize {
			n, err := w.ReadAt(buf, off)
			if err != nil && err != io.EOF {
				return err
			}
			batch.Queue(`INSERT INTO body_chunk (name, seq, data) VALUES ($1, $2, $3)`, name, seq, append([]byte(nil), buf[:n]...))
		}
		return tx.SendBatch(ctx, &batch).Close()
	})
}

func (w *dbWriter) Abort() { w.Close() }

// Open returns a reader of the body's chunks.
func (b dbBodies) Open(ctx context.Context, name string) (store.Content, error) {
	var size int64
	err := b.pool.QueryRow(ctx, `SELECT size FROM body_head WHERE name = $1`, name).Scan(&size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("content %s: %w", name, store.ErrNoSuchMessage)
	}
	if err != nil {
		return nil, err
	}
	return &dbContent{pool: b.pool, name: name, size: size, last: -1}, nil
}

// Remove removes a body and its chunks.
func (b dbBodies) Remove(ctx context.Context, name string) error {
	_, err := b.pool.Exec(ctx, `DELETE FROM body_head WHERE name = $1`, name)
	return err
}

// dbContent reads a body from the database, a chunk at a time, keeping
// the last chunk read (reads are mostly sequential).
type dbContent struct {
	pool *pgxpool.Pool
	name string
	size int64

	mu   sync.Mutex
	last int    // seq of data, -1 for none
	data []byte // chunk last
}

func (c *dbContent) Size() int64  { return c.size }
func (c *dbContent) Close() error { return nil }

// ReadAt reads from the chunks that hold [off, off+len(p)).
func (c *dbContent) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= c.size {
		return 0, io.EOF
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for n < len(p) && off < c.size {
		seq := int(off / chunkSize)
		if seq != c.last {
			if err := c.load(seq); err != nil {
				return n, err
			}
		}
		at := off - int64(seq)*chunkSize
		if at >= int64(len(c.data)) {
			return n, fmt.Errorf("content %s: chunk %d is short", c.name, seq)
		}
		k := copy(p[n:], c.data[at:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (c *dbContent) load(seq int) error {
	err := c.pool.QueryRow(context.Background(), `SELECT data FROM body_chunk WHERE name = $1 AND seq = $2`, c.name, seq).Scan(&c.data)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("content %s chunk %d: %w", c.name, seq, store.ErrNoSuchMessage)
	}
	if err != nil {
		return err
	}
	c.last = seq
	return nil
}
