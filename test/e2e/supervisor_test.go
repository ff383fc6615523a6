package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// The supervisor and its workers (issue 16, hp-system A3;
// docs/supervisor.md), driven with Python's imaplib, poplib and smtplib.

// workerStats returns the Worker PID and Rollovers of the IMAP section of
// `postern ctl stats`, and checks that every protocol section has both.
func workerStats(t *testing.T, e *robustEnv) (pid, rollovers int) {
	t.Helper()
	out := e.run("", "ctl", "stats").must(t, 0).stdout
	sections := strings.Split(out, "\n[")[1:]
	if len(sections) == 0 {
		t.Fatalf("ctl stats has no protocol section:\n%s", out)
	}
	pidRe, rollRe := regexp.MustCompile(`(?m)^Worker PID : (\d+)$`), regexp.MustCompile(`(?m)^Rollovers : (\d+)$`)
	for _, sec := range sections {
		p, r := pidRe.FindStringSubmatch(sec), rollRe.FindStringSubmatch(sec)
		if p == nil || r == nil {
			t.Fatalf("section [%s lacks Rollovers or Worker PID:\n%s", sec, out)
		}
		if strings.HasPrefix(sec, "IMAP]") {
			pid, _ = strconv.Atoi(p[1])
			rollovers, _ = strconv.Atoi(r[1])
		}
	}
	return pid, rollovers
}

// rolloverScript holds one IMAP session open, serves 10 concurrent and 20
// sequential ones (Max-Connections 3 rolls over on the way), then IDLEs
// the first session and delivers over LMTP: the delivery, made by a newer
// worker, must reach the IDLE of the old one.
const rolloverScript = `
import imaplib, smtplib, sys, threading, time
imap, lmtp = int(sys.argv[1]), int(sys.argv[2])
def session(i, barrier=None):
    m = imaplib.IMAP4("127.0.0.1", imap); m.login("alice", "alice-pw"); m.select("INBOX")
    if barrier: barrier.wait(60)
    m.noop(); m.logout()
    return True
try:
    imaplib.IMAP4("127.0.0.1", imap).login("alice", "wrong")
except imaplib.IMAP4.error as e:
    print("failed login", e)
early = imaplib.IMAP4("127.0.0.1", imap); early.login("alice", "alice-pw"); early.select("INBOX")
served = []
barrier = threading.Barrier(10)
threads = [threading.Thread(target=lambda i=i: served.append(session(i, barrier))) for i in range(10)]
for th in threads: th.start()
for th in threads: th.join()
print("concurrent", len(served))
n = sum(1 for i in range(20) if session(i))
print("sequential", n)
tag = early._new_tag().decode()
early.send(("%s IDLE\r\n" % tag).encode())
print("idle", early.readline().decode().strip())
l = smtplib.LMTP("127.0.0.1", lmtp)
l.sendmail("a@outside.test", ["alice@e2e.example.org"], b"Subject: after rollover\r\n\r\nx\r\n")
t0 = time.time()  # the message is stored: 250 came
l.quit()
early.sock.settimeout(10)
print("heard", early.readline().decode().strip(), "%.3f" % (time.time() - t0))
early.send(b"DONE\r\n")
print("done", early.readline().decode().strip())
early.logout()
`

func TestRolloverMaxConnections(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "", map[string]string{"IMAP": "Max-Connections: 3"})
	e.startMail()
	first, _ := workerStats(t, e)
	out := python(t, rolloverScript, strconv.Itoa(e.imap), strconv.Itoa(e.p.lmtp))
	for _, want := range []string{"concurrent 10\n", "sequential 20\n", "idle + idling\n", "done "} {
		if !strings.Contains(out, want) {
			t.Errorf("script output lacks %q:\n%s", want, out)
		}
	}
	heard := regexp.MustCompile(`heard \* (\d+) EXISTS ([0-9.]+)`).FindStringSubmatch(out)
	if heard == nil {
		t.Fatalf("the IDLE session opened before the rollover heard no delivery:\n%s", out)
	}
	if d, _ := strconv.ParseFloat(heard[2], 64); d > 2 {
		t.Errorf("IDLE heard the delivery after %ss; the store watch promises well under a second", heard[2])
	}
	t.Logf("IDLE across workers: %ss", heard[2])
	pid, rollovers := workerStats(t, e)
	if rollovers < 1 || pid == first || pid == 0 {
		t.Errorf("after 11 concurrent sessions with Max-Connections 3: Rollovers %d, Worker PID %d (first %d)", rollovers, pid, first)
	}
	// Generation 1 drains when its last session (the script's early one)
	// has logged out, which happens just before the script exits: the
	// worker writes "worker drained" asynchronously, so wait for it.
	for _, want := range []string{`msg=rollover`, `msg="worker draining" generation=1`, `msg="worker drained" generation=1`} {
		if !awaitLog(e.logs, "postern-run.log", want, 10*time.Second) {
			t.Errorf("run log lacks %s after 10s:\n%s", want, readLog(t, e.logs, "postern-run.log"))
		}
	}
}

// awaitLog reports whether the log file matching pattern in dir contains
// want within timeout, polling it.
func awaitLog(dir, pattern, want string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(files) > 0 {
			if b, err := os.ReadFile(files[0]); err == nil && strings.Contains(string(b), want) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitNewWorker polls ctl stats until a worker other than old serves.
func awaitNewWorker(t *testing.T, e *robustEnv, old int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r := e.run("", "ctl", "stats"); r.code == 0 {
			if pid, _ := workerStats(t, e); pid != 0 && pid != old {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no worker replaced %d within 20s", old)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkersShareVerification: password verification, its cache and the
// argon2id runs live in the supervisor (docs/supervisor.md), so a worker
// generation started by a rollover, or after a worker was killed, starts
// warm: the first login in it runs no argon2id, counted by the
// supervisor's own postern_auth_password_hashes_total, which /metrics
// shows whichever worker answers.
func TestWorkersShareVerification(t *testing.T) {
	t.Parallel()
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	e := newRobustEnv(t, "Metrics-Address: "+metrics, map[string]string{"IMAP": "Max-Connections: 1"})
	e.startMail()
	imapAddr := "127.0.0.1:" + strconv.Itoa(e.imap)
	verifies := func() int { return scrapeMetric(t, metrics, `postern_auth_password_hashes_total{op="verify"}`) }
	first, _ := workerStats(t, e)

	// One session, held: the worker is full, and the next one takes over.
	held, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := held.Login("alice", "alice-pw").Wait(); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	if n := verifies(); n != 1 {
		t.Fatalf("after the first login: %d argon2id verifications, want 1", n)
	}
	second := awaitNewWorker(t, e, first)
	mustIMAPLogin(t, imapAddr, "alice", "alice-pw")
	if n := verifies(); n != 1 {
		t.Errorf("the first login after a rollover ran argon2id: %d verifications, want still 1", n)
	}

	// kill -9 of the serving worker: its replacement starts warm too.
	serving := awaitNewWorker(t, e, first) // the rollover of the login above may have moved on
	if err := syscall.Kill(serving, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	awaitNewWorker(t, e, serving)
	mustIMAPLogin(t, imapAddr, "alice", "alice-pw")
	if n := verifies(); n != 1 {
		t.Errorf("the first login after a worker was killed ran argon2id: %d verifications, want still 1", n)
	}
	// A wrong password is still verified in full, by the supervisor.
	if err := imapLogin(imapAddr, "alice", "wrong-pw"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	if n := verifies(); n != 2 {
		t.Errorf("a wrong password: %d verifications, want 2", n)
	}
	if err := held.Noop().Wait(); err != nil {
		t.Errorf("the session held since generation 1: %v", err)
	}
	t.Logf("workers %d, %d, %d shared one verification", first, second, serving)
}

// TestDrainTimeoutBye: a session left on a draining worker is closed with
// the protocol's goodbye once Drain-Timeout passes.
func TestDrainTimeoutBye(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "", map[string]string{"IMAP": "Max-Connections: 1\nDrain-Timeout: 1s"})
	e.startMail()
	out := python(t, `
import imaplib, sys, time
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("alice", "alice-pw")
m.sock.settimeout(30)
t0 = time.time()
print(m.readline().decode().strip(), "%.1f" % (time.time() - t0))
n = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); n.login("alice", "alice-pw"); n.logout()
print("next served")
`, strconv.Itoa(e.imap))
	if !strings.Contains(out, "* BYE") || !strings.Contains(out, "next served") {
		t.Fatalf("no BYE at Drain-Timeout, or no service after:\n%s", out)
	}
}

// TestWorkerKilledRestarted: kill -9 of the serving worker; the supervisor
// starts a new one at once and the Postmaster gets the notice.
func TestWorkerKilledRestarted(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "Postmaster: alice", nil)
	s := e.startMail()
	pid, _ := workerStats(t, e)
	if pid == 0 || pid == s.cmd.Process.Pid {
		t.Fatalf("Worker PID %d (supervisor %d)", pid, s.cmd.Process.Pid)
	}
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var next int
	for next == 0 || next == pid {
		if time.Since(killed) > 10*time.Second {
			t.Fatalf("no new worker 10s after kill -9 of %d", pid)
		}
		time.Sleep(20 * time.Millisecond)
		if r := e.run("", "ctl", "stats"); r.code == 0 {
			next, _ = workerStats(t, e)
		}
	}
	t.Logf("new worker %d serving %v after kill -9", next, time.Since(killed))
	log := readLog(t, e.logs, "postern-run.log")
	started := regexp.MustCompile(`msg="starting a new worker" in=(\S+)`).FindStringSubmatch(log)
	if started == nil || started[1] != "100ms" {
		t.Errorf("restart back-off: %v (want the first restart after 100ms)", started)
	}
	var notices []string
	for range 100 {
		notices = nil
		for _, m := range storedMessages(t, e.data, "alice", "INBOX") {
			if strings.Contains(m, "restarted after an abnormal exit") {
				notices = append(notices, m)
			}
		}
		if len(notices) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(notices) != 1 {
		t.Fatalf("alice has %d notices, want 1", len(notices))
	}
	for _, want := range []string{fmt.Sprintf("worker process %d", pid), "signal: killed", "The last lines of its run log:"} {
		if !strings.Contains(notices[0], want) {
			t.Errorf("notice lacks %q:\n%s", want, notices[0])
		}
	}
	python(t, `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("alice", "alice-pw"); m.logout()
`, strconv.Itoa(e.imap))
}

// upgradeScript holds an IMAP and a POP3 session across `ctl upgrade`
// (done by the test when it reads "idling"), then uses both and opens a
// new IMAP session.
const upgradeScript = `
import imaplib, poplib, sys
imap, pop = int(sys.argv[1]), int(sys.argv[2])
m = imaplib.IMAP4("127.0.0.1", imap); m.login("alice", "alice-pw"); m.select("INBOX")
p = poplib.POP3("127.0.0.1", pop); p.user("alice"); p.pass_("alice-pw")
print("idling", flush=True)
sys.stdin.readline()
print("imap", m.noop()[0])
print("pop3", p.stat())
n = imaplib.IMAP4("127.0.0.1", imap); n.login("alice", "alice-pw"); print("new", n.select("INBOX")[0]); n.logout()
m.logout(); p.quit()
`

// TestUpgradeKeepsSessions: `postern ctl upgrade` to a copy of the binary
// while an IMAP and a POP3 session stay connected; a binary that fails
// leaves the old server serving.
func TestUpgradeKeepsSessions(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "", nil)
	s := e.startMail()
	r := e.run("", "ctl", "upgrade", "/bin/false").must(t, 1)
	if !strings.Contains(r.stderr, "upgrade failed; this server goes on") {
		t.Errorf("failed upgrade: %q", r.stderr)
	}
	if _, _ = workerStats(t, e); s.cmd.ProcessState != nil {
		t.Fatal("the server ended after a failed upgrade")
	}
	copyBin := filepath.Join(t.TempDir(), "postern-copy")
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, copyBin, string(b))
	if err := os.Chmod(copyBin, 0o755); err != nil {
		t.Fatal(err)
	}
	var newPID int
	out := pythonIdle(t, upgradeScript, func() {
		r := e.run("", "ctl", "upgrade", copyBin).must(t, 0)
		m := regexp.MustCompile(`upgraded: process (\d+) serves`).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("ctl upgrade: %q", r.stdout)
		}
		newPID, _ = strconv.Atoi(m[1])
		t.Cleanup(func() { syscall.Kill(newPID, syscall.SIGKILL) })
	}, strconv.Itoa(e.imap), strconv.Itoa(e.p.pop))
	for _, want := range []string{"imap OK", "pop3 (0, 0)", "new OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("after the upgrade the script lacks %q:\n%s", want, out)
		}
	}
	// The new supervisor holds the old one's stdout, so s.wait cannot tell
	// the old one's end: it is a zombie once it exited.
	for deadline := time.Now().Add(30 * time.Second); !exited(s.cmd.Process.Pid); {
		if time.Now().After(deadline) {
			t.Fatalf("the old supervisor did not exit after its sessions ended; run log:\n%s", readLog(t, e.logs, "postern-run.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid, _ := workerStats(t, e)
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe != copyBin {
		t.Errorf("the serving worker runs %q, want the copy %q", exe, copyBin)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", newPID)); exe != copyBin {
		t.Errorf("the new supervisor runs %q, want the copy %q", exe, copyBin)
	}
}

// exited reports whether process pid has ended (gone, or a zombie).
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

// parentPID returns the parent of process pid, or -1.
func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 2 {
		return -1
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// TestSystemdNotify: with NOTIFY_SOCKET (the shipped unit is Type=notify,
// NotifyAccess=all) postern serve reports READY=1 and its PID once it
// serves; after ctl upgrade the new supervisor reports its own PID, so
// systemd follows it; a graceful stop says STOPPING=1.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "", nil)
	sock := filepath.Join(e.dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next := func() string {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		buf := make([]byte, 512)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf, "NOTIFY_SOCKET=" + sock})
	t.Cleanup(func() { e.run("", "ctl", "shutdown") })
	if got, want := next(), fmt.Sprintf("MAINPID=%d\nREADY=1", s.cmd.Process.Pid); got != want {
		t.Fatalf("first notification %q, want %q", got, want)
	}
	r := e.run("", "ctl", "upgrade").must(t, 0)
	m := regexp.MustCompile(`upgraded: process (\d+) serves`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("ctl upgrade: %q", r.stdout)
	}
	if got, want := next(), "MAINPID="+m[1]+"\nREADY=1"; got != want {
		t.Fatalf("after the upgrade %q, want %q", got, want)
	}
	e.run("", "ctl", "shutdown").must(t, 0)
	if got := next(); got != "STOPPING=1" {
		t.Fatalf("at the stop %q, want STOPPING=1", got)
	}
}

// TestServiceLimitAcrossGenerations: Service-Limit counts the sessions of
// every worker generation together (the supervisor's admission tables):
// with a draining worker holding two sessions, the next worker greets one
// more and refuses the fourth with the protocol's reply; when a session of
// the draining worker ends, a new client is served again.
func TestServiceLimitAcrossGenerations(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "", map[string]string{"IMAP": "Service-Limit: 3\nMax-Connections: 2"})
	e.startMail()
	first, _ := workerStats(t, e)
	dial := func(host string) (*lineConn, string) {
		t.Helper()
		c, err := dialFrom("127.0.51."+host, e.imap)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close() })
		l, _ := c.line(10 * time.Second)
		return c, l
	}
	var old []*lineConn
	for _, host := range []string{"2", "3"} {
		c, l := dial(host)
		if !strings.HasPrefix(l, "* OK") {
			t.Fatalf("session %s: %q", host, l)
		}
		old = append(old, c)
	}
	awaitNewWorker(t, e, first) // generation 1 is full: it drains, holding both
	if _, l := dial("4"); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("the service's third session, in the new worker: %q", l)
	}
	if _, l := dial("5"); l != "* BYE [UNAVAILABLE] Too many connections; try again later" {
		t.Fatalf("the service's fourth session, with two in the draining worker: %q, want the refusal", l)
	}
	old[0].nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, l := dial("6")
		c.nc.Close()
		if strings.HasPrefix(l, "* OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a session of the draining worker ended, a new client still gets %q", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatsSummedAcrossWorkers: POP3's XTND STATS and /metrics report the
// whole service, summed over the live workers as ctl stats is, whichever
// worker answers: a POP3 session and two IMAP sessions in generation 1,
// which then drains holding the IMAP ones, and the XTND STATS session in
// generation 2.
func TestStatsSummedAcrossWorkers(t *testing.T) {
	t.Parallel()
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	e := newRobustEnv(t, "Metrics-Address: "+metrics, map[string]string{"IMAP": "Max-Connections: 2"})
	e.run("root-pw\n", "user", "add", "root", "--admin", "--password-stdin").must(t, 0)
	e.startMail()
	first, _ := workerStats(t, e)
	if err := pop3Login("127.0.0.1:"+strconv.Itoa(e.p.pop), "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := imapclient.DialInsecure("127.0.0.1:"+strconv.Itoa(e.imap), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("alice", "alice-pw").Wait(); err != nil {
			t.Fatal(err)
		}
	}
	awaitNewWorker(t, e, first)

	c, err := dialFrom("127.0.0.1", e.p.pop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	c.line(10 * time.Second)
	for _, cmd := range []string{"USER root", "PASS root-pw"} {
		if l, err := c.cmd(cmd, "", 10*time.Second); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("%s: %q %v", cmd, l, err)
		}
	}
	var report []string
	if l, err := c.cmd("XTND STATS", "", 10*time.Second); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("XTND STATS: %q %v", l, err)
	}
	for {
		l, err := c.line(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if l == "." {
			break
		}
		report = append(report, l)
	}
	text := strings.Join(report, "\n")
	for _, want := range []string{"Total Threads : 2", "Current Threads : 1"} {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("XTND STATS in generation 2 lacks %q (POP3 sessions of both generations):\n%s", want, text)
		}
	}
	for sample, want := range map[string]int{
		"postern_pop3_stats_threads_total": 2, "postern_imap_stats_threads_total": 2,
		"postern_imap_stats_current_threads": 2, "postern_imap_stats_current_users": 2,
	} {
		if got := scrapeMetric(t, metrics, sample); got != want {
			t.Errorf("/metrics %s = %d, want %d (every worker's)", sample, got, want)
		}
	}
}
