package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	// Flags after the positional argument, GNU style.
	// The first command creates the data directory, and says so first.
	r := e.run("s3cret\n", "user", "add", "Alice", "--password-stdin", "--admin").must(t, 0)
	if !strings.Contains(r.stderr, "warning: creating a new, empty data directory "+e.data+" (the configuration "+e.conf+")") {
		t.Errorf("no warning before creating the data directory: %q", r.stderr)
	}
	if r := e.run("other\n", "user", "add", "--password-stdin", "bob").must(t, 0); strings.Contains(r.stderr, "warning") {
		t.Errorf("warning with an existing data directory: %q", r.stderr)
	}

	r = e.run("", "user", "list").must(t, 0)
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
	// Not a terminal: del refuses without --yes, and deletes nothing.
	if r := e.run("", "user", "del", "bob").must(t, 2); !strings.Contains(r.stderr, "--yes") {
		t.Errorf("user del without --yes: %q", r.stderr)
	}
	if r := e.run("", "user", "list").must(t, 0); !strings.Contains(r.stdout, "bob") {
		t.Errorf("user del without --yes deleted bob:\n%s", r.stdout)
	}
	e.run("", "user", "del", "bob", "--yes").must(t, 0)
	e.run("", "user", "del", "--yes", "bob").must(t, 1)
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
	// The example the README tells administrators to copy must stay
	// valid: its syntax here (the system it needs, a postern account,
	// certificates in /etc/postern/tls/ and free mail ports, is not this
	// one), its values in
	// internal/config's TestExampleConfig.
	example, err := filepath.Abs("../../docs/postern.conf.example")
	if err != nil {
		t.Fatal(err)
	}
	r = e.run("", "check", "--config", example)
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if line != "" && !strings.Contains(line, "Run-As-User") && !strings.Contains(line, "Certificate-File") &&
			!strings.Contains(line, "Key-File") && !strings.Contains(line, "problem(s)") && !strings.Contains(line, "in use by another program") {
			t.Errorf("check of the example: %s", line)
		}
	}

	bad := filepath.Join(e.dir, "bad.conf")
	os.WriteFile(bad, []byte("Hostname: x\n[POP]\nLeave-In-Newmal: on\nMessage-Maximum: lots\n"), 0o600)
	r = e.run("", "check", "--config", bad).must(t, 1)
	for _, want := range []string{bad + ":3:", "Leave-In-Newmail", bad + ":4:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestCheckSystem: check finds what serve would refuse (an unknown
// Run-As-User, a missing certificate, a port another program holds, a
// data directory that is a file), each at its line; and a port held by the
// server running with the same configuration is not a problem.
func TestCheckSystem(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	e := newEnv(t, "Run-As-User: no-such-user-e2e")
	conf, _ := os.ReadFile(e.conf)
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(busyPort)+
		"\nSecure-Port: 0\nCertificate-File: "+e.dir+"/missing.crt\nMagic-File: "+e.dir+"/magic.txt", 1)
	writeFile(t, e.conf, c)
	writeFile(t, e.dir+"/magic.txt", "! site records\n0 string %PDF- application/pdf\n0 string \\q a/b\n8 belong x application/x-thing\n")
	r := e.run("", "check").must(t, 1)
	lineOf := func(field string) string {
		for i, l := range strings.Split(c, "\n") {
			if strings.HasPrefix(l, field+":") {
				return e.conf + ":" + strconv.Itoa(i+1) + ": "
			}
		}
		t.Fatalf("no %s line in %s", field, c)
		return ""
	}
	for _, want := range []string{
		lineOf("Run-As-User") + `Run-As-User: no account "no-such-user-e2e"`,
		lineOf("Certificate-File") + "[IMAP] Certificate-File: certificate file " + e.dir + "/missing.crt does not exist",
		lineOf("Server-Port") + "[IMAP] Server-Port: port 127.0.0.1:" + strconv.Itoa(busyPort) + " is in use by another program",
		e.dir + `/magic.txt:3: unknown escape \q`,
		e.dir + `/magic.txt:4: test "x" is not a number that fits in 32 bits`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stderr)
		}
	}
	// serve refuses the same configuration.
	if r := e.run("", "serve"); r.code == 0 {
		t.Errorf("serve started with what check refused")
	}

	// A data directory that is a file.
	f := newEnv(t, "")
	writeFile(t, f.data, "not a directory")
	if r := f.run("", "check").must(t, 1); !strings.Contains(r.stderr, "Data-Directory: "+f.data+" is not a directory") {
		t.Errorf("check output: %s", r.stderr)
	}

	// A port the running server of this configuration holds is free.
	g, _ := newTLSEnv(t, "IMAP", "")
	srv := startServe(t, g.dir, []string{"POSTERN_CONFIG=" + g.conf})
	if r := g.run("", "check").must(t, 0); !strings.Contains(r.stdout, "configuration OK") {
		t.Errorf("check beside its running server: %s %s", r.stdout, r.stderr)
	}
	g.run("", "ctl", "shutdown").must(t, 0)
	srv.wait()
}
