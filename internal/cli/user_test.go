package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliRunner runs postern commands against a configuration in a temporary
// directory, without a terminal.
type cliRunner struct {
	t    *testing.T
	conf string
}

func newCLIRunner(t *testing.T, extra string) *cliRunner {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "postern.conf")
	body := "Hostname: mail.example.org\nData-Directory: " + filepath.Join(dir, "data") + "\n" + extra
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cliRunner{t: t, conf: conf}
}

func (r *cliRunner) run(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Environ: func() []string { return nil },
		IsTerminal: func(any) bool { return false }}
	code := Main(context.Background(), env, append(args, "--config", r.conf))
	return code, out.String(), errb.String()
}

// TestUserAddDomain: NAME@DOMAIN accounts are added; when the bare NAME
// receives that address's mail today, user add warns and, without --yes,
// asks (and so refuses without a terminal).
func TestUserAddDomain(t *testing.T) {
	r := newCLIRunner(t, "Local-Domains: example.org, example.net\n")
	if code, _, errs := r.run("pw\n", "user", "add", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("add alice: %d %s", code, errs)
	}
	code, _, errs := r.run("pw\n", "user", "add", "alice@example.org", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "account alice receives the mail of alice@example.org") || !strings.Contains(errs, "--yes") {
		t.Errorf("add alice@example.org over bare alice without --yes: exit %d, %q", code, errs)
	}
	code, out, errs := r.run("pw\n", "user", "add", "Alice@Example.ORG", "--password-stdin", "--yes")
	if code != 0 || !strings.Contains(errs, "warning:") || !strings.Contains(out, "added account alice@example.org") {
		t.Errorf("add with --yes: exit %d, %q, %q", code, out, errs)
	}
	// Not a local domain: nothing to take over, no warning.
	code, _, errs = r.run("pw\n", "user", "add", "alice@example.com", "--password-stdin")
	if code != 0 || strings.Contains(errs, "warning") {
		t.Errorf("add alice@example.com: exit %d, %q", code, errs)
	}
	// No bare account: no warning.
	code, _, errs = r.run("pw\n", "user", "add", "bob@example.net", "--password-stdin")
	if code != 0 || strings.Contains(errs, "warning") {
		t.Errorf("add bob@example.net: exit %d, %q", code, errs)
	}
	if code, _, errs := r.run("pw\n", "user", "add", "bob@exa_mple.net", "--password-stdin"); code == 0 {
		t.Errorf("add bob@exa_mple.net accepted: %q", errs)
	}
	_, out, _ = r.run("", "user", "list")
	for _, want := range []string{"alice ", "alice@example.org", "alice@example.com", "bob@example.net"} {
		if !strings.Contains(out, want) {
			t.Errorf("user list lacks %q:\n%s", want, out)
		}
	}
}
