package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// postfix is a private Postfix instance: its own configuration, queue and
// data directories under a scratch directory, smtpd on a loopback port,
// and virtual_transport pointing at Postern's LMTP socket — the set-up
// docs/smtp.md gives administrators. The system Postfix, if any, is left
// alone.
type postfix struct {
	t       *testing.T
	bin     string
	root    string
	port    int
	maillog string
}

// requirePostfix checks, before anything is started, that a private
// Postfix can run here: Debian's postfix package (its binary, its postfix
// account and group, its master.cf template) and root. What is missing is
// named with the package that brings it; with TEST_TOOLS_REQUIRED=1 (CI)
// that fails the test, otherwise it skips it. It returns the binary.
func requirePostfix(t *testing.T) string {
	t.Helper()
	bin := "/usr/sbin/postfix" // Debian's; /usr/sbin is not on every user's PATH
	if _, err := os.Stat(bin); err != nil {
		bin = requireTool(t, "postfix")
	}
	var missing []string
	if _, err := user.Lookup("postfix"); err != nil {
		missing = append(missing, "the postfix account")
	}
	if _, err := user.LookupGroup("postfix"); err != nil {
		missing = append(missing, "the postfix group")
	}
	if _, err := os.Stat(postfixMasterDist); err != nil {
		missing = append(missing, postfixMasterDist)
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, ", ") + " missing: reinstall Debian's postfix package " +
			"(DEBIAN_FRONTEND=noninteractive apt-get install --reinstall postfix), or run ./test.sh as root"
		if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip("skipping: " + msg)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: a private Postfix instance needs root (its master starts as root)")
	}
	return bin
}

// postfixMasterDist is the packaged master.cf the test derives its own from:
// /etc/postfix/master.cf depends on how the package was configured.
const postfixMasterDist = "/usr/share/postfix/master.cf.dist"

// startPostfix starts the instance. Postfix's master runs as root and its
// delivery agents as the postfix account, so the test needs root; CI runs
// as root. Call requirePostfix first.
func startPostfix(t *testing.T, bin, lmtpSocket string) *postfix {
	t.Helper()
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("", "postfix")
	if err != nil {
		t.Fatal(err)
	}
	pf := &postfix{t: t, bin: bin, root: root, port: freePort(t), maillog: filepath.Join(root, "maillog")}
	t.Cleanup(func() { os.RemoveAll(root) })
	for _, d := range []string{"etc", "queue", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pfUser.Uid)
	if err := os.Chown(filepath.Join(root, "data"), uid, -1); err != nil {
		t.Fatal(err)
	}
	pf.writeConfig(lmtpSocket)
	pf.cmd("start")
	t.Cleanup(func() { pf.cmd("stop") })
	return pf
}

// writeConfig writes main.cf and a master.cf derived from Debian's:
// smtpd on the test's port and no chroot anywhere (the scratch queue has no
// chroot set-up).
func (pf *postfix) writeConfig(lmtpSocket string) {
	pf.t.Helper()
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
mail_owner = postfix
myhostname = mx.postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtputf8_enable = no
virtual_mailbox_domains = e2e.example.org
virtual_transport = lmtp:unix:%[2]s
smtpd_reject_unlisted_recipient = no
default_transport = error:this test delivers nothing off the host
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`, pf.root, lmtpSocket)
	sys, err := os.ReadFile(postfixMasterDist)
	if err != nil {
		pf.t.Fatalf("Postfix's master.cf: %v", err)
	}
	var master []string
	for _, line := range strings.Split(string(sys), "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, " ") {
			f[4] = "n" // chroot
			if f[0] == "smtp" && f[1] == "inet" {
				f[0] = "127.0.0.1:" + strconv.Itoa(pf.port)
			}
			line = strings.Join(f, " ")
		}
		master = append(master, line)
	}
	etc := filepath.Join(pf.root, "etc")
	for name, text := range map[string]string{"main.cf": main, "master.cf": strings.Join(master, "\n")} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			pf.t.Fatal(err)
		}
	}
}

// cmd runs `postfix -c ETC verb` and fails the test on an error, showing
// the mail log (Postfix reports there, not on stderr).
func (pf *postfix) cmd(verb string) {
	pf.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, pf.bin, "-c", filepath.Join(pf.root, "etc"), verb).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(pf.maillog)
		pf.t.Fatalf("postfix %s: %v\n%s\nmail log:\n%s", verb, err, out, log)
	}
}

// waitLog waits until the mail log has n lines containing every one of
// parts, and returns the last of them.
func (pf *postfix) waitLog(n int, parts ...string) string {
	pf.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		log, _ := os.ReadFile(pf.maillog)
		var found []string
		for _, line := range strings.Split(string(log), "\n") {
			if containsAll(line, parts) {
				found = append(found, line)
			}
		}
		if len(found) >= n {
			return found[len(found)-1]
		}
		if time.Now().After(deadline) {
			pf.t.Fatalf("not %d mail log lines with %q after 45 s:\n%s", n, parts, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// sendVia submits one message to Postfix's smtpd with Python's smtplib and
// returns the recipients smtpd refused.
func (pf *postfix) sendVia(from, subject string, to ...string) string {
	pf.t.Helper()
	script := `
import smtplib, sys
port, sender, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rcpts = sys.argv[4:]
msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@postfix.test>\r\n\r\nrelayed by Postfix\r\n" %
       (sender, ", ".join(rcpts), subject, subject.replace(" ", "."))).encode()
c = smtplib.SMTP("127.0.0.1", port)
print("refused:", sorted(c.sendmail(sender, rcpts, msg)))
c.quit()
`
	return python(pf.t, script, append([]string{strconv.Itoa(pf.port), from, subject}, to...)...)
}

// TestPostfixLMTP hands mail from a real Postfix to Postern over the LMTP
// socket, configured as docs/smtp.md says (virtual_transport, socket group
// postfix): a known user's mail is stored, an unknown user's is bounced by
// Postfix on Postern's 550 5.1.1, and mail sent while Postern is down waits
// in Postfix's queue and arrives once Postern is back.
func TestPostfixLMTP(t *testing.T) {
	t.Parallel()
	bin := requirePostfix(t)
	e, p := newMailEnv(t, "", "")
	e.addUser("bob", "bob-pw")
	srv := e.startMail()
	allowPostfix(t, p.lmtpSocket)
	pf := startPostfix(t, bin, p.lmtpSocket)

	out := pf.sendVia("alice@outside.test", "first", "bob@e2e.example.org", "nobody-here@e2e.example.org")
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("Postfix's smtpd refused: %s", out)
	}
	pf.waitLog(1, "to=<bob@e2e.example.org>", "lmtp.sock]", "dsn=2.0.0", "status=sent")
	bounced := pf.waitLog(1, "to=<nobody-here@e2e.example.org>", "status=bounced")
	if !strings.Contains(bounced, "550 5.1.1") {
		t.Errorf("unknown user: want Postern's 550 5.1.1 in %q", bounced)
	}
	stored := storedMessages(t, e.data, "bob", "INBOX")
	if len(stored) != 1 || !strings.Contains(stored[0], "Subject: first\r\n") ||
		!strings.Contains(stored[0], "by mx.postfix.test (Postfix)") || !strings.HasPrefix(stored[0], "Received: from ") {
		t.Fatalf("bob's INBOX: %q", stored)
	}

	// Postern down: Postfix defers, keeps the message, and delivers it
	// after the restart.
	e.run("", "ctl", "shutdown").must(t, 0)
	srv.wait()
	pf.sendVia("alice@outside.test", "second", "bob@e2e.example.org")
	pf.waitLog(1, "to=<bob@e2e.example.org>", "status=deferred")
	e.startMail()
	allowPostfix(t, p.lmtpSocket)
	pf.cmd("flush")
	pf.waitLog(2, "to=<bob@e2e.example.org>", "dsn=2.0.0", "status=sent")
	if got := storedMessages(t, e.data, "bob", "INBOX"); len(got) != 2 {
		t.Errorf("after the restart bob has %d messages, want 2", len(got))
	}
}

// allowPostfix gives the LMTP socket to Postfix's group, as docs/smtp.md
// tells administrators to, and lets that group reach the socket's directory.
func allowPostfix(t *testing.T, socket string) {
	t.Helper()
	g, err := user.LookupGroup("postfix") // requirePostfix saw it
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(socket, -1, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(socket), 0o755); err != nil {
		t.Fatal(err)
	}
}
