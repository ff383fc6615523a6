// Package e2e drives the built postern binary the way an administrator
// and a mail transfer agent do: through its command line, its exit codes,
// its files and its control socket.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// binary is the postern binary built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "postern-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "postern")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/postern")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build postern:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's server directory and configuration file.
type env struct {
	t    *testing.T
	dir  string
	conf string
	data string
	logs string
}

// newEnv writes a configuration with every protocol listener off, so tests
// of the command line need no ports.
func newEnv(t *testing.T, extra string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, conf: filepath.Join(dir, "postern.conf"),
		data: filepath.Join(dir, "data"), logs: filepath.Join(dir, "log")}
	conf := fmt.Sprintf(`! written by the e2e tests
Hostname: e2e.example.org
Data-Directory: %s
Log-Directory: %s
Listen-Address: 127.0.0.1
%s
[IMAP]
Enable: off
[POP]
Enable: off
[SMTP]
Enable: off
[LMTP]
Enable: off
`, e.data, e.logs, extra)
	if err := os.WriteFile(e.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// result is what one run of the binary produced.
type result struct {
	code           int
	stdout, stderr string
}

// run runs postern with args and stdin, with the env's configuration.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	return e.runIn(e.dir, []string{"POSTERN_CONFIG=" + e.conf}, stdin, args...)
}

func (e *env) runIn(dir string, envv []string, stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("run postern %v: %v", args, err)
	}
	return r
}

// must fails the test unless r exited with code.
func (r result) must(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	return r
}
