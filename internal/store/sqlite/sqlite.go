package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Names inside the data directory.
const (
	indexFile     = "index.db"
	contentDir    = "msg"
	spoolDir      = "tmp"
	locksDir      = "locks"
	storeLockFile = "index.lock"
)

// Tunables.
const (
	// busyTimeout is how long a connection waits for another process's
	// write transaction (postern deliver next to postern serve).
	busyTimeout = 10 * time.Second
	// orphanGrace is how old an unreferenced content or spool file must be
	// before Reclaim removes it while other processes may have the store
	// open: it must outlast any append between its rename and its commit.
	orphanGrace = time.Hour
	// minReadConns is the lower bound of the read pool.
	minReadConns = 4
	// readerMmapSize is the most of the index a read connection maps
	// (address space, not memory: pages are the kernel's file cache).
	readerMmapSize = 1 << 30
)

// Options configures a Store. The zero value is valid.
type Options struct {
	// Notifier carries changes between the sessions of an account. Default:
	// store.NewLocalNotifier().
	Notifier store.Notifier
	// Clock returns the current time. Default: time.Now.
	Clock func() time.Time
	// UIDValidity returns the UIDVALIDITY of a new mailbox. It must never
	// return 0, nor a value used before for a mailbox of the same name.
	// Default: the current Unix time, raised past every value the store
	// has handed out before.
	UIDValidity func() uint32
	// Logger receives the store's log lines. Default: discard.
	Logger *slog.Logger
	// WatchInterval, when positive, starts a goroutine that checks this
	// often for changes committed by other processes on the same data
	// directory and publishes them to this store's sessions. Default 0: off.
	WatchInterval time.Duration
	// QuotaStorage and QuotaMessages are the site's default quota limits
	// (RFC 9208), in octets and in messages, for accounts whose own limit
	// is store.QuotaDefault. 0 means no limit.
	QuotaStorage, QuotaMessages int64
	// SnapshotMin is the smallest mailbox, in messages, whose message
	// list the store keeps between reads (snapshot.go). 0: 10,000; the
	// tests set 1 to run every mailbox through the snapshots.
	SnapshotMin int
	// IndexDelay is how long the background search indexer waits, once
	// a message is stored, before it indexes what is pending, so that
	// messages stored together share a batch (indexer.go). Until then a
	// message is unindexed and SEARCH scans it. Default 0: 250 ms.
	// Negative: this Store runs no indexer; its messages wait for
	// another Store's indexer on the same data directory, for
	// FlushIndex, or for `postern reindex`.
	IndexDelay time.Duration
}

// Store is the SQLite store. It implements store.Store.
type Store struct {
	dir   string
	opts  Options
	log   *slog.Logger
	wdb   *sql.DB // the single writer connection
	rdb   *sql.DB // the read pool
	lockf *os.File
	files body.Files // the content files: msg/, written through tmp/

	// Prepared statements of the append hot path, on wdb.
	stmtInsertContent *sql.Stmt
	// stmtContentOf is the read hot path of FETCH BODY[] and RETR, on rdb.
	stmtContentOf *sql.Stmt
	// stmtMessageData1 is MessageData of one UID, on rdb.
	stmtMessageData1  *sql.Stmt
	stmtInsertMessage *sql.Stmt
	watch             *watcher // nil unless Options.WatchInterval > 0
	// snaps are the large mailboxes' last message lists (snapshot.go).
	snaps  snapshots
	idx    *indexer // nil when Options.IndexDelay < 0
	commit committer
	// pubMu orders publication: it is held from a commit (or the
	// watcher's look at other processes' commits) until its changes are
	// published, so sessions receive changes in commit order. It is taken
	// after the writer connection, never before.
	pubMu sync.Mutex

	// pending holds the content files renamed into msg/ whose index rows
	// are not committed yet, so Reclaim leaves them alone.
	pendingMu sync.Mutex
	pending   map[string]struct{}

	closed    atomic.Bool
	stopWatch context.CancelFunc
	watchDone chan struct{}
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.ExpungePruner = (*Store)(nil)
	_ store.IndexFlusher  = (*Store)(nil)
)

// Open opens, creating it if needed, the store in dir: it makes the
// directories, opens and migrates the index, and, when no other process
// has the store open, removes what a crash may have left behind.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.Notifier == nil {
		opts.Notifier = store.NewLocalNotifier()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger, pending: make(map[string]struct{}), files: contentFiles(dir)}
	s.snaps.min = cmp.Or(opts.SnapshotMin, snapshotMin)
	if err := s.open(ctx); err != nil {
		s.closeAll()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	if err := makeDirs(s.dir); err != nil {
		return err
	}
	exclusive, err := s.lockStore()
	if err != nil {
		return err
	}
	dbPath := filepath.Join(s.dir, indexFile)
	// Create the index with mode 0600 before SQLite does, so that it and
	// its -wal and -shm files (which copy its mode) are private.
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()

	s.wdb, err = openDB(dsn(dbPath, true))
	if err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := retryBusy(ctx, func() error { return migrate(ctx, s.wdb) }); err != nil {
		return err
	}
	if s.stmtInsertContent, err = s.wdb.PrepareContext(ctx, insertContentSQL); err != nil {
		return err
	}
	if s.stmtInsertMessage, err = s.wdb.PrepareContext(ctx, insertMessageSQL); err != nil {
		return err
	}
	s.rdb, err = openDB(dsn(dbPath, false))
	if err != nil {
		return err
	}
	n := max(minReadConns, runtime.GOMAXPROCS(0))
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n)
	if s.stmtContentOf, err = s.rdb.PrepareContext(ctx, contentOfSQL); err != nil {
		return err
	}
	if s.stmtMessageData1, err = s.rdb.PrepareContext(ctx, messageData1SQL); err != nil {
		return err
	}

	if exclusive {
		// No other process has the store open: whatever is in tmp/ and
		// every content file without an index row is a crash's leftover
		// (unless a backup is reading the files; then it waits).
		unlock, ok, err := s.tryReclaimLock()
		if err != nil {
			return err
		}
		if ok {
			_, err = s.sweep(ctx, time.Time{})
			unlock()
			if err != nil {
				return fmt.Errorf("crash recovery: %w", err)
			}
		}
	}
	if err := s.shareStoreLock(); err != nil {
		return err
	}
	if s.opts.WatchInterval > 0 {
		if err := s.startWatch(ctx); err != nil {
			return err
		}
	}
	s.startIndexer()
	return nil
}

// dsn builds the connection string. Both pools wait busyTimeout for other
// processes' locks and enforce foreign keys; the writer also sets WAL and
// synchronous=FULL (WAL is persistent, synchronous is per connection) and
// begins every transaction IMMEDIATE, so that a write transaction never has
// to upgrade a read lock (which could fail with SQLITE_BUSY regardless of the
// timeout). Readers are query-only.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
		// Issue 15: readers map the index instead of reading it a page
		// at a time. A WAL commit empties each connection's page cache,
		// so a search over a large mailbox re-read most of its pages
		// with one pread each (pprof: readDbPage ~30 % of UID SEARCH
		// FROM on 10,000 messages); mapped pages are the kernel's
		// cache, shared by the connections, with no copy.
		q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", readerMmapSize))
	}
	return "file:" + path + "?" + q.Encode()
}

// retryBusy runs fn again while it fails with SQLITE_BUSY, for up to
// busyTimeout. Opening a fresh index from two processes at once can fail so
// without the busy handler ever being asked: the first connection's switch
// to WAL needs an exclusive lock, and SQLite answers BUSY at once to a
// journal-mode change or a first read that meets it.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := fn()
		var se *msqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

func makeDirs(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, locksDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	// All 256 content subdirectories exist from the start, so that an
	// append only has to fsync the subdirectory it renamed into.
	return contentFiles(dir).Init()
}

// contentFiles is where the store in dir keeps message contents.
func contentFiles(dir string) body.Files {
	return body.Files{Dir: filepath.Join(dir, contentDir), Spool: filepath.Join(dir, spoolDir)}
}

func (s *Store) lockStore() (exclusive bool, err error) {
	s.lockf, err = os.OpenFile(filepath.Join(s.dir, locksDir, storeLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, err
	}
	err = syscall.Flock(int(s.lockf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return false, fmt.Errorf("lock store: %w", err)
	}
	return false, nil
}

// shareStoreLock turns the store lock shared (taking it, if Open could not
// take it exclusive), so that other processes can open the store.
func (s *Store) shareStoreLock() error {
	for {
		err := syscall.Flock(int(s.lockf.Fd()), syscall.LOCK_SH)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Close stops the watcher and closes the index. Sessions still open fail
// with store.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.closeAll()
}

func (s *Store) closeAll() error {
	s.stopIndexer()
	if s.stopWatch != nil {
		s.stopWatch()
		<-s.watchDone
	}
	var errs []error
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.lockf != nil {
		errs = append(errs, s.lockf.Close()) // releases the flock
	}
	return errors.Join(errs...)
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

func (s *Store) now() time.Time { return s.opts.Clock() }

// syncDir fsyncs a directory, making the renames and creations in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
