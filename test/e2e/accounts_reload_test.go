package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReloadAccountSources (issue 22, reload of issue 16): a server
// started with Accounts: local gets the system source by an edit of the
// file and `ctl reload`, and a host user logs in at once, while a session
// opened before goes on; a reload naming an [LDAP] section whose
// Bind-Password-File is missing is refused with the message `postern
// check` gives, and the sources in effect keep working; removing the
// system source by reload refuses its users again, though their login is
// in the auth cache.
func TestReloadAccountSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"passwd", "shadow"} {
		b, err := os.ReadFile("../../internal/auth/source/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), string(b))
	}
	e, _, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1\nAllow-Plaintext-Auth: on\nAccounts: local\nAuth-Cache-TTL: 10m\n")
	e.addUser("alice", "alice-pw")
	e.startMail()
	edit := func(old, new string) {
		t.Helper()
		b, err := os.ReadFile(e.conf)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("no %q in the configuration", old)
		}
		writeFile(t, e.conf, strings.Replace(string(b), old, new, 1))
	}
	login := func(user, pass string) bool {
		t.Helper()
		c, err := dialFrom("127.0.0.1", imap)
		if err != nil {
			t.Fatal(err)
		}
		defer c.nc.Close()
		c.line(5 * time.Second)
		_, err = c.cmd("a LOGIN "+user+" \""+pass+"\"", "a OK", 20*time.Second)
		return err == nil
	}
	const pw = "correct horse"
	if login("yes5", pw) {
		t.Fatal("host user yes5 logged in with Accounts: local")
	}
	before, err := dialFrom("127.0.0.1", imap)
	if err != nil {
		t.Fatal(err)
	}
	defer before.nc.Close()
	before.line(5 * time.Second)
	if _, err := before.cmd("a LOGIN alice alice-pw", "a OK", 20*time.Second); err != nil {
		t.Fatal(err)
	}

	// The system source added.
	edit("Accounts: local\n", "Accounts: local, system\nSystem-Passwd-File: "+filepath.Join(dir, "passwd")+
		"\nSystem-Shadow-File: "+filepath.Join(dir, "shadow")+"\n")
	r := e.run("", "ctl", "reload").must(t, 0)
	if !strings.Contains(r.stdout, "applied: Accounts: local, system") || strings.Contains(r.stdout, "restart needed") {
		t.Errorf("reload output: %s", r.stdout)
	}
	if !login("yes5", pw) {
		t.Error("host user yes5 refused after the system source was added by reload")
	}
	if login("md5", "correct horsE") {
		t.Error("md5 logged in with a wrong password")
	}
	if _, err := before.cmd("b NOOP", "b OK", 5*time.Second); err != nil {
		t.Errorf("the session opened before the reload: %v", err)
	}

	// A broken [LDAP] section: refused, nothing changes.
	good, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-bind-password")
	writeFile(t, e.conf, strings.Replace(string(good), "Accounts: local, system\n", "Accounts: local, system, ldap\n", 1)+
		"\n[LDAP]\nServer-URL: ldap://127.0.0.1:1\nBase-DN: dc=example,dc=org\nBind-DN: cn=postern,dc=example,dc=org\nBind-Password-File: "+missing+"\n")
	r = e.run("", "ctl", "reload")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Bind-Password-File") || !strings.Contains(r.stderr, "nothing changed") {
		t.Errorf("reload with a missing Bind-Password-File: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if c := e.run("", "check"); c.code == 0 || !strings.Contains(c.stdout+c.stderr, "ldap account source: Bind-Password-File") {
		t.Errorf("check with a missing Bind-Password-File: exit %d\n%s%s", c.code, c.stdout, c.stderr)
	}
	if !login("yes5", pw) || !login("alice", "alice-pw") {
		t.Error("the sources in effect stopped working after a refused reload")
	}

	// The system source removed: its user is refused though cached.
	writeFile(t, e.conf, strings.Replace(string(good), "Accounts: local, system\n", "Accounts: local\n", 1))
	e.run("", "ctl", "reload").must(t, 0)
	if login("yes5", pw) {
		t.Error("host user yes5 still logs in after the system source was removed by reload")
	}
	if !login("alice", "alice-pw") {
		t.Error("alice refused after the reload")
	}
}
