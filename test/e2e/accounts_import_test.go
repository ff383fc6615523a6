package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store/sqlite"
)

// importLoginScript logs each user in over IMAP, POP3 and submission, in
// an order that rotates with the user, so that every protocol meets
// imported hashes not yet upgraded; then tries a wrong password on one.
const importLoginScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub = (int(a) for a in sys.argv[1:4])
users = sys.argv[4:]
def do_imap(u, pw):
    m = imaplib.IMAP4("127.0.0.1", imap); m.login(u, pw); m.logout()
def do_pop(u, pw):
    p = poplib.POP3("127.0.0.1", pop); p.user(u); p.pass_(pw); p.quit()
def do_smtp(u, pw):
    s = smtplib.SMTP("127.0.0.1", sub); s.login(u, pw); s.quit()
protos = [("imap", do_imap), ("pop3", do_pop), ("smtp", do_smtp)]
for i, u in enumerate(users):
    for k in range(3):
        name, fn = protos[(i + k) % 3]
        try:
            fn(u, "correct horse")
            print("ok", name, u)
        except Exception as e:
            print("FAIL", name, u, e)
    name, fn = protos[i % 3]
    try:
        fn(u, "correct horsE")
        print("WRONG-ACCEPTED", name, u)
    except Exception:
        pass
`

// TestImportDovecotLogin (issue 22): a Dovecot passwd-file made by doveadm
// pw, one user per scheme, is imported with postern user import; every
// user logs in over IMAP, POP3 and submission with the old password, and
// the first login leaves an argon2id hash with SCRAM keys in the store.
func TestImportDovecotLogin(t *testing.T) {
	t.Parallel()
	e, p, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1")
	src, err := os.ReadFile("../../internal/auth/testdata/dovecot-passwd")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.dir, "passwd")
	writeFile(t, file, string(src))
	r := e.run("", "user", "import", file, "--format", "dovecot").must(t, 0)
	if !strings.Contains(r.stdout, "imported 12 accounts, skipped 0") {
		t.Fatalf("import: %s", r.stdout)
	}
	var users []string
	for _, l := range strings.Split(string(src), "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") {
			users = append(users, name)
		}
	}
	e.startMail()
	out := python(t, importLoginScript, append([]string{strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission)}, users...)...)
	if strings.Contains(out, "FAIL") || strings.Contains(out, "WRONG-ACCEPTED") || strings.Count(out, "ok ") != 3*len(users) {
		t.Fatalf("logins:\n%s", out)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, e.data, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range users {
		a, err := st.Account(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(a.PasswordHash, "$argon2id$") || len(a.SCRAM.StoredKey) == 0 {
			t.Errorf("%s: not upgraded: hash %.20q, SCRAM %v", u, a.PasswordHash, len(a.SCRAM.StoredKey) > 0)
		}
	}
}
