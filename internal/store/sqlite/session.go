package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/postern/postern/internal/store"
)

// Session is one connection's view of one account. It implements
// store.Session, store.ExpungeLogger and store.ContentSharer.
type Session struct {
	s       *Store
	account store.AccountID
	sub     store.Subscription
	closed  atomic.Bool
	owned   atomic.Int64 // the last mailbox id mailboxByID found the account's

	mu    sync.Mutex
	locks map[*os.File]struct{} // maildrop locks held, released by Close
}

var (
	_ store.Session       = (*Session)(nil)
	_ store.ExpungeLogger = (*Session)(nil)
	_ store.ContentSharer = (*Session)(nil)
	_ store.TopDataLoader = (*Session)(nil)
)

// Open starts a session on an account and subscribes it to the account's
// changes.
func (s *Store) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	defer observe("open", time.Now())
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var exists bool
	if err := s.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM account WHERE id = ?)`, id).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("open session for account %d: %w", id, store.ErrNoSuchAccount)
	}
	ss := &Session{s: s, account: id, sub: s.opts.Notifier.Subscribe(id)}
	if s.watch != nil {
		s.watch.addSession(id)
	}
	return ss, nil
}

// Account returns the session's account.
func (ss *Session) Account() store.AccountID { return ss.account }

// Changes returns the session's subscription.
func (ss *Session) Changes() store.Subscription { return ss.sub }

// Close ends the session: it unsubscribes and releases the maildrop locks
// the session still holds.
func (ss *Session) Close() error {
	if ss.closed.Swap(true) {
		return nil
	}
	ss.sub.Close()
	if ss.s.watch != nil {
		ss.s.watch.removeSession(ss.account)
	}
	ss.mu.Lock()
	locks := ss.locks
	ss.locks = nil
	ss.mu.Unlock()
	for f := range locks {
		f.Close() // closing the last descriptor releases the flock
	}
	return nil
}

func (ss *Session) checkOpen() error {
	if ss.closed.Load() {
		return store.ErrClosed
	}
	return ss.s.checkOpen()
}

// LockMaildrop takes the account's POP3 maildrop lock: an exclusive,
// non-blocking flock on locks/<account>.pop. Each call opens its own file,
// so two sessions of one process conflict just as two processes do, and
// the kernel releases the lock if the process dies.
func (ss *Session) LockMaildrop(ctx context.Context) (release func(), err error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	path := filepath.Join(ss.s.dir, locksDir, maildropLockName(ss.account))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock maildrop: %w", err)
	}
	if err := flockNB(f); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock maildrop: %w", store.ErrInUse)
		}
		return nil, fmt.Errorf("lock maildrop: %w", err)
	}
	ss.mu.Lock()
	if ss.locks == nil {
		ss.locks = make(map[*os.File]struct{})
	}
	ss.locks[f] = struct{}{}
	ss.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			ss.mu.Lock()
			_, held := ss.locks[f]
			delete(ss.locks, f)
			ss.mu.Unlock()
			if held {
				f.Close()
			}
		})
	}, nil
}

func flockNB(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func maildropLockName(id store.AccountID) string { return fmt.Sprintf("%d.pop", id) }

// mailboxRow is a mailbox with its owner.
type mailboxRow struct {
	store.Mailbox
	account store.AccountID
}

const mailboxColumns = `m.id, m.account, m.name, m.uidvalidity, m.uidnext, m.highestmodseq, m.special_use,
	EXISTS (SELECT 1 FROM subscription s WHERE s.account = m.account AND s.name = m.name)`

func scanMailbox(row scanner) (mailboxRow, error) {
	var m mailboxRow
	err := row.Scan(&m.ID, &m.account, &m.Name, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq, &m.SpecialUse, &m.Subscribed)
	return m, err
}

// mailboxByID returns one of the session's mailboxes; ErrNoSuchMailbox if
// it does not exist or belongs to another account.
func (ss *Session) mailboxByID(ctx context.Context, q querier, id store.MailboxID) (mailboxRow, error) {
	m, err := scanMailbox(q.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailbox m WHERE m.id = ? AND m.account = ?`, id, ss.account))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("mailbox %d: %w", id, store.ErrNoSuchMailbox)
	}
	if err == nil {
		ss.owned.Store(int64(id))
	}
	return m, err
}

// owns reports whether mailboxByID found id to be the account's. Mailbox
// ids are never reused (AUTOINCREMENT) and a mailbox never changes
// account, so that stays true; whether it still exists is for the caller
// to know. Only the last id found is kept: the selected mailbox.
func (ss *Session) owns(id store.MailboxID) bool { return ss.owned.Load() == int64(id) }

// mailboxByName returns one of the session's mailboxes by canonical name.
func mailboxByName(ctx context.Context, q querier, account store.AccountID, name string) (mailboxRow, error) {
	m, err := scanMailbox(q.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailbox m WHERE m.account = ? AND m.name = ?`, account, name))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("mailbox %q: %w", name, store.ErrNoSuchMailbox)
	}
	return m, err
}

// read and write run fn like Store.read and Store.write, failing with
// store.ErrClosed once the session is closed.
func (ss *Session) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	return ss.s.read(ctx, fn)
}

func (ss *Session) write(ctx context.Context, fn func(w *wtx) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	return ss.s.write(ctx, fn)
}
