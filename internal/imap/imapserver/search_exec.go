package imapserver

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/postern/postern/internal/store"
)

// A SEARCH evaluates the messages batch by batch. Each batch's stored
// structure (and where its files are) is read on a goroutine of its own
// while the batch before is evaluated, and the messages of a batch are
// evaluated on up to GOMAXPROCS goroutines when the key reads message
// data: BODY and TEXT (RFC 9051 §6.4.4) read every message's text, which
// is the cost of the command. These goroutines only read the conn
// (selected view, server options, the key tree, prepared beforehand) and
// reach the store through a searchSession, which lets one goroutine at a
// time use the session; results keep the mailbox's order.

// searchBatches returns the messages of all that match key. needData: the
// messages for which the key needs the stored structure (search_index.go);
// files: it reads message files as a rule.
func (c *conn) searchBatches(ctx context.Context, key *searchKey, all []target, needData func(store.UID) bool, files bool) ([]target, error) {
	if len(all) == 0 {
		return nil, nil
	}
	var sessMu sync.Mutex
	load := func(start int) *batchLoad {
		if start >= len(all) {
			return nil
		}
		return c.startLoad(ctx, &sessMu, all[start:min(start+fetchBatch, len(all))], needData, files)
	}
	next := load(0)
	defer func() { next.wait() }() // on an early return, the load under way
	var out []target
	for start := 0; start < len(all); start += fetchBatch {
		c.reportProgress(start, len(all)) // RFC 9585 (progress.go)
		cur := next
		next = nil
		if err := cur.wait(); err != nil {
			return nil, err
		}
		next = load(start + fetchBatch)
		ok, err := c.matchBatch(ctx, key, cur, needData)
		if err != nil {
			return nil, err
		}
		for i, t := range cur.batch {
			if ok[i] {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// matchView returns the messages of all that match a key no message needs
// its stored data for (flags, UIDs, dates, sizes: SEARCH UNSEEN), on the
// calling goroutine with one searchMsg: the same matching as
// searchBatches, without its loads, workers and per-message allocations.
func (c *conn) matchView(ctx context.Context, key *searchKey, all []target) ([]target, error) {
	sc := searchScratches.Get().(*searchScratch)
	defer sc.release()
	total := uint32(len(c.sel.msgs))
	sess := &searchSession{Session: c.sess, mu: new(sync.Mutex)}
	sm := new(searchMsg)
	var out []target
	for i, t := range all {
		if i%fetchBatch == 0 {
			c.reportProgress(i, len(all)) // RFC 9585, as searchBatches reports
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		*sm = searchMsg{c: c, sess: sess, sc: sc, t: t, total: total, ctx: ctx}
		ok, err := sm.match(key)
		sm.close()
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// batchLoad is the stored data of one batch, loaded on its own goroutine.
type batchLoad struct {
	batch []target
	data  map[store.UID]store.MessageData
	sess  *searchSession
	err   error
	done  chan struct{}
}

// startLoad starts loading a batch's data, holding sessMu while it uses
// the session.
func (c *conn) startLoad(ctx context.Context, sessMu *sync.Mutex, batch []target, needData func(store.UID) bool, files bool) *batchLoad {
	l := &batchLoad{batch: batch, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer func() {
			if v := recover(); v != nil {
				l.err = workerPanic{v, debug.Stack()}
			}
		}()
		sessMu.Lock()
		defer sessMu.Unlock()
		l.data, l.sess, l.err = c.loadSearchData(ctx, batch, needData, files)
		if l.sess != nil {
			l.sess.mu = sessMu
		}
	}()
	return l
}

// wait waits for the load (l may be nil: nothing to wait for), re-raising
// its panic on the calling goroutine.
func (l *batchLoad) wait() error {
	if l == nil {
		return nil
	}
	<-l.done
	if p, ok := l.err.(workerPanic); ok {
		panic(p)
	}
	return l.err
}

// matchBatch returns, for each message of a loaded batch, whether it
// matches key.
func (c *conn) matchBatch(ctx context.Context, key *searchKey, l *batchLoad, needData func(store.UID) bool) ([]bool, error) {
	workers := 1
	if len(l.data) > 0 {
		workers = max(1, min(runtime.GOMAXPROCS(0), len(l.batch)))
	}
	res := make([]bool, len(l.batch))
	total := uint32(len(c.sel.msgs))
	err := forEachParallel(ctx, len(l.batch), workers, func(ctx context.Context, i int, sc *searchScratch) error {
		t := l.batch[i]
		sm := &searchMsg{c: c, sess: l.sess, sc: sc, t: t, total: total, ctx: ctx}
		if d, ok := l.data[t.UID]; ok {
			sm.data = &d
		} else if needData(t.UID) {
			return nil // expunged meanwhile
		}
		ok, err := sm.match(key)
		sm.close()
		res[i] = ok
		return err
	})
	return res, err
}

// loadSearchData loads the stored structure of the batch's messages that
// needData names and,
// when the key reads files and the store can (store.ContentLocator),
// where each message's content is, in the same read: then no message
// costs an index lookup of its own.
func (c *conn) loadSearchData(ctx context.Context, batch []target, needData func(store.UID) bool, files bool) (map[store.UID]store.MessageData, *searchSession, error) {
	sess := &searchSession{Session: c.sess}
	var uids []store.UID
	for _, t := range batch {
		if needData(t.UID) {
			uids = append(uids, t.UID)
		}
	}
	if len(uids) == 0 {
		return nil, sess, nil
	}
	data := make(map[store.UID]store.MessageData, len(batch))
	var err error
	if loc, ok := c.sess.(store.ContentLocator); ok && files {
		sess.refs = make(map[store.UID]store.ContentRef, len(batch))
		err = loc.MessageDataRefs(ctx, c.sel.id, uids, func(d store.MessageData, r store.ContentRef) error {
			data[d.Info.UID], sess.refs[d.Info.UID] = d, r
			return nil
		})
	} else {
		err = c.sess.MessageData(ctx, c.sel.id, uids, func(d store.MessageData) error {
			data[d.Info.UID] = d
			return nil
		})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load messages: %w", err)
	}
	c.deriveBatch(ctx, c.sel.id, func(fn func(store.UID, *store.MessageData, store.ContentRef)) {
		for u, d := range data {
			fn(u, &d, sess.refs[u])
			data[u] = d
		}
	})
	return data, sess, nil
}

// searchSession is the session as SEARCH workers use it: only OpenContent
// is called, through the batch's content refs when the store gave them
// (ContentRef.Open only opens a file, so workers call it concurrently),
// else on the session, holding mu (a store.Session is used by one
// goroutine at a time, and the next batch's load uses it meanwhile).
type searchSession struct {
	store.Session
	mu   *sync.Mutex
	refs map[store.UID]store.ContentRef // nil: open through the session
}

func (s *searchSession) OpenContent(ctx context.Context, mailbox store.MailboxID, uid store.UID) (store.Content, error) {
	if s.refs != nil {
		r, ok := s.refs[uid]
		if !ok {
			return nil, fmt.Errorf("uid %d: %w", uid, store.ErrNoSuchMessage)
		}
		return r.Open()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Session.OpenContent(ctx, mailbox, uid)
}

// forEachParallel calls fn for 0 ≤ i < n on up to workers goroutines, each
// with its own scratch buffers. It stops at the first error or when ctx
// ends, and returns that error. A panic in fn is re-raised on the calling
// goroutine, where the connection's recovery handles it.
func forEachParallel(ctx context.Context, n, workers int, fn func(context.Context, int, *searchScratch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	work := func() {
		defer wg.Done()
		sc := searchScratches.Get().(*searchScratch)
		defer sc.release()
		defer func() {
			if v := recover(); v != nil {
				fail(workerPanic{v, debug.Stack()})
			}
		}()
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			if err := fn(ctx, i, sc); err != nil {
				fail(err)
				return
			}
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work() // the calling goroutine is one of the workers
	wg.Wait()
	if p, ok := firstErr.(workerPanic); ok {
		panic(p)
	}
	return firstErr
}

// workerPanic carries a SEARCH worker's panic, with the worker's stack, to
// the connection's goroutine.
type workerPanic struct {
	val   any
	stack []byte
}

func (p workerPanic) Error() string {
	return fmt.Sprintf("search worker panic: %v\n%s", p.val, p.stack)
}
