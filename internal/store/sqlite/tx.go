package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/postern/postern/internal/store"
)

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// errCommit marks a failed COMMIT: unlike an error before it, the
// transaction's effects may or may not be on disk.
var errCommit = errors.New("commit")

// event is a batch of changes to publish once its transaction commits.
type event struct {
	account store.AccountID
	from    uint64 // subscription to skip (the originating session), or 0
	changes []store.Change
}

// wtx is a write transaction in progress. Changes are queued on it and
// published only after commit (store doc: commit before broadcasting).
type wtx struct {
	*sql.Tx
	s       *Store
	events  []event
	touched map[store.MailboxID]struct{} // for the watcher's bookkeeping
}

// publish queues changes for publication after commit.
func (w *wtx) publish(account store.AccountID, from uint64, changes ...store.Change) {
	if len(changes) > 0 {
		w.events = append(w.events, event{account, from, changes})
	}
}

// touch records that the transaction changed (created, deleted or
// renamed) mailboxes, so the watcher does not take the change for another
// process's.
func (w *wtx) touch(ids ...store.MailboxID) {
	if w.touched == nil {
		w.touched = make(map[store.MailboxID]struct{})
	}
	for _, id := range ids {
		w.touched[id] = struct{}{}
	}
}

func (s *Store) publishEvents(evs []event) {
	for _, e := range evs {
		s.opts.Notifier.Publish(e.account, e.from, e.changes)
	}
}

// read runs fn in a read transaction of the read pool: one consistent
// snapshot, which never blocks writers (WAL).
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
