package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportAllUsers: a site-wide run imports each user of the users
// file from SOURCE with %u replaced, reports each user, fails (after
// doing the others) for a user whose source is missing; --dry-run
// changes nothing; a second run adds nothing.
func TestImportAllUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, u := range []string{"alice", "bob", "carol"} {
		e.run("pw\n", "user", "add", u, "--password-stdin").must(t, 0)
	}
	homes := filepath.Join(e.dir, "home")
	for _, u := range []string{"al", "bo"} {
		root := filepath.Join(homes, u, "Maildir")
		dovecotTree(t, root)
		os.Remove(filepath.Join(root, "cur", "1600000008.M1P3.host,S=2:2,S")) // the damaged one
	}
	users := filepath.Join(e.dir, "users")
	os.WriteFile(users, []byte("# source postern\nal alice\nbo bob\n\nnobody carol\n"), 0o600)
	source := filepath.Join(homes, "%u", "Maildir")

	r := e.run("", "import", "--all-users", "--users-file", users, "--format", "dovecot", "--dry-run", source)
	if r.code == 0 || !strings.Contains(r.stdout, "al -> alice: would import 2 folder(s)") ||
		!strings.Contains(r.stdout, "nobody -> carol: FAILED") || !strings.Contains(r.stdout, "checked 3 user(s): 2 ok, 1 failed") {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := mailboxCounts(t, e.data, "alice")["INBOX"]; n != 0 {
		t.Fatalf("a dry run imported %d messages", n)
	}
	r = e.run("", "import", "--all-users", "--users-file", users, "--format", "dovecot", "--jobs", "2", source)
	if r.code == 0 || !strings.Contains(r.stdout, "al -> alice: imported 4 message(s)") ||
		!strings.Contains(r.stdout, "bo -> bob: imported 4 message(s)") || !strings.Contains(r.stdout, "imported 3 user(s): 2 ok, 1 failed") {
		t.Fatalf("site-wide run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, u := range []string{"alice", "bob"} {
		if mb, msgs, _ := mailboxState(t, e.data, u, "INBOX"); mb.UIDValidity != 1600000000 || len(msgs) != 3 {
			t.Errorf("%s: INBOX %+v with %d messages", u, mb, len(msgs))
		}
	}
	os.WriteFile(users, []byte("al alice\nbo bob\n"), 0o600)
	r = e.run("", "import", "--all-users", "--users-file", users, "--format", "dovecot", source).must(t, 0)
	if !strings.Contains(r.stdout, "al -> alice: imported 0 message(s)") || !strings.Contains(r.stdout, "4 already there") {
		t.Errorf("second site-wide run:\n%s", r.stdout)
	}
	r = e.run("", "import", "--all-users", "--users-file", users, "alice", source)
	if r.code == 0 {
		t.Errorf("--all-users with NAME SOURCE accepted:\n%s", r.stdout)
	}
}
