package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"

	msqlite "modernc.org/sqlite"
)

// Statement cache (issue 15). modernc's connection prepares every query it
// runs directly (QueryContext, ExecContext) and finalizes it afterwards:
// in the mixed IMAP load, parsing SQL was 16 % of the sessions' CPU
// (pprof, bench/RESULTS.md). The connections of both pools are wrapped so
// that database/sql prepares each query through PrepareContext, and a
// single-statement query's prepared form is kept per connection and used
// again. Behaviour is the driver's: the same statements run, reset after
// each use, and SQLite re-prepares a kept one when the schema changes.

// maxCachedStmts bounds the statements kept per connection. Queries with
// an IN list of n parameters are n distinct texts; past the bound, queries
// are prepared and finalized each time, as without the cache.
const maxCachedStmts = 256

// openDB opens a pool on dsn whose connections keep their statements.
func openDB(dsn string) (*sql.DB, error) {
	c, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

type cachingConnector struct{ driver.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: dc, stmts: map[string]*cachedStmt{}}, nil
}

// sqliteConn is what database/sql uses of a modernc connection besides
// Prepare and Close. QueryContext and ExecContext are left out on
// purpose: without them database/sql prepares every query.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is one SQLite connection and its kept statements. database/sql
// uses a connection from one goroutine at a time; mu guards the statements'
// busy marks, which a Rows closed elsewhere may clear.
type cachingConn struct {
	conn  driver.Conn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

func (c *cachingConn) sc() sqliteConn { return c.conn.(sqliteConn) }

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext returns the kept statement of query when it is not in use
// (a query may run again while its first rows are still open), else a new
// one, kept when there is room and the text is a single statement.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.mu.Lock()
	if s, ok := c.stmts[query]; ok && !s.busy {
		s.busy = true
		c.mu.Unlock()
		return s, nil
	}
	keep := len(c.stmts) < maxCachedStmts && c.stmts[query] == nil && singleStatement(query)
	c.mu.Unlock()
	ds, err := c.sc().PrepareContext(ctx, query)
	if err != nil || !keep {
		return ds, err
	}
	s := &cachedStmt{Stmt: ds, c: c, busy: true}
	c.mu.Lock()
	c.stmts[query] = s
	c.mu.Unlock()
	return s, nil
}

// singleStatement reports whether query has no ';' but a trailing one
// (scripts are re-parsed by the driver at every run anyway).
func singleStatement(query string) bool {
	q := strings.TrimRight(query, " \t\r\n;")
	return !strings.Contains(q, ";")
}

func (c *cachingConn) Close() error {
	c.mu.Lock()
	stmts := c.stmts
	c.stmts = nil
	c.mu.Unlock()
	for _, s := range stmts {
		s.Stmt.Close()
	}
	return c.conn.Close()
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.sc().BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.sc().Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error { return c.sc().ResetSession(ctx) }

func (c *cachingConn) IsValid() bool { return c.sc().IsValid() }

// cachedStmt is a kept statement. Close returns it to its connection
// instead of finalizing it; the driver has reset it by then (after the
// exec, or when its rows closed).
type cachedStmt struct {
	driver.Stmt
	c    *cachingConn
	busy bool
}

func (s *cachedStmt) Close() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.c.stmts == nil {
		return s.Stmt.Close() // the connection closed while s was in use
	}
	s.busy = false
	return nil
}

func (s *cachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *cachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
