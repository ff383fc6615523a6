package postgres

import (
	"bytes"
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
	pool  *pgxpool.Pool
	cache *bodyCache // bodies of one chunk or less, by name
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

// Open returns a reader of the body's chunks. One round trip reads the
// size and the first chunk, which is the whole of most messages; such a
// body is kept in the node's cache, and read from it next time.
func (b dbBodies) Open(ctx context.Context, name string) (store.Content, error) {
	if data, ok := b.cache.get(name); ok {
		return cachedContent{bytes.NewReader(data)}, nil
	}
	return b.openStored(ctx, name, true)
}

// openStored opens the body as the database holds it, bypassing the
// cache (Verify checks the database); keep puts a small body in it.
func (b dbBodies) openStored(ctx context.Context, name string, keep bool) (store.Content, error) {
	var size int64
	var first []byte
	err := b.pool.QueryRow(ctx, `SELECT h.size, c.data FROM body_head h
		LEFT JOIN body_chunk c ON c.name = h.name AND c.seq = 0 WHERE h.name = $1`, name).Scan(&size, &first)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("content %s: %w", name, store.ErrNoSuchMessage)
	}
	if err != nil {
		return nil, err
	}
	if size <= chunkSize && int64(len(first)) == size {
		if keep {
			b.cache.put(name, first)
		}
		return cachedContent{bytes.NewReader(first)}, nil
	}
	c := &dbContent{pool: b.pool, name: name, size: size, first: -1}
	if first != nil {
		c.first, c.chunks = 0, [][]byte{first}
	}
	return c, nil
}

// Remove removes a body and its chunks.
func (b dbBodies) Remove(ctx context.Context, name string) error {
	b.cache.remove(name)
	_, err := b.pool.Exec(ctx, `DELETE FROM body_head WHERE name = $1`, name)
	return err
}

// readAhead is how many chunks one round trip reads past the first:
// at most 1 MiB held per open body, and a large attachment in a quarter
// of the round trips of a chunk at a time.
const readAhead = 4

// dbContent reads a body from the database, a few chunks per round trip,
// keeping the chunks last read (reads are mostly sequential).
type dbContent struct {
	pool *pgxpool.Pool
	name string
	size int64

	mu     sync.Mutex
	first  int      // seq of chunks[0], -1 for none
	chunks [][]byte // consecutive chunks from first
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
		if c.first < 0 || seq < c.first || seq >= c.first+len(c.chunks) {
			if err := c.load(seq); err != nil {
				return n, err
			}
		}
		data := c.chunks[seq-c.first]
		at := off - int64(seq)*chunkSize
		if at >= int64(len(data)) {
			return n, fmt.Errorf("content %s: chunk %d is short", c.name, seq)
		}
		k := copy(p[n:], data[at:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// load reads chunk seq and up to readAhead-1 after it in one query.
func (c *dbContent) load(seq int) error {
	end := min(seq+readAhead, int((c.size+chunkSize-1)/chunkSize))
	rows, err := c.pool.Query(context.Background(), `SELECT seq, data FROM body_chunk
		WHERE name = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`, c.name, seq, end)
	if err != nil {
		return err
	}
	var chunks [][]byte
	for rows.Next() {
		var got int
		var data []byte
		if err := rows.Scan(&got, &data); err != nil {
			rows.Close()
			return err
		}
		if got != seq+len(chunks) {
			break // a gap: reported below as a missing chunk
		}
		chunks = append(chunks, data)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(chunks) == 0 {
		return fmt.Errorf("content %s chunk %d: %w", c.name, seq, store.ErrNoSuchMessage)
	}
	c.first, c.chunks = seq, chunks
	return nil
}
