// Package postgres is the PostgreSQL store: several Postern nodes share
// one database (docs/scale-out.md). It implements store.Store and passes
// the storetest conformance suite.
//
// Every write is one transaction. A mailbox's UIDs and MODSEQs are taken
// from its row by an UPDATE, whose row lock orders the mailbox's writers
// on every node, so UIDs follow commit order. Changes are sent with
// pg_notify inside the transaction that makes them: PostgreSQL delivers
// notifications on commit, in commit order, to every node's listener,
// which publishes them to that node's sessions (the store's own sessions
// included: there is no local shortcut that could overtake another
// node's earlier commit). Message bodies go to the database in chunks by
// default, or to local files (Options.Bodies).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
)

// Options configures a Store. The zero value is valid.
type Options struct {
	// Password, when set, replaces the URL's password (Store-Password-File).
	Password string
	// Bodies keeps message bodies. Default: in the database (chunks).
	Bodies body.Bodies
	// Notifier carries changes to this node's sessions. Default:
	// store.NewLocalNotifier().
	Notifier store.Notifier
	// Clock returns the current time. Default: time.Now.
	Clock func() time.Time
	// UIDValidity returns the UIDVALIDITY of a new mailbox; default: the
	// current Unix time raised past every value handed out before, taken
	// from the database so that two nodes never hand out the same.
	UIDValidity func() uint32
	// Logger receives the store's log lines. Default: discard.
	Logger *slog.Logger
	// QuotaStorage and QuotaMessages are the site's default quota limits.
	QuotaStorage, QuotaMessages int64
	// MaxConns bounds the connection pool; 0: defaultMaxConns.
	MaxConns int32
}

// defaultMaxConns bounds a node's pool: its queries are short, but a
// mail server runs many sessions at once (pgxpool's own default is
// max(4, CPUs)). The listener and each POP3 maildrop lock have their own
// connection besides.
const defaultMaxConns = 20

// Store is the PostgreSQL store.
type Store struct {
	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig // for the connections outside the pool (maildrop locks)
	opts    Options
	log     *slog.Logger
	bodies  body.Bodies
	notify  store.Notifier
	listen  *listener
	// queueWake is signalled when any node queued a message due now.
	queueWake chan struct{}
	// trigram: search_text has its pg_trgm indexes (schema version 6).
	trigram bool

	mu     sync.Mutex
	closed bool
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.ExpungePruner = (*Store)(nil)
	_ store.Checker       = (*Store)(nil)
)

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Config parses a postgres:// URL with the options' password, for Open
// and for the commands that only read the schema version.
func Config(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL: never the password.
		return nil, errors.New("postgres: the Store-URL does not parse as a PostgreSQL connection URL")
	}
	if opts.Password != "" {
		cfg.ConnConfig.Password = opts.Password
	}
	cfg.MaxConns = defaultMaxConns
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	return cfg, nil
}

// Open connects to the database, applies the schema migrations and starts
// listening for changes.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Notifier == nil {
		opts.Notifier = store.NewLocalNotifier()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := Config(url, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, connCfg: cfg.ConnConfig, opts: opts, log: opts.Logger, notify: opts.Notifier, bodies: opts.Bodies,
		queueWake: make(chan struct{}, 1)}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if s.bodies == nil {
		s.bodies = dbBodies{pool: pool, cache: newBodyCache(bodyCacheBytes)}
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) = 2 FROM pg_indexes WHERE tablename = 'search_text'
		AND indexname IN ('search_text_body_trgm', 'search_text_hdr_trgm')`).Scan(&s.trigram); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !s.trigram {
		s.log.Warn("no trigram index (pg_trgm): SEARCH BODY and TEXT compare every index row of a mailbox")
	}
	if s.listen, err = startListener(ctx, s, cfg.ConnConfig); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: listen: %w", err)
	}
	return s, nil
}

// SchemaVersion returns the database's schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return readVersion(ctx, s.pool)
}

// Close stops the listener and closes the pool.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.listen.stop()
	s.pool.Close()
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Check answers a read and checks that the body store takes a write.
func (s *Store) Check(ctx context.Context) error {
	if _, err := readVersion(ctx, s.pool); err != nil {
		return err
	}
	w, err := s.bodies.Create(ctx)
	if err != nil {
		return err
	}
	w.Abort()
	return nil
}

func (s *Store) now() time.Time { return s.opts.Clock() }

// tx runs fn in one read-committed transaction; the changes it queued are
// sent with pg_notify before the commit, so they are delivered exactly
// when it commits.
func (s *Store) tx(ctx context.Context, fn func(t *wtx) error) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t := &wtx{Tx: tx, s: s}
		if err := fn(t); err != nil {
			return err
		}
		return t.flush(ctx)
	})
}

// wtx is a write transaction and the changes it will announce.
type wtx struct {
	pgx.Tx
	s       *Store
	account store.AccountID
	from    uint64
	changes []store.Change
}

// publish queues changes of an account, made by the subscription from.
func (t *wtx) publish(account store.AccountID, from uint64, chs ...store.Change) {
	if len(t.changes) > 0 && (t.account != account || t.from != from) {
		panic("postgres: one transaction publishes for one account and session")
	}
	t.account, t.from = account, from
	t.changes = append(t.changes, chs...)
}

func (t *wtx) flush(ctx context.Context) error {
	if len(t.changes) == 0 {
		return nil
	}
	for _, payload := range encodeChanges(t.account, t.from, t.changes) {
		if _, err := t.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
			return err
		}
	}
	return nil
}

// isUnique reports a unique-constraint violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
