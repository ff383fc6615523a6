package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	// Flags after the positional argument, GNU style.
	e.run("s3cret\n", "user", "add", "Alice", "--password-stdin", "--admin").must(t, 0)
	e.run("other\n", "user", "add", "--password-stdin", "bob").must(t, 0)

	r := e.run("", "user", "list").must(t, 0)
	for _, want := range []string{"alice", "admin", "bob"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("user list lacks %q:\n%s", want, r.stdout)
		}
	}
	e.run("x\n", "user", "add", "alice", "--password-stdin").must(t, 1)

	r = e.run("", "user", "set", "bob", "--disabled", "--no-mail", "--expires", "2030-01-31").must(t, 0)
	if !strings.Contains(r.stdout, "disabled") || !strings.Contains(r.stdout, "no-mail") {
		t.Errorf("user set output: %q", r.stdout)
	}
	r = e.run("", "user", "list").must(t, 0)
	if !strings.Contains(r.stdout, "2030-01-31") {
		t.Errorf("expiry not listed:\n%s", r.stdout)
	}
	e.run("topsecret\n", "user", "set", "bob", "--apop-secret-stdin", "--enabled").must(t, 0)
	e.run("newpass\n", "user", "passwd", "bob", "--password-stdin").must(t, 0)
	e.run("", "user", "del", "bob").must(t, 0)
	e.run("", "user", "del", "bob").must(t, 1)
	r = e.run("", "user", "list").must(t, 0)
	if strings.Contains(r.stdout, "bob") {
		t.Errorf("bob still listed after del:\n%s", r.stdout)
	}
}

func TestUserCommandErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"bad name", "pw\n", []string{"user", "add", "al ice", "--password-stdin"}, 1, "not allowed"},
		{"plus in name", "pw\n", []string{"user", "add", "al+ice", "--password-stdin"}, 1, "not allowed"},
		{"empty password", "\n", []string{"user", "add", "carol", "--password-stdin"}, 1, "empty password"},
		{"no terminal", "", []string{"user", "add", "carol"}, 2, "--password-stdin"},
		{"contradiction", "", []string{"user", "set", "carol", "--disabled", "--enabled"}, 2, "contradict"},
		{"nothing to change", "", []string{"user", "set", "carol"}, 2, "nothing to change"},
		{"bad date", "", []string{"user", "set", "carol", "--expires", "31/01/2030"}, 2, "YYYY-MM-DD"},
		{"unknown user", "", []string{"user", "set", "nobody", "--disabled"}, 1, "no such account"},
		{"long apop secret", strings.Repeat("x", 501) + "\n", []string{"user", "set", "carol", "--apop-secret-stdin"}, 1, "500"},
		{"unknown flag", "", []string{"user", "list", "--frobnicate"}, 2, "frobnicate"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
		{"missing argument", "", []string{"user", "del"}, 2, "usage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.run(c.stdin, c.args...).must(t, c.code)
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.stderr)
			}
		})
	}
}

func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, args := range [][]string{
		{"-h"}, {"serve", "-h"}, {"check", "--help"}, {"user", "-h"}, {"user", "add", "-h"},
		{"user", "set", "--help"}, {"deliver", "-h"}, {"import", "-h"}, {"ctl", "-h"},
	} {
		r := e.run("", args...).must(t, 0)
		if !strings.Contains(r.stdout, "Usage") && !strings.Contains(r.stdout, "postern") {
			t.Errorf("%v: no help text: %q", args, r.stdout)
		}
	}
	r := e.run("", "version").must(t, 0)
	if !strings.HasPrefix(r.stdout, "Postern ") {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.run("", "check").must(t, 0)
	if !strings.Contains(r.stdout, "configuration OK") {
		t.Errorf("check: %q", r.stdout)
	}
	// The example the README tells administrators to copy must stay valid.
	example, err := filepath.Abs("../../docs/postern.conf.example")
	if err != nil {
		t.Fatal(err)
	}
	e.run("", "check", "--config", example).must(t, 0)

	bad := filepath.Join(e.dir, "bad.conf")
	os.WriteFile(bad, []byte("Hostname: x\n[POP]\nLeave-In-Newmal: on\nMessage-Maximum: lots\n"), 0o600)
	r = e.run("", "check", "--config", bad).must(t, 1)
	for _, want := range []string{bad + ":3:", "Leave-In-Newmail", bad + ":4:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stderr)
		}
	}
}
