package differential

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/testport"
	"github.com/postern/postern/internal/tlsconf"
)

// password is every test account's password, on both servers.
const password = "diff-secret"

// startTimeout bounds how long either server may take to listen.
const startTimeout = 20 * time.Second

// stopTimeout bounds how long either server may take to exit after SIGTERM
// before it is killed.
const stopTimeout = 10 * time.Second

// requireTool finds an external program. With TEST_TOOLS_REQUIRED=1 (CI)
// a missing tool fails the test; otherwise the test is skipped, saying why.
// (The same rule as test/e2e's helper of that name.)
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		// Debian installs the daemon in /usr/sbin, which a user's PATH
		// often lacks.
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
			if _, e := os.Stat(filepath.Join(dir, name)); e == nil {
				p, err = filepath.Join(dir, name), nil
				break
			}
		}
	}
	if err == nil {
		return p
	}
	if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
		t.Fatalf("%s is required (TEST_TOOLS_REQUIRED=1) but not installed: %v", name, err)
	}
	t.Skipf("skipping: %s is not installed (apt-get install %s): the differential test compares Postern with a private Dovecot", name, pkg)
	return ""
}

// requireDovecot finds the dovecot master and checks that the imap and
// pop3 programs of dovecot-imapd and dovecot-pop3d are there too
// (dovecot-core alone has neither).
func requireDovecot(t *testing.T) string {
	t.Helper()
	bin := requireTool(t, "dovecot", "dovecot-imapd dovecot-pop3d")
	for _, prog := range []string{"imap", "pop3"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/dovecot", prog)); err != nil {
			if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
				t.Fatalf("dovecot-%sd is required (TEST_TOOLS_REQUIRED=1) but not installed", prog)
			}
			t.Skipf("skipping: dovecot-%sd is not installed (apt-get install dovecot-%sd)", prog, prog)
		}
	}
	return bin
}

// freePorts returns n loopback TCP ports for the servers the test starts,
// never handed out twice on this machine while this process lives
// (testport).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	return testport.GetN(t, n)
}

// scratchDir makes a directory every account may traverse: Dovecot's mail
// processes run as the dovecot user when the test runs as root, and
// t.TempDir's 0700 parents would lock them out.
func scratchDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// process is a server started by the test; stop ends it with SIGTERM (then
// SIGKILL) and waits for it.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan error // receives Wait's result once
	out  *syncBuffer
	once sync.Once
}

func startProcess(t *testing.T, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{name: name, cmd: cmd, done: make(chan error, 1), out: &syncBuffer{}}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(p.stop)
	return p
}

func (p *process) stop() {
	p.once.Do(func() {
		// Signalling a process that has exited already fails harmlessly.
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// syncBuffer collects a process's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitListening waits until addr accepts connections, or the process exits.
func waitListening(t *testing.T, p *process, addr string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited before listening on %s: %v\n%s", p.name, addr, err, p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s not listening on %s after %v\n%s", p.name, addr, startTimeout, p.out)
}

// server is one side of the comparison: where its IMAP and POP3 listen.
type server struct {
	name string
	imap string
	pop3 string
	logs func() string
	// home is the directory holding each user's home (Dovecot only);
	// stop ends the server before its test does (Dovecot only).
	home string
	stop func()
}

// dovecotConf is a private Dovecot: every path under the scratch
// directory, loopback only, no TLS, plaintext logins allowed, the users in
// a passwd-file. The namespace uses "/" as Postern does and creates the
// mailboxes Postern creates with every account (store.DefaultMailboxes),
// so LIST can be compared as is; Postern subscribes none of them, so
// neither does Dovecot. LAYOUT=fs lets names contain ".".
const dovecotConf = `# written by test/differential: a private instance, never the system service
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log/dovecot.log
info_log_path = %[1]s/log/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %%Ln
hostname = localhost
postmaster_address = postmaster@localhost
default_internal_user = %[2]s
default_login_user = %[3]s
first_valid_uid = %[4]d
mail_location = maildir:~/Maildir:LAYOUT=fs
pop3_uidl_format = %%08Xu%%08Xv
mail_attribute_dict = file:%%h/dovecot-attributes
protocol imap {
  imap_metadata = yes
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Mail {
    auto = create
  }
  mailbox Sent {
    auto = create
    special_use = \Sent
  }
  mailbox Drafts {
    auto = create
    special_use = \Drafts
  }
  mailbox Trash {
    auto = create
    special_use = \Trash
  }
  mailbox Junk {
    auto = create
    special_use = \Junk
  }
}
passdb {
  driver = passwd-file
  args = %[1]s/users
}
userdb {
  driver = passwd-file
  args = %[1]s/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[5]d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %[6]d
  }
  inet_listener pop3s {
    port = 0
  }
}
`

// dovecotAccounts picks the accounts Dovecot runs as: as root, the Debian
// package's dovecot and dovenull users, with mail stored under dovecot's
// uid (Dovecot refuses to access mail as root); otherwise the current user
// for everything.
func dovecotAccounts(t *testing.T) (internal, login string, uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		return u.Username, u.Username, os.Getuid(), os.Getgid()
	}
	u, err := user.Lookup("dovecot")
	if err != nil {
		t.Fatalf("running as root needs the dovecot user of the Debian package: %v", err)
	}
	if _, err := user.Lookup("dovenull"); err != nil {
		t.Fatalf("running as root needs the dovenull user of the Debian package: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return "dovecot", "dovenull", uid, gid
}

// startDovecot writes the configuration and runs `dovecot -F -c CONF`.
func startDovecot(t *testing.T, bin string, users []string) *server {
	t.Helper()
	return startDovecotWith(t, bin, users, nil)
}

// startDovecotWith is startDovecot with the configuration text passed
// through tweak (given the scratch directory) when not nil.
func startDovecotWith(t *testing.T, bin string, users []string, tweak func(conf, dir string) string) *server {
	t.Helper()
	dir := scratchDir(t, "postern-diff-dovecot-")
	internal, login, uid, gid := dovecotAccounts(t)
	for _, d := range []string{"run", "state", "log", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "home"), uid, gid); err != nil {
		t.Fatal(err)
	}
	var pw strings.Builder
	for _, u := range users {
		fmt.Fprintf(&pw, "%s:{PLAIN}%s:%d:%d::%s::\n", u, password, uid, gid, filepath.Join(dir, "home", u))
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(pw.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	conf := filepath.Join(dir, "dovecot.conf")
	text := fmt.Sprintf(dovecotConf, dir, internal, login, min(uid, 500), ports[0], ports[1])
	if tweak != nil {
		text = tweak(text, dir)
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "-c", conf, "-n").CombinedOutput(); err != nil {
		t.Fatalf("dovecot rejects the generated %s: %v: %s", conf, err, out)
	}
	p := startProcess(t, "dovecot", exec.Command(bin, "-F", "-c", conf))
	s := &server{
		name: "Dovecot",
		imap: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		pop3: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		logs: func() string {
			b, _ := os.ReadFile(filepath.Join(dir, "log/dovecot.log"))
			return p.out.String() + string(b)
		},
		home: filepath.Join(dir, "home"),
		stop: p.stop,
	}
	waitListening(t, p, s.imap)
	waitListening(t, p, s.pop3)
	return s
}

// posternConf turns on IMAP and POP3 on cleartext loopback ports (the
// servers allow plaintext logins from loopback) and leaves read mail in
// INBOX as Dovecot does.
const posternConf = `! written by test/differential
Hostname: localhost
Data-Directory: %[1]s/data
Log-Directory: %[1]s/log
Listen-Address: 127.0.0.1
[IMAP]
Enable: on
Server-Port: %[2]d
Secure-Port: 0
[POP]
Enable: on
Server-Port: %[3]d
Secure-Port: 0
Leave-In-Newmail: on
[SMTP]
Enable: off
[LMTP]
Enable: off
`

// postern is a configured Postern: its binary and configuration file.
type postern struct {
	bin, conf, dir string
}

// run runs a postern subcommand with stdin; a non-zero exit is an error.
// It may run on any goroutine.
func (p *postern) run(stdin string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+p.conf)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("postern %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// buildPostern builds ./cmd/postern into dir. It may run on any goroutine.
// The bound only guards against a hang: on a fresh machine (no build
// cache) while ./... builds every other package, the build alone takes
// minutes.
func buildPostern(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "postern"), "../../cmd/postern").CombinedOutput()
	if err != nil {
		return fmt.Errorf("build postern: %v\n%s", err, out)
	}
	return nil
}

// newPostern writes a configuration and adds the users; the server is
// started later by (*postern).serve, after the mail is delivered.
func newPostern(t *testing.T, bin string, users []string) (*postern, []int) {
	t.Helper()
	dir := scratchDir(t, "postern-diff-postern-")
	p := &postern{bin: bin, conf: filepath.Join(dir, "postern.conf"), dir: dir}
	ports := freePorts(t, 2)
	if err := os.WriteFile(p.conf, fmt.Appendf(nil, posternConf, dir, ports[0], ports[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The IMAP server offers STARTTLS, so it needs a certificate even though
	// the test never uses it.
	if _, _, err := tlsconf.GenerateSelfSigned(filepath.Join(dir, "data", "tls"), "localhost", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	// Password hashing (argon2id) makes each addition take a second: add
	// the users in parallel (which also creates the store from several
	// processes at once).
	errs := make(chan error, len(users))
	for _, u := range users {
		go func() { errs <- p.run(password+"\n", "user", "add", u, "--password-stdin") }()
	}
	for range users {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return p, ports
}

// serve starts `postern serve` and waits for the banner line that follows
// the start of every listener.
func (p *postern) serve(t *testing.T, ports []int) *server {
	t.Helper()
	cmd := exec.Command(p.bin, "serve")
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+p.conf)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	proc := startProcess(t, "postern serve", cmd)
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			proc.out.Write([]byte(sc.Text() + "\n"))
			if !signalled && strings.Contains(sc.Text(), "Logs") {
				ready <- nil
				signalled = true
			}
		}
		if !signalled {
			ready <- errors.New("postern serve closed its output before it was ready")
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("%v\n%s", err, proc.out)
		}
	case <-time.After(startTimeout):
		t.Fatalf("postern serve not ready after %v\n%s", startTimeout, proc.out)
	}
	s := &server{
		name: "Postern",
		imap: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		pop3: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		logs: proc.out.String,
	}
	waitListening(t, proc, s.imap)
	waitListening(t, proc, s.pop3)
	return s
}
