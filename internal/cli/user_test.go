package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
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

// TestUserImport: a Dovecot passwd-file and a shadow file import with
// per-line reports, exit status 1 and a count when lines are skipped;
// --dry-run creates nothing; a name taken is skipped, not overwritten.
func TestUserImport(t *testing.T) {
	r := newCLIRunner(t, "")
	code, out, errs := r.run("", "user", "import", "../auth/testdata/dovecot-passwd", "--format", "dovecot", "--dry-run")
	if code != 0 || !strings.Contains(out, "would import 12 accounts, skipped 0") || !strings.Contains(out, "pbkdf2: PBKDF2") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	if _, out, _ := r.run("", "user", "list"); strings.Contains(out, "pbkdf2") {
		t.Fatalf("dry run created accounts:\n%s", out)
	}
	code, out, errs = r.run("", "user", "import", "../auth/testdata/dovecot-passwd", "--format", "dovecot")
	if code != 0 || !strings.Contains(out, "imported 12 accounts, skipped 0") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = r.run("", "user", "import", "../auth/testdata/dovecot-passwd", "--format", "dovecot")
	if code != 1 || !strings.Contains(out, "imported 0 accounts, skipped 12") || !strings.Contains(errs, "dovecot-passwd:2: sha512crypt: account already exists; skipped") {
		t.Fatalf("import again: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = r.run("", "user", "import", "../auth/testdata/shadow", "--format", "shadow")
	if code != 1 || !strings.Contains(out, "imported 9 accounts, skipped 4") ||
		!strings.Contains(errs, "shadow:13: des: invalid password hash: unsupported password scheme: DES crypt") ||
		!strings.Contains(out, "locked: imported (SHA512-CRYPT), disabled: locked in the file") {
		t.Fatalf("shadow import: exit %d\n%s%s", code, out, errs)
	}
	_, out, _ = r.run("", "user", "list")
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && (f[0] == "locked" && f[1] != "disabled" || f[0] == "expired" && (f[1] != "expired" || f[2] != "2022-01-08")) {
			t.Errorf("user list: %q", l)
		}
	}
	if code, _, errs := r.run("", "user", "import", "../auth/testdata/shadow"); code != 2 || !strings.Contains(errs, "--format") {
		t.Errorf("no --format: exit %d, %s", code, errs)
	}
	// passwd --hash-stdin: a supported hash is stored, anything else refused.
	code, out, errs = r.run("{SSHA}yzPeU8GcP4GU87OS9S5DVcBB3X6IJko1\n", "user", "passwd", "plain", "--hash-stdin")
	if code != 0 || !strings.Contains(out, "password changed for plain") {
		t.Errorf("--hash-stdin: exit %d %s %s", code, out, errs)
	}
	if code, _, errs := r.run("{NTLM}abc\n", "user", "passwd", "plain", "--hash-stdin"); code == 0 || !strings.Contains(errs, "unsupported") {
		t.Errorf("--hash-stdin {NTLM}: exit %d %s", code, errs)
	}
}

// TestUserListSource: user list shows the source of each account and
// --source lists one source's; a store account of an outside source gets
// no password from user passwd (its password is the source's).
func TestUserListSource(t *testing.T) {
	r := newCLIRunner(t, "")
	if code, _, errs := r.run("pw\n", "user", "add", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("add alice: %d %s", code, errs)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(filepath.Dir(r.conf), "data"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := "ldap"
	if _, err := st.CreateAccount(t.Context(), "bob", store.AccountUpdate{Source: &src}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	lines := func(args ...string) []string {
		code, out, errs := r.run("", append([]string{"user", "list"}, args...)...)
		if code != 0 {
			t.Fatalf("user list %v: exit %d %s", args, code, errs)
		}
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	all := lines()
	if len(all) != 3 || !strings.HasSuffix(all[0], "SOURCE") || !strings.HasSuffix(all[1], "local") ||
		!strings.HasPrefix(all[2], "bob ") || !strings.HasSuffix(all[2], "ldap") {
		t.Errorf("user list:\n%s", strings.Join(all, "\n"))
	}
	if got := lines("--source", "ldap"); len(got) != 2 || !strings.HasPrefix(got[1], "bob ") {
		t.Errorf("user list --source ldap:\n%s", strings.Join(got, "\n"))
	}
	if got := lines("--source", "LOCAL"); len(got) != 2 || !strings.HasPrefix(got[1], "alice ") {
		t.Errorf("user list --source local:\n%s", strings.Join(got, "\n"))
	}
	if code, _, errs := r.run("", "user", "list", "--source", "nis"); code == 0 || !strings.Contains(errs, "not an account source") {
		t.Errorf("--source nis: exit %d %s", code, errs)
	}
	if code, _, errs := r.run("new\n", "user", "passwd", "bob", "--password-stdin"); code == 0 || !strings.Contains(errs, "ldap account source") {
		t.Errorf("passwd of ldap's bob: exit %d %s", code, errs)
	}
}

// TestDeliverSystemUser: postern deliver to a host account of the system
// source that never logged in makes its store account (source system)
// and delivers; an unknown name is still EX_NOUSER; user add of a host
// name is refused.
func TestDeliverSystemUser(t *testing.T) {
	r := newCLIRunner(t, "Accounts: system, local\nSystem-Passwd-File: ../auth/source/testdata/passwd\n"+
		"System-Shadow-File: ../auth/source/testdata/shadow\n")
	if code, _, errs := r.run("From: a@example.net\nSubject: hi\n\nhello\n", "deliver", "md5"); code != 0 {
		t.Fatalf("deliver md5: exit %d %s", code, errs)
	}
	if code, _, _ := r.run("From: a@example.net\nSubject: hi\n\nhello\n", "deliver", "ghost"); code != 67 {
		t.Errorf("deliver ghost: exit %d, want 67 (EX_NOUSER)", code)
	}
	_, out, _ := r.run("", "user", "list", "--source", "system")
	if !strings.Contains(out, "md5 ") || !strings.HasSuffix(strings.TrimSpace(out), "system") {
		t.Errorf("user list --source system:\n%s", out)
	}
	if code, _, errs := r.run("pw\n", "user", "add", "yes5", "--password-stdin"); code == 0 || !strings.Contains(errs, "system account source has a user yes5") {
		t.Errorf("user add yes5: exit %d %s", code, errs)
	}
	if code, _, errs := r.run("pw\n", "user", "add", "lowuid", "--password-stdin"); code != 0 {
		t.Errorf("user add lowuid (below System-Min-UID): exit %d %s", code, errs)
	}
}
