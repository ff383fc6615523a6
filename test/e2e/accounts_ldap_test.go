package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/auth/source/ldaptest"
)

// ldapLoginScript: alice (a directory user) logs in over IMAP, POP3 and
// submission and reads the message LMTP delivered to her before her
// first login; a wrong password and the filter-excluded carol fail.
const ldapLoginScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub = (int(a) for a in sys.argv[1:4])
m = imaplib.IMAP4("127.0.0.1", imap); m.login("alice", "alice-pw"); m.select("INBOX")
typ, data = m.search(None, "ALL"); print("imap ok", len(data[0].split())); m.logout()
p = poplib.POP3("127.0.0.1", pop); p.user("alice"); p.pass_("alice-pw"); print("pop3 ok", p.stat()[0]); p.quit()
s = smtplib.SMTP("127.0.0.1", sub); s.login("alice", "alice-pw"); print("smtp ok"); s.quit()
for u, pw in (("alice", "wrong"), ("carol", "carol-pw"), ("*)(uid=*", "alice-pw")):
    try:
        imaplib.IMAP4("127.0.0.1", imap).login(u, pw); print("ACCEPTED", u)
    except imaplib.IMAP4.error as e:
        print("refused", u)
`

// ldapDownScript: with the directory stopped, each protocol answers a
// temporary failure.
const ldapDownScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub = (int(a) for a in sys.argv[1:4])
try:
    imaplib.IMAP4("127.0.0.1", imap).login("bob", "bob-pw"); print("imap ACCEPTED")
except imaplib.IMAP4.error as e:
    print("imap", e)
p = poplib.POP3("127.0.0.1", pop)
try:
    # FRIENDLY mode asks the sources at USER already (hp-system §2).
    p.user("bob"); p.pass_("bob-pw"); print("pop3 ACCEPTED")
except poplib.error_proto as e:
    print("pop3", e)
s = smtplib.SMTP("127.0.0.1", sub)
try:
    s.login("bob", "bob-pw"); print("smtp ACCEPTED")
except smtplib.SMTPAuthenticationError as e:
    print("smtp", e.smtp_code, e.smtp_error.decode())
`

// TestLDAPAccounts (issue 22): a server with Accounts: ldap, local over a
// private slapd (ldaps, test CA): LMTP delivers to a directory user's
// address before the user ever logged in (Mail-Filter makes the store
// account), the user logs in over IMAP, POP3 and submission with the
// directory password, user list --source ldap shows the account, user
// add of a directory name is refused; with the directory stopped, IMAP
// answers NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP] and SMTP 454 4.7.0.
func TestLDAPAccounts(t *testing.T) {
	t.Parallel()
	dir := ldaptest.Start(t)
	e, p, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1\nAllow-Plaintext-Auth: on\nAccounts: ldap, local\nLocal-Domains: example.org")
	pwFile := filepath.Join(e.dir, "ldap-bind-pw")
	writeFile(t, pwFile, ldaptest.RootPW+"\n")
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, e.conf, string(conf)+"\n[LDAP]\nServer-URL: "+dir.LDAPSURL+"\nCA-File: "+dir.CAFile+
		"\nBind-DN: "+ldaptest.RootDN+"\nBind-Password-File: "+pwFile+"\nBase-DN: "+ldaptest.Suffix+
		"\nUser-Filter: (&(objectClass=inetOrgPerson)(uid=%n)(!(employeeType=disabled)))\nTimeout: 1s\n")
	e.run("", "check").must(t, 0)
	if r := e.run("pw\n", "user", "add", "bob", "--password-stdin"); r.code == 0 || !strings.Contains(r.stderr, "ldap account source has a user bob") {
		t.Errorf("user add bob: exit %d, %s", r.code, r.stderr)
	}
	e.addUser("admin", "admin-pw")
	e.startMail()

	requireTool(t, "swaks")
	if out, code := runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.lmtp), "--protocol", "LMTP",
		"--from", "someone@example.net", "--to", "alice@example.org", "--body", "before the first login", "--silent", "1"); code != 0 {
		t.Fatalf("swaks to alice@example.org: exit %d\n%s", code, out)
	}
	out := python(t, ldapLoginScript, strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission))
	for _, want := range []string{"imap ok 1", "pop3 ok 1", "smtp ok", "refused alice", "refused carol", "refused *)(uid=*"} {
		if !strings.Contains(out, want) {
			t.Errorf("logins lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ACCEPTED") {
		t.Errorf("a refused login was accepted:\n%s", out)
	}
	r := e.run("", "user", "list", "--source", "ldap").must(t, 0)
	if !strings.Contains(r.stdout, "alice ") || strings.Contains(r.stdout, "admin") {
		t.Errorf("user list --source ldap:\n%s", r.stdout)
	}

	if err := dir.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer dir.Cmd.Process.Signal(syscall.SIGCONT)
	out = python(t, ldapDownScript, strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission))
	for _, want := range []string{"imap b'[UNAVAILABLE]", "pop3 b'-ERR [SYS/TEMP]", "smtp 454 4.7.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("directory stopped: lacks %q:\n%s", want, out)
		}
	}
}
