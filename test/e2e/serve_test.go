package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/tlsconf"
)

// server is a running `postern serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	banner []string
	stderr *syncWriter
	done   chan error
	exit   *int // the exit code, once wait has seen it
}

// startServe runs postern serve in dir and waits for its banner's last
// line, which it prints once everything listens.
func startServe(t *testing.T, dir string, envv []string) *server {
	t.Helper()
	return startServeVia(t, dir, envv, nil)
}

// startServeVia is startServe with the binary run through a wrapper
// command, such as prlimit, that execs it in the same process.
func startServeVia(t *testing.T, dir string, envv, wrapper []string) *server {
	t.Helper()
	argv := append(append([]string(nil), wrapper...), binary, "serve")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, stderr: &syncWriter{b: new(strings.Builder)}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before it was ready: %v\nstdout: %q\nstderr: %s", <-s.done, s.banner, s.stderr)
			}
			s.banner = append(s.banner, l)
			if strings.Contains(l, "Logs") {
				go io.Copy(io.Discard, pipeReader(lines))
				return s
			}
		case <-timeout:
			t.Fatalf("serve not ready after 30s; stdout %q; stderr %s", s.banner, s.stderr)
		}
	}
}

func pipeReader(lines <-chan string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for l := range lines {
			pw.Write([]byte(l + "\n"))
		}
		pw.Close()
	}()
	return pr
}

// wait waits for the server to exit and returns its exit code.
func (s *server) wait() int {
	s.t.Helper()
	if s.exit != nil {
		return *s.exit // waited for already (a test, then its cleanup)
	}
	select {
	case err := <-s.done:
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			s.t.Fatal(err)
		}
		s.exit = &code
		return code
	case <-time.After(60 * time.Second):
		s.t.Fatal("server did not exit within 60s")
		return -1
	}
}

func TestServeControlAndLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	r := e.run("", "ctl", "stats").must(t, 0)
	for _, want := range []string{"Version Number", "Start Time", "CPU Seconds", "Logging Level"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ctl stats lacks %q:\n%s", want, r.stdout)
		}
	}
	r = e.run("", "ctl", "loglevel", "DEBUG").must(t, 0)
	if !strings.Contains(r.stdout, "logging level changed to debug") {
		t.Errorf("ctl loglevel: %q", r.stdout)
	}
	e.run("", "ctl", "loglevel", "LOUD").must(t, 1)
	e.run("", "ctl", "connections").must(t, 0)
	if fi, err := os.Stat(filepath.Join(e.data, "control.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket: %v, mode %v", err, fi.Mode())
	}
	e.run("", "ctl", "shutdown").must(t, 0)
	if code := s.wait(); code != 0 {
		t.Fatalf("serve exit code %d; stderr: %s", code, s.stderr)
	}
	events := readLog(t, e.logs, "postern-event-*.log")
	for _, want := range []string{"START", "STOP"} {
		if !strings.Contains(events, want) {
			t.Errorf("event log lacks %s:\n%s", want, events)
		}
	}
	if run := readLog(t, e.logs, "postern-run.log"); !strings.Contains(run, "peak") {
		t.Errorf("run log lacks the peak-memory line:\n%s", run)
	}
	r = e.run("", "ctl", "stats")
	if r.code == 0 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("ctl after shutdown: exit %d, %q", r.code, r.stderr)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "Frobnicate: yes")
	r := e.run("", "serve").must(t, 1)
	if !strings.Contains(r.stderr, e.conf+":") || !strings.Contains(r.stderr, "Frobnicate") {
		t.Errorf("stderr: %q", r.stderr)
	}
}

func TestServeRefusesWorldReadableKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	tlsDir := filepath.Join(e.dir, "tls")
	// A valid pair, as quickstart makes it; then loosen the key's mode.
	if _, _, err := tlsconf.GenerateSelfSigned(tlsDir, "e2e.example.org", nil); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(tlsDir, "server.key"), 0o644)
	conf, _ := os.ReadFile(e.conf)
	conf = []byte(strings.Replace(string(conf), "[IMAP]\nEnable: off", "Certificate-File: "+tlsDir+"/\nKey-File: "+tlsDir+"/\n[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(freePort(t))+"\nSecure-Port: 0", 1))
	os.WriteFile(e.conf, conf, 0o600)
	r := e.run("", "serve").must(t, 1)
	if !strings.Contains(r.stderr, "chmod 600 "+filepath.Join(tlsDir, "server.key")) {
		t.Errorf("stderr does not give the fix: %q", r.stderr)
	}
}

func TestQuickstart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	qsEnv, ports := quickstartEnv(t)
	s := startServe(t, dir, qsEnv)
	banner := strings.Join(s.banner, "\n")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no demo password in the banner:\n%s", banner)
	}
	want := []string{"quickstart", `user "demo", address demo@localhost`}
	for _, p := range ports {
		want = append(want, "127.0.0.1:"+strconv.Itoa(p))
	}
	for _, w := range want {
		if !strings.Contains(banner, w) {
			t.Errorf("banner lacks %q:\n%s", w, banner)
		}
	}
	pwFile := filepath.Join(dir, "postern-data", "demo-password")
	fi, err := os.Stat(pwFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo-password: %v %v", err, fi)
	}
	b, _ := os.ReadFile(pwFile)
	if strings.TrimSpace(string(b)) != m[1] {
		t.Errorf("demo-password file holds %q, banner said %q", b, m[1])
	}
	certLine := "postern-data/tls/server.crt (SHA-256 fingerprint " + certFileFingerprint(t, filepath.Join(dir, "postern-data", "tls", "server.crt")) + ")"
	if !strings.Contains(banner, certLine) {
		t.Errorf("banner lacks the certificate line %q:\n%s", certLine, banner)
	}
	quickstartMailsLocally(t, ports, m[1])
	e := &env{t: t, dir: dir}
	if r := e.runIn(dir, qsEnv, "", "ctl", "queue", "list").must(t, 0); !strings.Contains(r.stdout, "queue is empty") {
		t.Errorf("mail for demo@localhost was queued for delivery elsewhere:\n%s", r.stdout)
	}
	e.runIn(dir, qsEnv, "", "ctl", "shutdown").must(t, 0)
	s.wait()

	// The second start keeps the user and does not print the password.
	s = startServe(t, dir, qsEnv)
	banner = strings.Join(s.banner, "\n")
	if strings.Contains(banner, m[1]) {
		t.Error("the second start printed the password again")
	}
	if !strings.Contains(banner, `user "demo", address demo@localhost: password in`) {
		t.Errorf("the second start does not say where the password is:\n%s", banner)
	}
	s.cmd.Process.Signal(os.Interrupt)
	if code := s.wait(); code != 0 {
		t.Errorf("exit code %d after SIGINT", code)
	}
}

// quickstartMailsLocally sends, as the demo user over submission, a
// message from demo@localhost to demo@localhost, and reads it back over
// POP3: localhost is a local domain in quickstart, for the sender
// (RFC 6409 §6.1: the server may check it) and for the recipient. A second
// POP3 session still finds it in INBOX (Defaults: modern).
func quickstartMailsLocally(t *testing.T, ports map[string]int, pw string) {
	t.Helper()
	out := python(t, `
import smtplib, poplib, sys, time
sub, pop, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = smtplib.SMTP("127.0.0.1", sub)
c.login("demo", pw)
refused = c.sendmail("demo@localhost", ["demo@localhost"],
    b"From: demo@localhost\r\nTo: demo@localhost\r\nSubject: hello me\r\n\r\nlocal mail\r\n")
c.quit()
print("refused", refused)
p = poplib.POP3("127.0.0.1", pop)
p.user("demo"); p.pass_(pw)
print("stat", p.stat()[0])
print(b"\n".join(p.retr(1)[1]).decode())
p.quit()
p = poplib.POP3("127.0.0.1", pop)
p.user("demo"); p.pass_(pw)
print("stat after quit", p.stat()[0])
p.quit()
`, strconv.Itoa(ports["SMTP_SUBMISSION_PORT"]), strconv.Itoa(ports["POP_SERVER_PORT"]), pw)
	if !strings.Contains(out, "refused {}") || !strings.Contains(out, "stat 1") || !strings.Contains(out, "Subject: hello me") {
		t.Errorf("demo@localhost to demo@localhost was not delivered locally:\n%s", out)
	}
	// Quickstart uses Defaults: modern, so mail read over POP3 stays in INBOX.
	if !strings.Contains(out, "stat after quit 1") {
		t.Errorf("read mail left INBOX in quickstart (Defaults: modern keeps it):\n%s", out)
	}
}

// certFileFingerprint is the SHA-256 fingerprint of a PEM certificate file,
// as openssl x509 -fingerprint -sha256 prints it.
func certFileFingerprint(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	sum := sha256.Sum256(block.Bytes)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// quickstartEnv is the environment of a quickstart server (no configuration
// file) whose listeners are moved, through the POSTERN_* overrides, from
// quickstart's fixed ports (1143, 1993, …) to free ones, so that the test
// runs beside a quickstart someone started by hand. It returns the
// environment and the ports, by override name (IMAP_SERVER_PORT, …).
func quickstartEnv(t *testing.T) ([]string, map[string]int) {
	t.Helper()
	envv := []string{"POSTERN_CONFIG="}
	ports := map[string]int{}
	for _, v := range []string{"IMAP_SERVER_PORT", "IMAP_SECURE_PORT", "POP_SERVER_PORT", "POP_SECURE_PORT",
		"SMTP_SUBMISSION_PORT", "SMTP_SUBMISSIONS_PORT", "LMTP_SERVER_PORT"} {
		ports[v] = freePort(t)
		envv = append(envv, "POSTERN_"+v+"="+strconv.Itoa(ports[v]))
	}
	return envv, ports
}

func readLog(t *testing.T, dir, pattern string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) == 0 {
		t.Fatalf("no %s in %s", pattern, dir)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeReload changes the log level in the file and sends SIGHUP: the
// running server takes the new level, logs the reload in the event log, and
// keeps running.
func TestServeReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "Log-Level: INFORMATIONAL")
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	conf, _ := os.ReadFile(e.conf)
	os.WriteFile(e.conf, []byte(strings.Replace(string(conf), "Log-Level: INFORMATIONAL", "Log-Level: DEBUG", 1)), 0o600)
	s.cmd.Process.Signal(syscall.SIGHUP)
	// The control socket answers only after the signal was handled or
	// concurrently; poll ctl stats until the level shows (bounded).
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.run("", "ctl", "stats").must(t, 0)
		if strings.Contains(r.stdout, "Logging Level : DEBUG") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("level not reloaded:\n%s", r.stdout)
		}
	}
	e.run("", "ctl", "shutdown").must(t, 0)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if ev := readLog(t, e.logs, "postern-event-*.log"); !strings.Contains(ev, "RELOAD result=ok") {
		t.Errorf("no RELOAD result=ok event:\n%s", ev)
	}
}

// TestServeReloadRestartNeeded: a reload that finds a changed port moves
// the listener, and for another option a reload cannot apply says
// "restart needed", naming the change, in the run log and the event log.
func TestServeReloadRestartNeeded(t *testing.T) {
	t.Parallel()
	e, p := newTLSEnv(t, "IMAP", "")
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	t.Cleanup(func() { e.run("", "ctl", "shutdown"); s.wait() })
	newPort := freePort(t)
	conf, _ := os.ReadFile(e.conf)
	c := strings.Replace(string(conf), "Server-Port: "+strconv.Itoa(p.plain), "Server-Port: "+strconv.Itoa(newPort), 1)
	c = strings.Replace(c, "Listen-Address: 127.0.0.1\n", "Listen-Address: 127.0.0.1\nMax-Message-Size: 10M\n", 1)
	writeFile(t, e.conf, c)
	s.cmd.Process.Signal(syscall.SIGHUP)
	want := "[IMAP] Server-Port: " + strconv.Itoa(p.plain) + " -> " + strconv.Itoa(newPort)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readLog(t, e.logs, "postern-event-*.log"), "RELOAD result=restart_needed") {
		if time.Now().After(deadline) {
			t.Fatalf("no RELOAD result=restart_needed:\n%s", readLog(t, e.logs, "postern-event-*.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	run := readLog(t, e.logs, "postern-run.log")
	for _, w := range []string{"restart needed", "reload applied", want, "Max-Message-Size: 50M -> 10M"} {
		if !strings.Contains(run, w) {
			t.Errorf("run log lacks %q:\n%s", w, run)
		}
	}
	// The port change is applied (issue 16: a reload moves listeners);
	// Max-Message-Size waits for a restart.
	if ev := readLog(t, e.logs, "postern-event-*.log"); !strings.Contains(ev, `applied="`+want) ||
		!strings.Contains(ev, `changes="Max-Message-Size: 50M -> 10M`) {
		t.Errorf("event log lacks %q applied and Max-Message-Size pending:\n%s", want, ev)
	}
	python(t, "import imaplib, sys; imaplib.IMAP4('127.0.0.1', int(sys.argv[1])).logout()", strconv.Itoa(newPort))
}
