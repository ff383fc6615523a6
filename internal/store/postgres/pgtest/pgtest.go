// Package pgtest runs a private PostgreSQL cluster for the tests of one
// package: initdb into a temporary directory, the server on a free port of
// 127.0.0.1 with its unix socket in that directory, run as an unprivileged
// user (postgres, through runuser) when the tests run as root, since
// PostgreSQL refuses to run as root. The cluster is started by the first
// [New] of a test binary and shared by its tests, each in a database of
// its own; the package's TestMain stops it ([Main], or [Stop] after
// m.Run).
//
// Without a PostgreSQL 15 or later installation the tests that need one
// are skipped, except with TEST_TOOLS_REQUIRED=1 (CI, ./test.sh), where
// they fail: test.sh lists the Debian package postgresql.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/testport"
)

// Cluster is a running private cluster.
type Cluster struct {
	dir   string // the temporary directory: data/, the socket, the log
	bin   string // the PostgreSQL bin directory
	port  int
	runAs string // the user the server runs as ("" = this process's)
	// durable keeps fsync and synchronous_commit on (StartDurable).
	durable bool
	nextDB  atomic.Int64
}

var (
	once     sync.Once
	cluster  *Cluster
	startErr error
)

// Main runs the package's tests and stops the cluster if one started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the shared cluster, if it was started.
func Stop() {
	if cluster != nil {
		cluster.Stop()
	}
}

// New returns the URL of a new, empty database on the package's cluster,
// dropped when the test ends. It fails the test when the cluster could
// not start, or skips it when PostgreSQL is not installed and
// TEST_TOOLS_REQUIRED is not 1.
func New(t testing.TB) string {
	t.Helper()
	once.Do(func() { cluster, startErr = Start() })
	if cluster == nil {
		if errors.Is(startErr, errNotInstalled) && os.Getenv("TEST_TOOLS_REQUIRED") != "1" {
			t.Skipf("PostgreSQL: %v (apt-get install postgresql)", startErr)
		}
		t.Fatalf("PostgreSQL is required (TEST_TOOLS_REQUIRED=1) or failed to start: %v", startErr)
	}
	url, err := cluster.CreateDB(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cluster.dropDB(ctx, url); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return url
}

var errNotInstalled = errors.New("no PostgreSQL 15 or later in /usr/lib/postgresql")

// binDir finds the newest PostgreSQL (15 or later) bin directory.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestV := "", 0
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(d))))
		if err == nil && v >= 15 && v > bestV {
			best, bestV = filepath.Dir(d), v
		}
	}
	if best == "" {
		return "", errNotInstalled
	}
	return best, nil
}

// Start initialises and starts a cluster for tests (fsync off).
func Start() (*Cluster, error) { return start(false) }

// StartDurable starts a cluster with PostgreSQL's default durability
// (fsync and synchronous_commit on), for the benchmark, which compares
// it with the SQLite store's fsync before every acknowledgement.
func StartDurable() (*Cluster, error) { return start(true) }

func start(durable bool) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "postern-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, durable: durable}
	if os.Geteuid() == 0 {
		if err := c.handTo("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if c.port, err = testport.Claim(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.initAndStart(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// handTo makes the cluster run as the named user, owner of its directory.
func (c *Cluster) handTo(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("running as root needs an unprivileged user %q for PostgreSQL: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		return err
	}
	c.runAs = name
	return nil
}

// command runs one of the cluster's programs as the cluster's user.
func (c *Cluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	if c.runAs == "" {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
}

func (c *Cluster) initAndStart() error {
	data := filepath.Join(c.dir, "data")
	out, err := c.command("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	// Durability of the test cluster itself is not under test: fsync off
	// keeps the many small commits of the suite fast.
	settings := []string{
		"-c listen_addresses=127.0.0.1", "-p " + strconv.Itoa(c.port), "-k " + c.dir,
		"-c max_connections=500", "-c shared_buffers=32MB",
	}
	if !c.durable {
		settings = append(settings, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	opts := strings.Join(settings, " ")
	out, err = c.command("pg_ctl", "-D", data, "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the cluster and removes its directory.
func (c *Cluster) Stop() {
	c.command("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	os.RemoveAll(c.dir)
}

// URL is the URL of a database of the cluster, over TCP to 127.0.0.1.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Port is the cluster's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// CreateDB creates a new, empty database and returns its URL.
func (c *Cluster) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.nextDB.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create test database: %w", err)
	}
	return c.URL(name), nil
}

func (c *Cluster) dropDB(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database+" WITH (FORCE)")
	return err
}

// Tool returns the path of a PostgreSQL client program (pg_dump,
// pg_restore, psql) of the installation the cluster runs, failing the
// test (or skipping it, as New does) when there is none.
func Tool(t testing.TB, name string) string {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		if errors.Is(err, errNotInstalled) && os.Getenv("TEST_TOOLS_REQUIRED") != "1" {
			t.Skipf("PostgreSQL: %v (apt-get install postgresql)", err)
		}
		t.Fatalf("PostgreSQL is required (TEST_TOOLS_REQUIRED=1): %v", err)
	}
	path := filepath.Join(bin, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("PostgreSQL program %s: %v", name, err)
	}
	return path
}
