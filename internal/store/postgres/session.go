package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

// Session is one connection's view of one account.
type Session struct {
	s       *Store
	account store.AccountID
	sub     store.Subscription
	closed  atomic.Bool

	mu    sync.Mutex
	locks map[*pgx.Conn]struct{} // maildrop locks held, released by Close
}

var (
	_ store.Session        = (*Session)(nil)
	_ store.ExpungeLogger  = (*Session)(nil)
	_ store.ContentSharer  = (*Session)(nil)
	_ store.ContentLocator = (*Session)(nil)
	_ store.TopDataLoader  = (*Session)(nil)
)

// Open starts a session on an account and subscribes it to the account's
// changes.
func (s *Store) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM account WHERE id = $1)`, id).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("open session for account %d: %w", id, store.ErrNoSuchAccount)
	}
	return &Session{s: s, account: id, sub: s.notify.Subscribe(id)}, nil
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
	ss.mu.Lock()
	locks := ss.locks
	ss.locks = nil
	ss.mu.Unlock()
	for c := range locks {
		releaseLock(c)
	}
	return nil
}

func (ss *Session) checkOpen() error {
	if ss.closed.Load() || ss.s.isClosed() {
		return store.ErrClosed
	}
	return nil
}

// tx runs fn in a write transaction of the session's account.
func (ss *Session) tx(ctx context.Context, fn func(t *wtx) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	return ss.s.tx(ctx, fn)
}

// publish queues changes made by this session.
func (ss *Session) publish(t *wtx, chs ...store.Change) {
	t.publish(ss.account, ss.sub.ID(), chs...)
}

// maildropLockSpace is the first key of the two-key advisory locks that
// are POP3 maildrop locks; the second is the account ID.
const maildropLockSpace = 0x706f7033 // "pop3"

// LockMaildrop takes the account's POP3 maildrop lock (RFC 1939 §4): a
// PostgreSQL session-level advisory lock, held on a connection of its own
// (not the pool's, which a few long POP3 sessions would drain) for as long
// as the lock is. Every node conflicts with every other, and the lock goes
// with the connection when the node dies.
func (ss *Session) LockMaildrop(ctx context.Context) (release func(), err error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	c, err := pgx.ConnectConfig(ctx, ss.s.connCfg)
	if err != nil {
		return nil, fmt.Errorf("lock maildrop: %w", err)
	}
	var got bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(maildropLockSpace), int32(ss.account)).Scan(&got); err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("lock maildrop: %w", err)
	}
	if !got {
		c.Close(context.Background())
		return nil, fmt.Errorf("lock maildrop: %w", store.ErrInUse)
	}
	ss.mu.Lock()
	if ss.locks == nil {
		ss.locks = make(map[*pgx.Conn]struct{})
	}
	ss.locks[c] = struct{}{}
	ss.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			ss.mu.Lock()
			_, held := ss.locks[c]
			delete(ss.locks, c)
			ss.mu.Unlock()
			if held {
				releaseLock(c)
			}
		})
	}, nil
}

// releaseLock ends a maildrop lock's connection, which releases the lock.
func releaseLock(c *pgx.Conn) {
	c.Close(context.Background())
}

// mailboxRow is a mailbox with its owner.
type mailboxRow struct {
	store.Mailbox
	account store.AccountID
}

const mailboxColumns = `m.id, m.account, m.name, m.uidvalidity, m.uidnext, m.highestmodseq, m.special_use,
	EXISTS (SELECT 1 FROM subscription s WHERE s.account = m.account AND s.name = m.name)`

func scanMailbox(row pgx.Row) (mailboxRow, error) {
	var m mailboxRow
	var uidValidity, uidNext, modseq int64
	err := row.Scan(&m.ID, &m.account, &m.Name, &uidValidity, &uidNext, &modseq, &m.SpecialUse, &m.Subscribed)
	m.UIDValidity, m.UIDNext, m.HighestModSeq = uint32(uidValidity), store.UID(uidNext), store.ModSeq(modseq)
	return m, err
}

// mailboxByID returns a mailbox of the session's account;
// ErrNoSuchMailbox for one of another account or none. With lock, the
// row is locked for the transaction.
func (ss *Session) mailboxByID(ctx context.Context, q querier, id store.MailboxID, lock bool) (mailboxRow, error) {
	sql := `SELECT ` + mailboxColumns + ` FROM mailbox m WHERE m.id = $1 AND m.account = $2`
	if lock {
		sql += ` FOR UPDATE`
	}
	m, err := scanMailbox(q.QueryRow(ctx, sql, id, ss.account))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("mailbox %d: %w", id, store.ErrNoSuchMailbox)
	}
	return m, err
}

func mailboxByName(ctx context.Context, q querier, account store.AccountID, name string) (mailboxRow, error) {
	m, err := scanMailbox(q.QueryRow(ctx, `SELECT `+mailboxColumns+` FROM mailbox m WHERE m.account = $1 AND m.name = $2`, account, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("mailbox %q: %w", name, store.ErrNoSuchMailbox)
	}
	return m, err
}
