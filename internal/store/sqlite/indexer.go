package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/postern/postern/internal/search"
)

// The search index is filled after acknowledgement (issue 15,
// docs/architecture.md "Search index"). Filling it in the delivering
// transaction cost each delivery most of its time under the write lock
// (FTS5 writes its trigrams to disk at every job's savepoint: pprof,
// bench/RESULTS.md), so an append now only adds its content's id to
// search_pending, in the transaction that inserts the content. One
// indexer per Store takes the pending contents in batches, reads each
// file (in the page cache: it was just written), extracts its index
// entry outside any transaction, and writes the entries of a batch in one
// write transaction that also removes their pending rows. Searches stay
// exact meanwhile: a content without a search_env row is unindexed, and
// the searcher scans it (store.SearchResult.Unindexed), as for mail stored
// before the index.
//
// The pending set is in the index, so a crash loses none of it: the next
// Store to open the data directory (or `postern reindex`) indexes it.

// Defaults of the indexer.
const (
	// defaultIndexDelay is how long the indexer waits after being woken
	// before it indexes, so that deliveries arriving together share a
	// batch (Options.IndexDelay).
	defaultIndexDelay = 250 * time.Millisecond
	// indexPoll is how often the indexer looks for pending contents it
	// was not woken for: those of other processes (postern deliver,
	// import), and those a failed batch left.
	indexPoll = 10 * time.Second
	// indexBatch bounds the contents of one indexing transaction, and
	// indexBatchText their text, so that the write lock, which deliveries
	// wait for, is held briefly.
	indexBatch     = 64
	indexBatchText = 4 << 20
)

// indexer is the Store's background indexer; nil when Options.IndexDelay
// is negative.
type indexer struct {
	wake chan struct{} // buffered, one: a wake-up waiting to be seen
	stop context.CancelFunc
	done chan struct{}

	mu   sync.Mutex
	pass chan struct{} // closed when the current pass ends (nextPass)
}

// nextPass returns a channel closed when the indexer's pass in progress,
// or its next one, ends.
func (x *indexer) nextPass() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.pass
}

// passEnded wakes those waiting for the pass that ended.
func (x *indexer) passEnded() {
	x.mu.Lock()
	defer x.mu.Unlock()
	close(x.pass)
	x.pass = make(chan struct{})
}

// startIndexer starts the indexer goroutine, which first indexes what is
// pending already.
func (s *Store) startIndexer() {
	if s.opts.IndexDelay < 0 {
		return
	}
	delay := s.opts.IndexDelay
	if delay == 0 {
		delay = defaultIndexDelay
	}
	ctx, cancel := context.WithCancel(context.Background())
	x := &indexer{wake: make(chan struct{}, 1), stop: cancel, done: make(chan struct{}), pass: make(chan struct{})}
	x.wake <- struct{}{}
	s.idx = x
	go s.runIndexer(ctx, x, delay)
}

// stopIndexer stops the indexer and waits for it. A batch in progress is
// rolled back; its contents stay pending.
func (s *Store) stopIndexer() {
	if s.idx != nil {
		s.idx.stop()
		<-s.idx.done
	}
}

// pokeIndexer tells the indexer that contents are pending.
func (s *Store) pokeIndexer() {
	if s.idx == nil {
		return
	}
	select {
	case s.idx.wake <- struct{}{}:
	default:
	}
}

func (s *Store) runIndexer(ctx context.Context, x *indexer, delay time.Duration) {
	defer close(x.done)
	poll := time.NewTicker(indexPoll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		case <-poll.C:
		}
		if err := s.FlushIndex(ctx); err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "search indexer failed; retrying later", slog.Any("err", err))
		}
		x.passEnded()
	}
}

// FlushIndex implements store.IndexFlusher: it indexes the pending
// contents, a batch per transaction, until none is left.
func (s *Store) FlushIndex(ctx context.Context) error {
	for {
		n, err := s.indexPending(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// pendingContent is one content waiting for its index entry; file is ""
// when the content row is gone.
type pendingContent struct {
	id       int64
	file     string
	size     int64
	part     []byte
	refcount int64
}

// indexPending indexes one batch of pending contents and returns how many
// pending rows it took (0: none was left).
func (s *Store) indexPending(ctx context.Context) (int, error) {
	batch, err := s.pendingBatch(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	docs := make([]*search.Doc, len(batch))
	text := 0
	for i, c := range batch {
		if c.file == "" || c.refcount == 0 {
			continue // gone, or expunged: nothing to index
		}
		doc, err := s.extract(unindexedContent{id: c.id, file: c.file, size: c.size, part: c.part})
		if err != nil {
			// Left to the scan, as mail stored before the index;
			// `postern reindex` tries it again.
			s.log.LogAttrs(ctx, slog.LevelWarn, "search index entry not made; the message is scanned", slog.Int64("content", c.id), slog.Any("err", err))
			continue
		}
		docs[i] = doc
		if doc.Text != nil {
			text += len(doc.Text.Header) + len(doc.Text.Body)
		}
		if text > indexBatchText {
			batch, docs = batch[:i+1], docs[:i+1]
			break
		}
	}
	err = s.write(ctx, func(w *wtx) error {
		var ids []int64
		var keep []*search.Doc
		for i, c := range batch {
			still, err := settlePending(ctx, w, c, docs[i] != nil)
			if err != nil {
				return err
			}
			if still {
				ids, keep = append(ids, c.id), append(keep, docs[i])
			}
		}
		return insertSearchBatch(ctx, w, ids, keep) // removes their pending rows
	})
	return len(batch), err
}

// pendingBatch reads up to indexBatch pending contents.
func (s *Store) pendingBatch(ctx context.Context) ([]pendingContent, error) {
	var out []pendingContent
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT p.content, coalesce(c.file, ''), coalesce(c.size, 0), c.part, coalesce(c.refcount, 0)
			FROM search_pending p LEFT JOIN content c ON c.id = p.content ORDER BY p.content LIMIT ?`, indexBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c pendingContent
			if err := rows.Scan(&c.id, &c.file, &c.size, &c.part, &c.refcount); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// settlePending decides, in the writing transaction, what becomes of a
// pending content the batch read: true when its entry is to be written
// (it is still pending, still the content the entry was made from — an id
// can be reused once its row is reclaimed — and an entry was made).
// Otherwise a content that is gone, expunged or could not be read is no
// longer pending; one whose id was reused since is pending again under
// its new file, and left for the next batch.
func settlePending(ctx context.Context, w *wtx, c pendingContent, made bool) (bool, error) {
	var still bool
	err := w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_pending p JOIN content c ON c.id = p.content
		WHERE p.content = ? AND c.file = ? AND c.refcount > 0)`, c.id, c.file).Scan(&still)
	if err != nil || (still && made) {
		return still && made, err
	}
	if still || c.file == "" || c.refcount == 0 {
		_, err = w.ExecContext(ctx, `DELETE FROM search_pending WHERE content = ? AND NOT EXISTS
			(SELECT 1 FROM content WHERE id = ? AND file <> ? AND refcount > 0)`, c.id, c.id, c.file)
	}
	return false, err
}
