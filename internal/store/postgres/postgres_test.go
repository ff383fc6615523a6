package postgres

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
	"github.com/postern/postern/internal/store/postgres/pgtest"
	"github.com/postern/postern/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openStore opens a store on url, closed when the test ends.
func openStore(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the store conformance suite, each subtest on a
// database of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openStore(t, pgtest.New(t), Options{})
	})
}

// TestMigrateTwice: a second Open finds the schema current and changes
// nothing; the version is the program's.
func TestMigrateTwice(t *testing.T) {
	url := pgtest.New(t)
	a := openStore(t, url, Options{})
	b := openStore(t, url, Options{})
	for _, s := range []*Store{a, b} {
		v, err := s.SchemaVersion(context.Background())
		if err != nil || v != SchemaVersion() {
			t.Errorf("schema version %d, %v; want %d", v, err, SchemaVersion())
		}
	}
}

// TestConformanceFiles runs the suite with Content-Store: FILES, bodies
// as files beside the database.
func TestConformanceFiles(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		dir := t.TempDir()
		files := body.Files{Dir: filepath.Join(dir, "msg"), Spool: filepath.Join(dir, "tmp")}
		if err := files.Init(); err != nil {
			t.Fatal(err)
		}
		return openStore(t, pgtest.New(t), Options{Bodies: files})
	})
}

// TestBodiesChunked: a body of several chunks reads back whole and in
// ranges that cross chunk boundaries, and is gone once removed.
func TestBodiesChunked(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, pgtest.New(t), Options{})
	data := make([]byte, 2*chunkSize+1234)
	for i := range data {
		data[i] = byte(i*7 + i/chunkSize)
	}
	w, err := s.bodies.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	name := body.NewName()
	if err := w.Commit(ctx, name); err != nil {
		t.Fatal(err)
	}
	c, err := s.bodies.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size() != int64(len(data)) {
		t.Fatalf("size %d, want %d", c.Size(), len(data))
	}
	for _, r := range [][2]int{{0, len(data)}, {chunkSize - 10, chunkSize + 10}, {2*chunkSize - 1, 2*chunkSize + 1234}, {5, 6}} {
		buf := make([]byte, r[1]-r[0])
		n, err := c.ReadAt(buf, int64(r[0]))
		if n != len(buf) || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[r[0]:r[1]]) {
			t.Errorf("ReadAt [%d, %d): %d octets, %v, equal %v", r[0], r[1], n, err, bytes.Equal(buf[:n], data[r[0]:r[0]+n]))
		}
	}
	if n, err := c.ReadAt(make([]byte, 10), int64(len(data)-4)); n != 4 || err != io.EOF {
		t.Errorf("ReadAt past the end: %d, %v; want 4, EOF", n, err)
	}
	c.Close()
	if err := s.bodies.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.bodies.Open(ctx, name); !errors.Is(err, store.ErrNoSuchMessage) {
		t.Errorf("Open after Remove: %v; want ErrNoSuchMessage", err)
	}
}

// TestMigrateFromVersion1: a database at schema version 1 with mail in it
// is brought to the current version at Open, keeps its mail, and the
// newer tables work (metadata, removed with its mailbox).
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	url := pgtest.New(t)
	cfg, err := Config(url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateWith(ctx, pool, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	if v, err := readVersion(ctx, pool); err != nil || v != 1 {
		t.Fatalf("version %d, %v; want 1", v, err)
	}
	pool.Close()
	s := openStore(t, url, Options{})
	if v, err := s.SchemaVersion(ctx); err != nil || v != SchemaVersion() {
		t.Fatalf("after Open: version %d, %v; want %d", v, err, SchemaVersion())
	}
	acc, err := s.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := s.Open(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	mb, err := ss.CreateMailbox(ctx, "Old", "")
	if err != nil {
		t.Fatal(err)
	}
	mk := ss.(store.MetadataKeeper)
	if err := mk.SetMetadata(ctx, mb.ID, []store.MetadataEntry{{Name: "/private/comment", Value: []byte("x")}}, 10); err != nil {
		t.Fatal(err)
	}
	if err := ss.DeleteMailbox(ctx, "Old"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM metadata`).Scan(&n); err != nil || n != 0 {
		t.Errorf("metadata rows after the mailbox was deleted: %d, %v", n, err)
	}
}
