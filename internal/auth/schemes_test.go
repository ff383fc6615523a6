package auth

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// readImportFile parses a testdata password file.
func readImportFile(t *testing.T, format, path string) (users map[string]ImportedUser, errs map[string]error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	users, errs = map[string]ImportedUser{}, map[string]error{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		u, err := ParsePasswordLine(format, sc.Text())
		switch {
		case errors.Is(err, ErrSkipLine):
		case err != nil:
			name, _, _ := strings.Cut(sc.Text(), ":")
			errs[name] = err
		default:
			users[u.Name] = u
		}
	}
	return users, errs
}

// TestImportedSchemes: every hash of the testdata files (made by doveadm
// pw, mkpasswd and openssl passwd) verifies "correct horse" and refuses
// another password.
func TestImportedSchemes(t *testing.T) {
	h := newTestHasher()
	ctx := context.Background()
	for _, tf := range []struct{ format, path string }{
		{FormatDovecot, "testdata/dovecot-passwd"}, {FormatShadow, "testdata/shadow"}, {FormatHtpasswd, "testdata/htpasswd"},
	} {
		users, _ := readImportFile(t, tf.format, tf.path)
		if len(users) == 0 {
			t.Fatalf("%s: no users", tf.path)
		}
		for name, u := range users {
			if ok, err := h.verify(ctx, u.Hash, "correct horse"); !ok || err != nil {
				t.Errorf("%s %s (%s): right password: %v, %v", tf.path, name, u.Scheme, ok, err)
			}
			if ok, err := h.verify(ctx, u.Hash, "correct horsE"); ok || err != nil {
				t.Errorf("%s %s (%s): wrong password: %v, %v", tf.path, name, u.Scheme, ok, err)
			}
			if !h.NeedsRehash(u.Hash) {
				t.Errorf("%s %s: an imported hash must be rehashed", tf.path, name)
			}
		}
	}
}

// TestImportShadowLines: locks, expiry, and the lines that are refused.
func TestImportShadowLines(t *testing.T) {
	users, errs := readImportFile(t, FormatShadow, "testdata/shadow")
	if u := users["locked"]; !u.Disabled || strings.HasPrefix(u.Hash, "!") {
		t.Errorf("locked: %+v", u)
	}
	if u := users["expired"]; !u.Expires.Equal(time.Date(2022, 1, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("expired: expires %v", u.Expires)
	}
	if u := users["yes5"]; u.Disabled || !u.Expires.IsZero() || u.Scheme != "YESCRYPT" {
		t.Errorf("yes5: %+v", u)
	}
	for name, want := range map[string]error{"nopass": nil, "empty": nil, "des": ErrUnsupportedScheme, "broken": ErrInvalidHash} {
		err, ok := errs[name]
		if !ok || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: %v, want an error (%v)", name, err, want)
		}
	}
}

func TestParsePasswordLineErrors(t *testing.T) {
	bad := []struct{ format, line string }{
		{FormatDovecot, "alice"},
		{FormatDovecot, "al ice:{PLAIN}x"},
		{FormatDovecot, "alice:{NTLM}8846f7eaee8fb117ad06bdd830b7586c"},
		{FormatDovecot, "alice:{SSHA}not base64!"},
		{FormatDovecot, "alice:{SSHA}" + "AAAA"},
		{FormatDovecot, "alice:{SHA512-CRYPT}$5$abc$def"},
		{FormatDovecot, "alice:{PBKDF2}$1$salt$0$00"},
		{FormatDovecot, "alice:{PBKDF2}$1$salt$99999999999$00112233445566778899aabbccddeeff"},
		{FormatDovecot, "alice:{ARGON2ID}$argon2id$v=19$m=99999999,t=3,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"},
		{FormatDovecot, "alice:$y$j9T$$short"},
		{FormatDovecot, "alice:$y$jZZZZZ$abc$" + strings.Repeat("a", 43)},
		{FormatDovecot, "alice:$6$rounds=999999999$salt$hash"},
		{FormatDovecot, "alice:{PLAIN"},
		{FormatDovecot, "alice:"},
		{FormatHtpasswd, "alice:$apr1$x$y:extra"},
		{FormatShadow, "alice:$6$a$b:1:2:3:4:5:6:7:8:9"},
		{FormatShadow, "alice:{PLAIN}x:1:2:3:4:5:notanumber:"},
		{"ldif", "alice:{PLAIN}x"},
	}
	for _, b := range bad {
		if u, err := ParsePasswordLine(b.format, b.line); err == nil || errors.Is(err, ErrSkipLine) {
			t.Errorf("%s %q accepted: %+v", b.format, b.line, u)
		}
	}
	for _, skip := range []string{"", "   ", "# comment", "\r\n"} {
		if _, err := ParsePasswordLine(FormatDovecot, skip); !errors.Is(err, ErrSkipLine) {
			t.Errorf("%q: %v, want ErrSkipLine", skip, err)
		}
	}
	u, err := ParsePasswordLine(FormatDovecot, "Alice@Example.ORG:{PLAIN}pw:::::")
	if err != nil || u.Name != "alice@example.org" || u.Scheme != "PLAIN" {
		t.Errorf("domain user: %+v, %v", u, err)
	}
}

// TestDoveadmSchemes makes fresh hashes with Dovecot's doveadm pw, the
// oracle, and checks each verifies.
func TestDoveadmSchemes(t *testing.T) {
	path, err := exec.LookPath("doveadm")
	if err != nil {
		if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
			t.Fatal("doveadm (package dovecot-core) is required")
		}
		t.Skip("doveadm not installed")
	}
	h := newTestHasher()
	for _, s := range []string{"SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "ARGON2ID", "ARGON2I", "SSHA512",
		"SSHA256", "SSHA", "PBKDF2", "CRYPT", "MD5-CRYPT", "PLAIN"} {
		for _, pw := range []string{"x", "pässwörd with spaces"} {
			out, err := exec.Command(path, "pw", "-s", s, "-p", pw).Output()
			if err != nil {
				t.Fatalf("doveadm pw -s %s: %v", s, err)
			}
			hash := strings.TrimSpace(string(out))
			if ok, err := h.Verify(hash, pw); !ok || err != nil {
				t.Errorf("%s %q: %v, %v", hash, pw, ok, err)
			}
		}
	}
}

// TestImportedLoginUpgrades: a login with an imported hash succeeds and
// hands Options.Upgrade an argon2id hash and SCRAM keys made from the
// password; a wrong password upgrades nothing.
func TestImportedLoginUpgrades(t *testing.T) {
	users, _ := readImportFile(t, FormatDovecot, "testdata/dovecot-passwd")
	e := newTestEnv(t, func(o *Options) { o.Throttle.Off = true })
	ctx := context.Background()
	for name, u := range users {
		e.accounts.add(store.Account{Name: name, PasswordHash: u.Hash})
	}
	for name := range users {
		if _, err := e.auth.Login(ctx, name, "wrong", connFrom(addrA)); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s wrong password: %v", name, err)
		}
		if _, ok := e.accounts.upgrades[name]; ok {
			t.Errorf("%s: upgraded after a wrong password", name)
		}
		if _, err := e.auth.Login(ctx, name, "correct horse", connFrom(addrA)); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		up, ok := e.accounts.upgrades[name]
		if !ok || up.PasswordHash == nil || up.SCRAM == nil || !validSCRAM(*up.SCRAM) {
			t.Errorf("%s: no upgrade to argon2id with SCRAM keys: %+v", name, up)
			continue
		}
		if e.hasher.NeedsRehash(*up.PasswordHash) {
			t.Errorf("%s: upgraded hash %q still needs a rehash", name, *up.PasswordHash)
		}
		if ok, _ := e.hasher.Verify(*up.PasswordHash, "correct horse"); !ok {
			t.Errorf("%s: upgraded hash does not verify", name)
		}
	}
}
