package sqlite

import (
	"context"
	"database/sql"
	"sort"
	"sync"
	"time"

	"github.com/postern/postern/internal/store"
)

// watcher turns changes that other processes commit to the index into
// Change events for this process's sessions. It keeps the last known
// state of every mailbox; all its work runs on the writer connection,
// whose PRAGMA data_version changes exactly when another connection, which
// for the writer means another process (or another Store), commits.
type watcher struct {
	s        *Store
	interval time.Duration

	// mu guards the fields below. Lock order: the writer connection
	// first, then mu.
	mu       sync.Mutex
	dv       int64                         // data_version at the last sync
	known    map[store.MailboxID]boxState  // mailbox states as last published
	sessions map[store.AccountID]int       // open sessions per account
	undo     map[store.MailboxID]*boxState // states recordOwn replaced (nil value: absent)
}

// boxState is what the watcher compares to detect a mailbox's changes.
type boxState struct {
	id      store.MailboxID
	account store.AccountID
	name    string
	uidnext store.UID
	modseq  store.ModSeq
}

func (s *Store) startWatch(ctx context.Context) error {
	w := &watcher{s: s, interval: s.opts.WatchInterval, sessions: make(map[store.AccountID]int)}
	// data_version first: a commit landing between the two reads is
	// then seen again at the first sync, which finds nothing new.
	if err := s.wdb.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&w.dv); err != nil {
		return err
	}
	boxes, err := loadBoxes(ctx, s.wdb)
	if err != nil {
		return err
	}
	w.known = boxes
	s.watch = w
	wctx, cancel := context.WithCancel(context.Background())
	s.stopWatch = cancel
	s.watchDone = make(chan struct{})
	go w.run(wctx)
	return nil
}

func loadBoxes(ctx context.Context, q querier) (map[store.MailboxID]boxState, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, account, name, uidnext, highestmodseq FROM mailbox`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	boxes := make(map[store.MailboxID]boxState)
	for rows.Next() {
		var b boxState
		if err := rows.Scan(&b.id, &b.account, &b.name, &b.uidnext, &b.modseq); err != nil {
			return nil, err
		}
		boxes[b.id] = b
	}
	return boxes, rows.Err()
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.s.watchDone)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.poll(ctx); err != nil && ctx.Err() == nil {
				w.s.log.Warn("store watch", "err", err)
			}
		}
	}
}

// poll checks data_version on the writer connection and, if another
// process committed, publishes what it changed. It takes no write lock:
// the diff runs in a read transaction on the writer connection.
func (w *watcher) poll(ctx context.Context) error {
	conn, err := w.s.wdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var dv int64
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&dv); err != nil {
		return err
	}
	w.mu.Lock()
	same := dv == w.dv
	w.mu.Unlock()
	if same {
		return nil
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // BEGIN DEFERRED
	if err != nil {
		return err
	}
	// pubMu, taken while the writer connection is held (the lock order of
	// runJobs), keeps these changes from being published after those of a
	// later commit of this process (store doc: commit order).
	w.s.pubMu.Lock()
	defer w.s.pubMu.Unlock()
	evs, err := w.sync(ctx, tx)
	tx.Rollback()
	w.s.publishEvents(evs)
	return err
}

// sync compares the index with the known state and returns the changes
// other processes made, updating the known state. q must be the writer
// connection (or a transaction on it).
func (w *watcher) sync(ctx context.Context, q querier) ([]event, error) {
	var dv int64
	if err := q.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&dv); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if dv == w.dv {
		return nil, nil
	}
	cur, err := loadBoxes(ctx, q)
	if err != nil {
		return nil, err
	}
	byAccount := make(map[store.AccountID][]store.Change)
	ids := make([]store.MailboxID, 0, len(cur))
	for id := range cur {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		b := cur[id]
		old, ok := w.known[id]
		switch {
		case !ok:
			// A new mailbox: nobody here can have it selected, so its
			// messages need no announcement.
			byAccount[b.account] = append(byAccount[b.account], store.ChangeMailbox{Kind: store.MailboxCreated, ID: id, Name: b.name})
			continue
		case old.name != b.name:
			byAccount[b.account] = append(byAccount[b.account], store.ChangeMailbox{Kind: store.MailboxRenamed, ID: id, Name: b.name, OldName: old.name})
		}
		if b.modseq > old.modseq && w.sessions[b.account] > 0 {
			chs, err := diffMailbox(ctx, q, old, b)
			if err != nil {
				return nil, err
			}
			byAccount[b.account] = append(byAccount[b.account], chs...)
		}
	}
	for id, old := range w.known {
		if _, ok := cur[id]; !ok {
			byAccount[old.account] = append(byAccount[old.account], store.ChangeMailbox{Kind: store.MailboxDeleted, ID: id, Name: old.name})
		}
	}
	w.known, w.dv = cur, dv
	evs := make([]event, 0, len(byAccount))
	for acc, chs := range byAccount {
		if w.sessions[acc] > 0 {
			evs = append(evs, event{account: acc, changes: chs})
		}
	}
	return evs, nil
}

// diffMailbox returns the changes between two states of one mailbox: the
// messages with a newer MODSEQ (new ones, at or past the old UIDNEXT, are
// additions; the others flag changes) and the logged expunges of UIDs the
// old state could have shown.
func diffMailbox(ctx context.Context, q querier, old, cur boxState) ([]store.Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = ? AND m.modseq > ? ORDER BY m.uid`, cur.id, old.modseq)
	if err != nil {
		return nil, err
	}
	var adds, flags []store.Change
	for rows.Next() {
		mi, err := scanInfo(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if mi.UID >= old.uidnext {
			adds = append(adds, store.ChangeAdd{Mailbox: cur.id, Info: mi})
		} else {
			flags = append(flags, store.ChangeFlags{Mailbox: cur.id, UID: mi.UID, ModSeq: mi.ModSeq, Flags: mi.Flags})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT uid, modseq FROM expunged WHERE mailbox = ? AND modseq > ? AND uid < ? ORDER BY modseq, uid`,
		cur.id, old.modseq, old.uidnext)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var expunges []store.Change
	var last *store.ChangeExpunge
	for rows.Next() {
		var uid store.UID
		var ms store.ModSeq
		if err := rows.Scan(&uid, &ms); err != nil {
			return nil, err
		}
		if last == nil || last.ModSeq != ms {
			if last != nil {
				expunges = append(expunges, *last)
			}
			last = &store.ChangeExpunge{Mailbox: cur.id, ModSeq: ms}
		}
		last.UIDs = append(last.UIDs, uid)
	}
	if last != nil {
		expunges = append(expunges, *last)
	}
	chs := append(adds, flags...)
	return append(chs, expunges...), rows.Err()
}

// recordOwn updates the known state of the mailboxes this process's
// transaction touched, before its commit, so that the watcher never takes
// this process's changes for another's. It returns with mu held; the
// caller calls finishOwn after the commit.
func (w *watcher) recordOwn(ctx context.Context, q querier, touched map[store.MailboxID]struct{}) error {
	w.mu.Lock()
	w.undo = make(map[store.MailboxID]*boxState, len(touched))
	for id := range touched {
		if old, ok := w.known[id]; ok {
			w.undo[id] = &old
		} else {
			w.undo[id] = nil
		}
		var b boxState
		err := q.QueryRowContext(ctx, `SELECT id, account, name, uidnext, highestmodseq FROM mailbox WHERE id = ?`, id).
			Scan(&b.id, &b.account, &b.name, &b.uidnext, &b.modseq)
		switch err {
		case nil:
			w.known[id] = b
		case sql.ErrNoRows:
			delete(w.known, id)
		default:
			return err // finishOwn(false) restores
		}
	}
	return nil
}

// finishOwn ends recordOwn: on a failed commit it restores the states it
// replaced. It releases mu.
func (w *watcher) finishOwn(committed bool) {
	if !committed {
		for id, b := range w.undo {
			if b == nil {
				delete(w.known, id)
			} else {
				w.known[id] = *b
			}
		}
	}
	w.undo = nil
	w.mu.Unlock()
}

func (w *watcher) addSession(acc store.AccountID) {
	w.mu.Lock()
	w.sessions[acc]++
	w.mu.Unlock()
}

func (w *watcher) removeSession(acc store.AccountID) {
	w.mu.Lock()
	if w.sessions[acc]--; w.sessions[acc] <= 0 {
		delete(w.sessions, acc)
	}
	w.mu.Unlock()
}
