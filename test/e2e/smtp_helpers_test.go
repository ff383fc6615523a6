package e2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
	"github.com/postern/postern/internal/testport"
	"github.com/postern/postern/internal/tlsconf"
)

// requireTool finds an external program. With TEST_TOOLS_REQUIRED=1 (CI,
// ./test.sh) a missing tool fails the test; otherwise the test is skipped.
// Either way the message names the Debian package to install.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	pkg := toolPackages[name]
	if pkg == "" {
		pkg = name
	}
	if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
		t.Fatalf("%s is required (TEST_TOOLS_REQUIRED=1) but not installed: apt-get install %s (./test.sh does, as root)", name, pkg)
	}
	t.Skipf("skipping: %s is not installed (apt-get install %s, or run ./test.sh as root)", name, pkg)
	return ""
}

// toolPackages maps the programs the tests run to their Debian packages,
// where the names differ (test.sh installs the same list).
var toolPackages = map[string]string{
	"mbsync":                  "isync",
	"getmail":                 "getmail6",
	"fail2ban-regex":          "fail2ban",
	"fail2ban-client":         "fail2ban",
	"prlimit":                 "util-linux",
	"systemd-analyze":         "systemd",
	"systemd-socket-activate": "systemd",
	"dkimverify":              "python3-dkim",
}

// freePort returns a loopback TCP port for a server the test starts: never
// the same one twice, in this process or another test process (testport).
func freePort(t *testing.T) int {
	t.Helper()
	return testport.Get(t)
}

// mailPorts are the ports of a mail-enabled test server.
type mailPorts struct {
	submission, submissions, smtp, lmtp, pop int
	lmtpSocket                               string
	cafile                                   string // the server's self-signed certificate
}

// newMailEnv writes a configuration with SMTP and LMTP on free loopback
// ports (inbound SMTP too), plus extra global and [SMTP] lines.
func newMailEnv(t *testing.T, global, smtpExtra string) (*env, mailPorts) {
	t.Helper()
	e := newEnv(t, global)
	p := mailPorts{submission: freePort(t), submissions: freePort(t), smtp: freePort(t), lmtp: freePort(t), pop: freePort(t)}
	// Unix socket paths are limited to 108 bytes: keep it short.
	sockDir, err := os.MkdirTemp("", "pl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	p.lmtpSocket = filepath.Join(sockDir, "lmtp.sock")
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[SMTP]\nEnable: off", "[SMTP]\nEnable: on\nSubmission-Port: "+strconv.Itoa(p.submission)+
		"\nSubmissions-Port: "+strconv.Itoa(p.submissions)+"\nServer-Port: "+strconv.Itoa(p.smtp)+"\n"+smtpExtra, 1)
	c = strings.Replace(c, "[POP]\nEnable: off", "[POP]\nEnable: on\nServer-Port: "+strconv.Itoa(p.pop)+"\nSecure-Port: 0", 1)
	c = strings.Replace(c, "[LMTP]\nEnable: off", "[LMTP]\nEnable: on\nServer-Port: "+strconv.Itoa(p.lmtp)+"\nSocket: "+p.lmtpSocket, 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if p.cafile, _, err = tlsconf.GenerateSelfSigned(filepath.Join(e.data, "tls"), "localhost", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return e, p
}

// startMail starts the server of a mail env and stops it at cleanup.
func (e *env) startMail() *server {
	e.t.Helper()
	s := startServe(e.t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	e.t.Cleanup(func() {
		e.run("", "ctl", "shutdown")
		s.wait()
	})
	return s
}

// addUser creates an account with a password.
func (e *env) addUser(name, pw string) {
	e.t.Helper()
	e.run(pw+"\n", "user", "add", name, "--password-stdin").must(e.t, 0)
}

// python runs a Python 3 script with args and returns its output, failing
// the test on a non-zero exit.
func python(t *testing.T, script string, args ...string) string {
	t.Helper()
	py := requireTool(t, "python3")
	// A bound against a hung client, not a speed test: a script of a dozen
	// argon2id logins on a machine loaded by a parallel test run can take
	// well over a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-c", script}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

// runTool runs an external command and returns its combined output and
// exit code.
func runTool(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	p := requireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out), code
}

// storedMessages returns the messages of a user's mailbox, read through
// the store (the server may be running: the store is multi-process).
func storedMessages(t *testing.T, dataDir, user, mailbox string) []string {
	t.Helper()
	ctx := context.Background()
	sess, done := userSession(t, dataDir, user)
	defer done()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		return nil
	}
	msgs, err := sess.Messages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		c, err := sess.OpenContent(ctx, mb.ID, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// userSession opens a user's store session read-side (the server may be
// running: the store is multi-process); done closes it and the store.
func userSession(t *testing.T, dataDir, user string) (sess store.Session, done func()) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dataDir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.Account(ctx, user)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	sess, err = st.Open(ctx, acct.ID)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return sess, func() { sess.Close(); st.Close() }
}
