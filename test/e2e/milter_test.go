package e2e

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gtube is SpamAssassin's and rspamd's test pattern (a spam by
// definition).
const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// startRspamd runs Debian's rspamd with a private configuration: Debian's
// rules, the proxy worker as a milter on port (scanning itself), no other
// worker, DNS pointed at nothing, a tiny TLD list (so it starts in
// seconds) and extended spam headers (so a clean message gets header
// fields through the milter). It is stopped, with its workers, at the end
// of the test.
func startRspamd(t *testing.T, port int) {
	t.Helper()
	bin := requireTool(t, "rspamd")
	dir := t.TempDir()
	files := map[string]string{
		"local/override.d/worker-proxy.inc": `bind_socket = "127.0.0.1:` + strconv.Itoa(port) + `";
milter = yes;
timeout = 60s;
upstream "local" { default = yes; self_scan = yes; }
count = 1;
`,
		"local/override.d/worker-normal.inc":     "enabled = false;\n",
		"local/override.d/worker-controller.inc": "enabled = false;\n",
		"local/override.d/worker-fuzzy.inc":      "enabled = false;\n",
		"local/override.d/logging.inc":           `type = "file"; filename = "` + dir + `/rspamd.log"; level = "info";` + "\n",
		"local/local.d/options.inc": `dns { nameserver = ["127.0.0.1:1"]; timeout = 1s; retransmits = 1; }
disable_hyperscan = true;
url_tld = "` + dir + `/tld.dat";
`,
		"local/local.d/milter_headers.conf": "extended_spam_headers = true;\nskip_local = false;\nskip_authenticated = false;\n",
		"tld.dat":                           "com\norg\nnet\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, content)
	}
	for _, d := range []string{"run", "db"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-i", "-u", u.Username, "-g", g.Name, "-c", "/etc/rspamd/rspamd.conf",
		"--var=LOCAL_CONFDIR="+dir+"/local", "--var=RUNDIR="+dir+"/run", "--var=DBDIR="+dir+"/db", "--var=LOGDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "rspamd.log"))
			t.Fatalf("rspamd did not listen on %d in 2 minutes:\n%s", port, tail(string(log), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// inboundScript sends one message to inbound SMTP and prints the reply.
const inboundScript = `
import smtplib, sys
c = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
try:
    print("refused:", sorted(c.sendmail(sys.argv[2], [sys.argv[3]], sys.argv[4].replace("\n", "\r\n").encode())))
except smtplib.SMTPDataError as e:
    print("data error:", e.smtp_code, e.smtp_error.decode())
c.quit()
`

// TestMilterRspamd: Debian's rspamd as the milter of inbound SMTP rejects
// the GTUBE message at DATA with its own reply, and marks a clean one
// with the header fields it adds (add-header), which reach the mailbox.
// The milter-down default action is tested against a dead socket in
// internal/milter (TestUnavailable).
func TestMilterRspamd(t *testing.T) {
	t.Parallel()
	requireTool(t, "python3")
	port := freePort(t)
	startRspamd(t, port)
	e, p := newMailEnv(t, "", "Milter: inet:127.0.0.1:"+strconv.Itoa(port)+"\n")
	e.addUser("bob", "bob-pw")
	e.startMail()
	spam := "From: x@example.net\nTo: bob@e2e.example.org\nSubject: buy\nMessage-ID: <s@example.net>\nDate: Mon, 07 Dec 2026 18:00:00 +0000\n\n" + gtube + "\n"
	out := python(t, inboundScript, strconv.Itoa(p.smtp), "x@example.net", "bob@e2e.example.org", spam)
	if !strings.Contains(out, "data error: 554") || !strings.Contains(strings.ToLower(out), "gtube") {
		t.Errorf("GTUBE: %s", out)
	}
	clean := strings.Replace(spam, gtube, "Hello Bob, lunch on Friday?", 1)
	out = python(t, inboundScript, strconv.Itoa(p.smtp), "x@example.net", "bob@e2e.example.org", clean)
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("clean message: %s", out)
	}
	inbox := storedMessages(t, e.data, "bob", "INBOX")
	if len(inbox) != 1 || !strings.Contains(inbox[0], "X-Spamd-Result:") || !strings.Contains(inbox[0], "lunch on Friday") {
		t.Errorf("bob's INBOX: %q", inbox)
	}
	for _, m := range inbox {
		if strings.Contains(m, gtube) {
			t.Error("the GTUBE message was delivered")
		}
	}
}
