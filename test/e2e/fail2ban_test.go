package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// failuresScript fails to log in over IMAP, POP3 and submission, each with
// a wrong password and with an unknown account, one connection each.
const failuresScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub = (int(a) for a in sys.argv[1:4])
for user in ("alice", "mallory"):
    try:
        imaplib.IMAP4("127.0.0.1", imap).login(user, "wrong")
    except imaplib.IMAP4.error as e:
        print("imap", user, e)
    p = poplib.POP3("127.0.0.1", pop)
    try:
        p.user(user)
        p.pass_("wrong")
    except poplib.error_proto as e:
        print("pop3", user, e)
    s = smtplib.SMTP("127.0.0.1", sub)
    try:
        s.login(user, "wrong")
    except smtplib.SMTPAuthenticationError as e:
        print("smtp", user, e.smtp_code)
`

// TestFail2ban runs the shipped fail2ban filter, with Debian's
// fail2ban-regex, over the event log a server wrote for real failed
// logins of every protocol: it must match every wrong-password and
// unknown-account line, find 127.0.0.1 in each, and match nothing else. The
// shipped jail must pass fail2ban-client's configuration test.
func TestFail2ban(t *testing.T) {
	t.Parallel()
	regex := requireTool(t, "fail2ban-regex")
	// Loopback trusted: the failures are logged all the same, without the
	// throttle's delays.
	e, p, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1")
	e.addUser("alice", "alice-pw")
	srv := e.startMail()
	python(t, failuresScript, strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission))
	e.run("", "ctl", "shutdown").must(t, 0)
	srv.wait()

	events, _ := filepath.Glob(filepath.Join(e.logs, "postern-event-*.log"))
	if len(events) != 1 {
		t.Fatalf("event logs: %v", events)
	}
	text := readLog(t, e.logs, "postern-event-*.log")
	want := 0
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.Contains(line, " AUTHFAIL ") {
			continue
		}
		m := pairMap(mustPairs(t, line[strings.Index(line, " AUTHFAIL ")+len(" AUTHFAIL "):]))
		if m["reason"] == "bad_credentials" || m["reason"] == "unknown_user" {
			want++
			seen[m["proto"]+"/"+m["reason"]] = true
		}
	}
	for _, proto := range []string{"imap", "pop3", "smtp"} {
		for _, reason := range []string{"bad_credentials", "unknown_user"} {
			if !seen[proto+"/"+reason] {
				t.Errorf("no AUTHFAIL %s %s in the event log:\n%s", proto, reason, text)
			}
		}
	}

	filter, _ := filepath.Abs("../../contrib/fail2ban/filter.d/postern.conf")
	out, code := runTool(t, regex, "-o", "ip", events[0], filter)
	if code != 0 {
		t.Fatalf("fail2ban-regex: exit %d\n%s", code, out)
	}
	ips := strings.Fields(out)
	if len(ips) != want {
		t.Errorf("fail2ban-regex matched %d lines, want %d:\n%s\nevent log:\n%s", len(ips), want, out, text)
	}
	for _, ip := range ips {
		if ip != "127.0.0.1" {
			t.Errorf("fail2ban-regex found host %q, want 127.0.0.1", ip)
		}
	}
	checkJail(t, filepath.Dir(events[0]))
}

// checkJail runs `fail2ban-client -t` on a copy of the system's fail2ban
// configuration with only the shipped jail (its logpath pointed at dir).
func checkJail(t *testing.T, logDir string) {
	t.Helper()
	client := requireTool(t, "fail2ban-client")
	conf := t.TempDir()
	copyTree(t, "/etc/fail2ban", conf)
	for _, drop := range []string{"jail.local", "jail.d"} {
		os.RemoveAll(filepath.Join(conf, drop))
	}
	os.Mkdir(filepath.Join(conf, "jail.d"), 0o755)
	filter, err := os.ReadFile("../../contrib/fail2ban/filter.d/postern.conf")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(conf, "filter.d", "postern.conf"), string(filter))
	jail, err := os.ReadFile("../../contrib/fail2ban/jail.d/postern.conf")
	if err != nil {
		t.Fatal(err)
	}
	j := strings.ReplaceAll(string(jail), "/var/log/postern/", logDir+"/")
	if j == string(jail) {
		t.Fatalf("the jail's logpath is no longer under /var/log/postern/:\n%s", jail)
	}
	writeFile(t, filepath.Join(conf, "jail.d", "postern.conf"), j)
	out, err := exec.Command(client, "-c", conf, "-t").CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-client -t: %v\n%s", err, out)
	}
	dump, err := exec.Command(client, "-c", conf, "-d").CombinedOutput()
	if err != nil || !strings.Contains(string(dump), "['add', 'postern',") || !strings.Contains(string(dump), logDir) {
		t.Errorf("fail2ban-client -d does not set up the postern jail on %s: %v\n%s", logDir, err, dump)
	}
}

func mustPairs(t *testing.T, s string) [][2]string {
	t.Helper()
	kv, err := logfmtPairs(s)
	if err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return kv
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
