package sqlite

import (
	"context"
	"fmt"
	"sync"
)

// Group commit. Every write goes through one SQLite connection, and each
// COMMIT costs an fsync of the WAL. When several sessions write at once
// (LMTP clients delivering in parallel), their transactions are merged:
// one goroutine, the leader, runs the queued jobs in a single transaction,
// each inside its own SAVEPOINT so that a failing job is rolled back alone,
// commits once, and then wakes every job with its own result. The leader
// is whichever writer found no batch running; when its own job is done it
// hands the lead to the next waiting writer, so no writer is kept working
// for others indefinitely.
//
// Durability is unchanged: a job's caller returns only after the COMMIT
// that contains it has returned (synchronous=FULL), and its changes are
// published only after that commit.

// maxBatch bounds how many jobs share one transaction, so that the write
// lock is never held for long.
const maxBatch = 64

// writeJob is one caller's write, waiting to be run by a leader.
type writeJob struct {
	ctx  context.Context
	fn   func(w *wtx) error
	done chan error    // the job's result
	lead chan struct{} // closed to make this job's goroutine the leader
	evs  []event
	err  error
}

// committer queues write jobs.
type committer struct {
	mu      sync.Mutex
	queue   []*writeJob
	leading bool
}

// write runs fn in a write transaction shared with concurrent writers,
// commits, and then publishes the changes fn queued. fn must be short and
// must never wait on a client or fsync a content file: the transaction
// holds SQLite's write lock.
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	job := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1), lead: make(chan struct{})}
	c := &s.commit
	c.mu.Lock()
	c.queue = append(c.queue, job)
	if c.leading {
		c.mu.Unlock()
		select {
		case err := <-job.done:
			return err
		case <-job.lead:
		}
	} else {
		c.leading = true
		c.mu.Unlock()
	}
	s.lead(job)
	return <-job.done
}

// lead runs batches until mine is done, then passes the lead on.
func (s *Store) lead(mine *writeJob) {
	c := &s.commit
	for {
		c.mu.Lock()
		n := min(len(c.queue), maxBatch)
		batch := c.queue[:n:n]
		c.queue = c.queue[n:]
		c.mu.Unlock()
		s.runBatch(batch)
		select {
		case err := <-mine.done:
			mine.done <- err // put it back for write to return
			c.mu.Lock()
			if len(c.queue) == 0 {
				c.leading = false
			} else {
				close(c.queue[0].lead)
			}
			c.mu.Unlock()
			return
		default:
		}
	}
}

// runBatch runs jobs in one transaction, commits, publishes, and wakes
// each job. Publication follows commit order (store doc): runJobs returns
// holding pubMu, which is released only once the changes other processes
// committed before this batch and the batch's own changes are published.
func (s *Store) runBatch(jobs []*writeJob) {
	foreign, err := s.runJobs(jobs)
	s.publishEvents(foreign)
	for _, j := range jobs {
		if j.err == nil && err != nil {
			j.err = err
		}
		if j.err == nil {
			s.publishEvents(j.evs)
		}
	}
	s.pubMu.Unlock()
	for _, j := range jobs {
		j.done <- j.err
	}
}

// runJobs is the transaction of runBatch. It returns, with pubMu held, the
// changes other processes committed before it, and an error that fails
// every job (begin or commit failed); a job's own failure is in its err.
// pubMu is taken once the writer connection is held, the order the
// watcher's poll takes them in too.
func (s *Store) runJobs(jobs []*writeJob) ([]event, error) {
	ctx := context.Background()
	tx, err := s.wdb.BeginTx(ctx, nil)
	s.pubMu.Lock()
	if err != nil {
		return nil, err
	}
	var foreign []event
	if s.watch != nil {
		// Changes other processes committed since the last look are
		// published first, so that every session sees commit order.
		if foreign, err = s.watch.sync(ctx, tx); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	w := &wtx{Tx: tx, s: s}
	ok := 0
	for _, j := range jobs {
		j.err = s.runJob(ctx, w, j)
		if j.err == nil {
			ok++
		}
	}
	if ok == 0 {
		tx.Rollback()
		return foreign, nil
	}
	recorded := false
	if s.watch != nil {
		err = s.watch.recordOwn(ctx, tx, w.touched)
		recorded = true
	}
	if err == nil {
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("%w: %w", errCommit, err)
		}
	} else {
		tx.Rollback()
	}
	if recorded {
		s.watch.finishOwn(err == nil)
	}
	return foreign, err
}

// runJob runs one job inside a savepoint of the batch's transaction; on
// failure only its own effects are rolled back.
func (s *Store) runJob(ctx context.Context, w *wtx, j *writeJob) error {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, `SAVEPOINT job`); err != nil {
		return err
	}
	w.events = nil
	if err := j.fn(w); err != nil {
		if _, rerr := w.ExecContext(ctx, `ROLLBACK TO job`); rerr != nil {
			return fmt.Errorf("%w (and rollback failed: %v)", err, rerr)
		}
		w.ExecContext(ctx, `RELEASE job`)
		return err
	}
	if _, err := w.ExecContext(ctx, `RELEASE job`); err != nil {
		return err
	}
	j.evs = w.events
	return nil
}
