package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store/postgres"
	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// TestPostgresCLI: with a postgres:// Store-URL, migrate creates the
// schema, check connects and reports its version, and the user commands
// manage accounts in the database (no data directory is created for the
// store).
func TestPostgresCLI(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	pwFile := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(pwFile, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "Store-URL: "+url+"\nStore-Password-File: "+pwFile)
	want := "schema version " + strconv.Itoa(postgres.SchemaVersion())
	if r := e.run("", "migrate").must(t, 0); !strings.Contains(r.stdout, want) {
		t.Errorf("migrate: %q, want %q", r.stdout, want)
	}
	if r := e.run("", "check").must(t, 0); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "PostgreSQL") {
		t.Errorf("check: %q, want the store's %q", r.stdout, want)
	}
	e.run("s3cret\n", "user", "add", "Alice", "--password-stdin", "--admin").must(t, 0)
	e.run("other\n", "user", "add", "bob", "--password-stdin").must(t, 0)
	e.run("", "user", "set", "bob", "--disabled").must(t, 0)
	r := e.run("", "user", "list").must(t, 0)
	for _, w := range []string{"alice", "admin", "bob", "disabled"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("user list lacks %q:\n%s", w, r.stdout)
		}
	}
	e.run("", "user", "del", "bob", "--yes").must(t, 0)
	if r := e.run("", "user", "list").must(t, 0); strings.Contains(r.stdout, "bob") {
		t.Errorf("bob listed after del:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(e.data, "index.db")); err == nil {
		t.Errorf("a SQLite index was created in %s", e.data)
	}
}

// TestPostgresPasswordNotShown: a store that cannot be reached is an
// error that names it without the URL's password.
func TestPostgresPasswordNotShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "Store-URL: postgres://postern:hunter2secret@127.0.0.1:1/mail?connect_timeout=2")
	for _, args := range [][]string{{"check"}, {"user", "list"}, {"migrate"}} {
		r := e.run("", args...)
		if r.code == 0 {
			t.Errorf("%v against no database: exit 0", args)
		}
		if strings.Contains(r.stdout+r.stderr, "hunter2secret") {
			t.Errorf("%v shows the password:\n%s%s", args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "127.0.0.1") {
			t.Errorf("%v: the error does not name the store: %s", args, r.stderr)
		}
	}
}

// TestPostgresBackupRefused: backup, restore and verify --repair, which
// work on the SQLite store's files, refuse a PostgreSQL store and point
// to pg_dump rather than act on an unrelated data directory; verify
// checks the database and its bodies.
func TestPostgresBackupRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "Store-URL: "+pgtest.New(t))
	dir := t.TempDir()
	for _, args := range [][]string{{"backup", dir}, {"restore", dir}, {"verify", "--repair"}} {
		if r := e.run("", args...); r.code == 0 || !strings.Contains(r.stderr, "pg_dump") {
			t.Errorf("%v with a PostgreSQL store: exit %d, %s", args, r.code, r.stderr)
		}
	}
	e.run("alice-pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	e.run("From: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n", "deliver", "alice").must(t, 0)
	r := e.run("", "verify").must(t, 0)
	if !strings.Contains(r.stdout, "database postgres://") || !strings.Contains(r.stdout, "1 messages; 1 bodies") || !strings.Contains(r.stdout, "verify: OK") {
		t.Errorf("verify of a PostgreSQL store:\n%s", r.stdout)
	}
}

// TestStoreCopy: postern store copy moves a SQLite site into PostgreSQL;
// a server configured with the database then has the accounts and mail,
// and a second run copies nothing again.
func TestStoreCopy(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	e := newEnv(t, "")
	e.run("s3cret\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	e.run("Subject: one\n\nfirst\n", "deliver", "alice").must(t, 0)
	e.run("Subject: two\n\nsecond\n", "deliver", "alice").must(t, 0)
	r := e.run("", "store", "copy", "--from", "sqlite:"+e.data, "--to", url).must(t, 0)
	if !strings.Contains(r.stdout, "copied 1 account(s)") || !strings.Contains(r.stdout, "2 message(s) (0 already there)") {
		t.Errorf("store copy: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "[####################] 2 of 2 messages (100%)") {
		t.Errorf("no final progress line: %q", r.stderr)
	}
	r = e.run("", "store", "copy", "--from", "sqlite:"+e.data, "--to", url).must(t, 0)
	if !strings.Contains(r.stdout, "0 message(s) (2 already there)") {
		t.Errorf("second store copy: %q", r.stdout)
	}
	pg := newEnv(t, "Store-URL: "+url)
	if r := pg.run("", "user", "list").must(t, 0); !strings.Contains(r.stdout, "alice") {
		t.Errorf("user list on the copy: %q", r.stdout)
	}
	if r := e.run("", "store", "copy", "--from", "sqlite:"+e.data); r.code != 2 {
		t.Errorf("store copy without --to: exit %d, want 2 (usage)", r.code)
	}
}
