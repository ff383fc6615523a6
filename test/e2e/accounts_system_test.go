package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// systemLoginScript: host accounts log in over IMAP, POP3 and submission
// with their shadow passwords (yescrypt, bcrypt, sha-crypt); md5 reads
// the message LMTP delivered before its first login; a locked, a low-UID
// and a wrong-password login fail.
const systemLoginScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub = (int(a) for a in sys.argv[1:4])
pw = "correct horse"
m = imaplib.IMAP4("127.0.0.1", imap); m.login("yes5", pw); print("imap ok yes5"); m.logout()
m = imaplib.IMAP4("127.0.0.1", imap); m.login("md5", pw); m.select("INBOX")
typ, data = m.search(None, "ALL"); print("imap ok md5", len(data[0].split())); m.logout()
p = poplib.POP3("127.0.0.1", pop); p.user("bcrypt"); p.pass_(pw); print("pop3 ok bcrypt"); p.quit()
s = smtplib.SMTP("127.0.0.1", sub); s.login("sha512", pw); print("smtp ok sha512"); s.quit()
for u, p2 in (("locked", pw), ("lowuid", pw), ("sha256", "correct horsE"), ("empty", "")):
    try:
        imaplib.IMAP4("127.0.0.1", imap).login(u, p2); print("ACCEPTED", u)
    except imaplib.IMAP4.error as e:
        print("refused", u)
`

// TestSystemAccounts (issue 22): a server with Accounts: system, local
// over test copies of passwd and shadow (hashes by Debian's mkpasswd):
// LMTP delivers to a host user before its first login, host users log in
// over IMAP, POP3 and submission through the privileged helper, user list
// --source system shows them, user add of a host name is refused.
func TestSystemAccounts(t *testing.T) {
	t.Parallel()
	requireTool(t, "swaks")
	dir := t.TempDir()
	for _, f := range []string{"passwd", "shadow"} {
		b, err := os.ReadFile("../../internal/auth/source/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), string(b))
	}
	e, p, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1\nAllow-Plaintext-Auth: on\nAccounts: system, local\nLocal-Domains: example.org\n"+
		"System-Passwd-File: "+filepath.Join(dir, "passwd")+"\nSystem-Shadow-File: "+filepath.Join(dir, "shadow"))
	e.run("", "check").must(t, 0)
	if r := e.run("pw\n", "user", "add", "sha256", "--password-stdin"); r.code == 0 || !strings.Contains(r.stderr, "system account source has a user sha256") {
		t.Errorf("user add sha256: exit %d, %s", r.code, r.stderr)
	}
	e.addUser("lowuid", "local-pw") // a host name below System-Min-UID is free for a local account
	e.startMail()
	if out, code := runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.lmtp), "--protocol", "LMTP",
		"--from", "someone@example.net", "--to", "md5@example.org", "--body", "before the first login", "--silent", "1"); code != 0 {
		t.Fatalf("swaks to md5@example.org: exit %d\n%s", code, out)
	}
	out := python(t, systemLoginScript, strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission))
	for _, want := range []string{"imap ok yes5", "imap ok md5 1", "pop3 ok bcrypt", "smtp ok sha512",
		"refused locked", "refused lowuid", "refused sha256", "refused empty"} {
		if !strings.Contains(out, want) {
			t.Errorf("logins lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ACCEPTED") {
		t.Errorf("a refused login was accepted:\n%s", out)
	}
	if got := helperParents(filepath.Join(dir, "shadow")); len(got) != 1 || got[0] != "serve" {
		t.Errorf("privileged-system-accounts helpers by parent: %v; want one, the supervisor's (serve)", got)
	}
	r := e.run("", "user", "list", "--source", "system").must(t, 0)
	for _, want := range []string{"md5 ", "yes5 ", "bcrypt ", "sha512 "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("user list --source system lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "lowuid") {
		t.Errorf("user list --source system lists the local lowuid:\n%s", r.stdout)
	}
}

// helperParents returns the command word (serve, worker) of the parent
// of each `postern privileged-system-accounts` process over the shadow
// file: the supervisor should own the one helper, and its workers ask it
// through the supervisor, never reading the file themselves.
func helperParents(shadow string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		args := procArgs(p)
		if len(args) > 3 && args[1] == "privileged-system-accounts" && args[3] == shadow {
			stat, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
			f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			parent := "?"
			if len(f) > 1 {
				if pa := procArgs("/proc/" + f[1] + "/cmdline"); len(pa) > 1 {
					parent = pa[1]
				}
			}
			out = append(out, parent)
		}
	}
	return out
}

// procArgs reads a /proc/PID/cmdline.
func procArgs(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(string(b), "\x00")
}
