package e2e

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServiceLimit (issue 16, hp-system A4): with Service-Limit: 2 in each
// protocol section, two clients from two addresses are greeted and the
// third, from a third address (so no per-address cap applies), gets the
// protocol's "too many connections" reply, exactly; when one leaves, a
// new client is served again. The refusals are logged and `postern check`
// warns that 2 is below Max-Connections.
func TestServiceLimit(t *testing.T) {
	t.Parallel()
	limit := "Service-Limit: 2"
	e := newRobustEnv(t, "", map[string]string{"IMAP": limit, "POP": limit, "SMTP": limit, "LMTP": limit})
	check := e.run("", "check")
	if !strings.Contains(check.stderr, "[IMAP] Service-Limit: warning: 2 is below Max-Connections (500)") {
		t.Errorf("check does not warn about Service-Limit < Max-Connections:\n%s", check.stderr)
	}
	e.startMail()
	protos := []struct {
		name           string
		port           int
		greet, refusal string
	}{
		{"imap", e.imap, "* OK", "* BYE [UNAVAILABLE] Too many connections; try again later"},
		{"pop3", e.p.pop, "+OK", "-ERR [SYS/TEMP] too many connections; try again later"},
		{"submission", e.p.submission, "220 ", "421 4.7.0 e2e.example.org Too many connections; try again later"},
		{"smtp", e.p.smtp, "220 ", "421 4.7.0 e2e.example.org Too many connections; try again later"},
		{"lmtp", e.p.lmtp, "220 ", "421 4.7.0 e2e.example.org Too many connections; try again later"},
	}
	for i, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			var held []*lineConn
			defer func() {
				for _, c := range held {
					c.nc.Close()
				}
			}()
			for j := range 2 {
				c, err := dialFrom(fmt.Sprintf("127.0.%d.%d", 40+i, 2+j), p.port)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
				if l, err := c.line(10 * time.Second); !strings.HasPrefix(l, p.greet) {
					t.Fatalf("connection %d: %q %v", j+1, l, err)
				}
			}
			over, err := dialFrom(fmt.Sprintf("127.0.%d.9", 40+i), p.port)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := over.line(10 * time.Second)
			over.nc.Close()
			if l != p.refusal {
				t.Errorf("third connection got %q, want %q", l, p.refusal)
			}
			// A client leaving frees its slot.
			held[0].nc.Close()
			held = held[1:]
			deadline := time.Now().Add(10 * time.Second)
			for {
				c, err := dialFrom(fmt.Sprintf("127.0.%d.10", 40+i), p.port)
				if err != nil {
					t.Fatal(err)
				}
				l, _ := c.line(10 * time.Second)
				c.nc.Close()
				if strings.HasPrefix(l, p.greet) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after a client left, a new one still gets %q", l)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	log := readLog(t, e.logs, "postern-run.log")
	for _, label := range []string{"imap", "pop3", "submission", "smtp", "lmtp"} {
		want := `"connection refused: service limit reached"`
		found := false
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, want) && strings.Contains(line, " listener="+label+" service_limit=2 refused=1") {
				found = true
			}
		}
		if !found {
			t.Errorf("no service-limit refusal of listener %s in the run log", label)
		}
	}
}

// TestBackupDuringLMTPLoad (issue 16): `postern backup` runs twice while
// four LMTP clients deliver, the second time incrementally; `postern
// verify` finds the live store sound; `postern restore` into an empty data
// directory, then verify, succeed; and every message acknowledged before
// the second backup started is in the restored store, byte-identical to
// the live one.
func TestBackupDuringLMTPLoad(t *testing.T) {
	t.Parallel()
	e, p, _ := newAllEnv(t, "")
	e.addUser("alice", "alice-pw")
	e.startMail()

	var mu sync.Mutex
	acked := map[string]bool{}
	ackedNow := func() (map[string]bool, int) {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(acked), len(acked)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				marker := fmt.Sprintf("backup-load-%d-%d", w, i)
				if err := sendLMTPTo(p.lmtp, marker, "alice@e2e.example.org"); err != nil {
					t.Errorf("LMTP delivery %s: %v", marker, err)
					return
				}
				mu.Lock()
				acked[marker] = true
				mu.Unlock()
			}
		}()
	}
	waitAcks := func(n int) {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if _, got := ackedNow(); got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d deliveries acknowledged in 2 minutes", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	bak := filepath.Join(e.dir, "backup")
	waitAcks(40)
	first := e.run("", "backup", bak).must(t, 0)
	_, n := ackedNow()
	waitAcks(n + 40)
	before, _ := ackedNow()
	second := e.run("", "backup", bak).must(t, 0)
	close(stop)
	wg.Wait()
	t.Logf("first: %s", strings.TrimSpace(first.stdout))
	t.Logf("second: %s", strings.TrimSpace(second.stdout))
	if !strings.Contains(second.stdout, "already there") || strings.Contains(second.stdout, "; 0 already there") {
		t.Errorf("second backup was not incremental: %s", second.stdout)
	}
	e.run("", "verify").must(t, 0)

	data2 := filepath.Join(e.dir, "restored")
	envv := []string{"POSTERN_CONFIG=" + e.conf, "POSTERN_DATA_DIRECTORY=" + data2,
		"POSTERN_LOG_DIRECTORY=" + filepath.Join(e.dir, "restored-log")}
	r := e.runIn(e.dir, envv, "", "restore", bak).must(t, 0)
	if !strings.Contains(r.stdout, "verify: OK") {
		t.Errorf("restore did not verify: %s", r.stdout)
	}
	again := e.runIn(e.dir, envv, "", "restore", bak)
	if again.code == 0 || !strings.Contains(again.stderr, "already holds a store") {
		t.Errorf("a second restore over the store: %d %s", again.code, again.stderr)
	}

	live := byMarker(t, storedMessages(t, e.data, "alice", "INBOX"))
	restored := byMarker(t, storedMessages(t, data2, "alice", "INBOX"))
	missing := 0
	for m := range before {
		got, ok := restored[m]
		switch {
		case !ok:
			missing++
		case got != live[m]:
			t.Errorf("%s differs between the live store and the restored one", m)
		}
	}
	for m, got := range restored {
		if got != live[m] {
			t.Errorf("restored %s is not the live message", m)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d messages acknowledged before the backup are not in the restored store", missing, len(before))
	}
	t.Logf("%d acknowledged before the second backup, %d restored, %d live", len(before), len(restored), len(live))
}

// byMarker indexes stored messages by their Subject (the load's marker).
func byMarker(t *testing.T, msgs []string) map[string]string {
	t.Helper()
	out := make(map[string]string, len(msgs))
	for _, m := range msgs {
		k := markerOf(m)
		if _, dup := out[k]; dup {
			t.Errorf("%s stored twice", k)
		}
		out[k] = m
	}
	return out
}

// TestMetricsAndHealthz (issue 16): every protocol's connections_total
// labels tls "true" or "false" (SMTP and LMTP said yes/no); /healthz
// answers 200 "ok" while the store can take mail, 503 naming the store
// when it cannot (its spool directory gone), and 200 again once it is back.
func TestMetricsAndHealthz(t *testing.T) {
	t.Parallel()
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	e, p, imap := newAllEnv(t, "Metrics-Address: "+metrics)
	e.addUser("alice", "alice-pw")
	e.startMail()
	runSessions(t, p, imap)
	body := httpGet(t, "http://"+metrics+"/metrics", 200)
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		name, labels, ok := strings.Cut(line, "{")
		if !ok || !strings.HasSuffix(name, "_connections_total") || !strings.HasPrefix(name, "postern_") {
			continue
		}
		seen[name] = true
		if !strings.Contains(labels, `tls="true"`) && !strings.Contains(labels, `tls="false"`) {
			t.Errorf("tls label neither true nor false: %s", line)
		}
	}
	for _, proto := range []string{"imap", "pop3", "smtp", "lmtp"} {
		if !seen["postern_"+proto+"_connections_total"] {
			t.Errorf("no postern_%s_connections_total sample", proto)
		}
	}
	// Every XTND STATS counter is a series: Total Threads agrees with ctl stats.
	stats := ctlStatsTotals(e.run("", "ctl", "stats").must(t, 0).stdout)
	for _, proto := range []string{"imap", "pop3", "smtp", "lmtp"} {
		name := "postern_" + proto + "_stats_threads_total "
		i := strings.Index(body, "\n"+name)
		if i < 0 {
			t.Errorf("no %s sample", name)
			continue
		}
		v, _, _ := strings.Cut(body[i+1+len(name):], "\n")
		if want := stats[proto]; want == "" || v != want {
			t.Errorf("%s= %s, ctl stats Total Threads = %q", name, v, want)
		}
	}

	if got := httpGet(t, "http://"+metrics+"/healthz", 200); got != "ok\n" {
		t.Errorf("/healthz: %q", got)
	}
	spool := filepath.Join(e.data, "tmp")
	if err := os.Rename(spool, spool+".away"); err != nil {
		t.Fatal(err)
	}
	if got := httpGet(t, "http://"+metrics+"/healthz", 503); !strings.HasPrefix(got, "store: spool:") {
		t.Errorf("/healthz without a spool directory: %q", got)
	}
	if err := os.Rename(spool+".away", spool); err != nil {
		t.Fatal(err)
	}
	httpGet(t, "http://"+metrics+"/healthz", 200)
}

// ctlStatsTotals returns each protocol section's "Total Threads" of a ctl
// stats report, by lower-case section name.
func ctlStatsTotals(report string) map[string]string {
	out := map[string]string{}
	section := ""
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.ToLower(strings.Trim(line, "[]"))
		} else if v, ok := strings.CutPrefix(line, "Total Threads : "); ok && section != "" {
			out[section] = v
		}
	}
	return out
}

// httpGet fetches url and fails unless the status is want.
func httpGet(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %q, want %d", url, resp.StatusCode, b, want)
	}
	return string(b)
}

// TestSystemdUnit: contrib/systemd/postern.service, with this build's
// binary and the test's configuration, passes systemd-analyze verify, and
// the commands it runs are ones the CLI accepts.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	tool := requireTool(t, "systemd-analyze")
	e := newEnv(t, "")
	unit, err := os.ReadFile("../../contrib/systemd/postern.service")
	if err != nil {
		t.Fatal(err)
	}
	u := strings.ReplaceAll(string(unit), "/usr/local/bin/postern", binary)
	u = strings.ReplaceAll(u, "/etc/postern/postern.conf", e.conf)
	path := filepath.Join(e.dir, "postern.service")
	writeFile(t, path, u)
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(u, "\n") {
		cmd, ok := strings.CutPrefix(line, "ExecStartPre=")
		if !ok {
			continue
		}
		args := strings.Fields(cmd)
		if args[0] != binary {
			t.Fatalf("ExecStartPre runs %s", args[0])
		}
		e.runIn(e.dir, nil, "", args[1:]...).must(t, 0)
	}
}

// TestFailureNoticeAndHooks (issue 16, hp-system A6 and A8): the
// Startup-Command runs once the server serves, with its output in the run
// log; after a kill -9 the next start sends each Postmaster (the global
// option and the [POP] spelling) a notice naming the previous process and
// ending with its last log lines, and records RESTART in the event log; a
// clean stop runs the Shutdown-Command and the start after it sends no
// notice.
func TestFailureNoticeAndHooks(t *testing.T) {
	t.Parallel()
	global := "Postmaster: alice\n" +
		"Startup-Command: echo $POSTERN_EVENT >> ../hooks.txt; echo hello from the hook\n" +
		"Shutdown-Command: echo $POSTERN_EVENT >> ../hooks.txt"
	e := newRobustEnv(t, global, map[string]string{"POP": "Postmaster: bob"})
	e.addUser("bob", "bob-pw")
	hooks := filepath.Join(e.dir, "hooks.txt")
	waitHooks := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(hooks)
			if string(b) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("hooks ran %q, want %q", b, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	notices := func(user string) []string {
		var out []string
		for _, m := range storedMessages(t, e.data, user, "INBOX") {
			if strings.Contains(m, "restarted after an abnormal exit") {
				out = append(out, m)
			}
		}
		return out
	}

	s := e.startMail()
	waitHooks("startup\n")
	pid := s.cmd.Process.Pid
	workerSockets := filepath.Join(e.data, fmt.Sprintf("worker-%d-*.sock", pid))
	if socks, _ := filepath.Glob(workerSockets); len(socks) == 0 {
		t.Errorf("no worker control socket %s while serving", workerSockets)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.wait()
	if n := len(notices("alice")); n != 0 {
		t.Fatalf("%d notices before the restart", n)
	}

	s = e.startMail()
	waitHooks("startup\nstartup\n") // the notice is sent before the hook runs
	if socks, _ := filepath.Glob(workerSockets); len(socks) > 0 {
		t.Errorf("the dead supervisor's worker sockets are left: %v", socks)
	}
	for _, user := range []string{"alice", "bob"} {
		got := notices(user)
		if len(got) != 1 {
			t.Fatalf("%s has %d notices, want 1", user, len(got))
		}
		for _, want := range []string{fmt.Sprintf("process %d started at", pid), "did not stop cleanly",
			"left no crash report", "The last lines of its run log:", `msg="hook output"`} {
			if !strings.Contains(got[0], want) {
				t.Errorf("%s's notice lacks %q:\n%s", user, want, got[0])
			}
		}
	}
	if ev := readLog(t, e.logs, "postern-event-*.log"); !strings.Contains(ev, fmt.Sprintf("RESTART previous_pid=%d", pid)) ||
		!strings.Contains(ev, "cause=killed notified=2") {
		t.Errorf("no RESTART event:\n%s", ev)
	}
	if log := readLog(t, e.logs, "postern-run.log"); !strings.Contains(log, `line="hello from the hook"`) {
		t.Error("the startup hook's output is not in the run log")
	}

	e.run("", "ctl", "shutdown").must(t, 0)
	waitHooks("startup\nstartup\nshutdown\n")
	s.wait()
	e.startMail()
	waitHooks("startup\nstartup\nshutdown\nstartup\n")
	if n := len(notices("alice")); n != 1 {
		t.Errorf("after a clean stop and a start alice has %d notices, want still 1", n)
	}
}

// TestReloadServices (issue 16, hp-system A6): `postern ctl reload` turns
// POP3 off and on again and moves IMAP and POP3 to new ports, while an
// IMAP and a POP3 session opened before stay connected and keep working;
// other changes are reported as needing a restart; a file with a problem
// is refused with the message `postern check` gives, and nothing changes.
func TestReloadServices(t *testing.T) {
	t.Parallel()
	e, p, imap := newAllEnv(t, "")
	e.addUser("alice", "alice-pw")
	s := e.startMail()
	edit := func(old, new string) {
		t.Helper()
		b, err := os.ReadFile(e.conf)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("no %q in the configuration", old)
		}
		writeFile(t, e.conf, strings.Replace(string(b), old, new, 1))
	}
	greets := func(port int, want string) bool {
		c, err := dialFrom("127.0.0.1", port)
		if err != nil {
			return false
		}
		defer c.nc.Close()
		l, _ := c.line(5 * time.Second)
		return strings.HasPrefix(l, want)
	}
	im, err := dialFrom("127.0.0.1", imap)
	if err != nil {
		t.Fatal(err)
	}
	defer im.nc.Close()
	im.line(5 * time.Second)
	if _, err := im.cmd("a LOGIN alice alice-pw", "a OK", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	pop, err := dialFrom("127.0.0.1", p.pop)
	if err != nil {
		t.Fatal(err)
	}
	defer pop.nc.Close()
	pop.line(5 * time.Second)
	if _, err := pop.cmd("USER alice", "+OK", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := pop.cmd("PASS alice-pw", "+OK", 20*time.Second); err != nil {
		t.Fatal(err)
	}

	// POP3 off.
	edit("[POP]\nEnable: on", "[POP]\nEnable: off")
	r := e.run("", "ctl", "reload").must(t, 0)
	if !strings.Contains(r.stdout, "applied: [POP] Enable: off") {
		t.Errorf("reload output: %s", r.stdout)
	}
	if greets(p.pop, "+OK") {
		t.Error("POP3 still accepts connections after Enable: off")
	}
	if _, err := pop.cmd("STAT", "+OK", 5*time.Second); err != nil {
		t.Errorf("the POP3 session opened before the reload: %v", err)
	}

	// POP3 on again on a new port; IMAP moved; one change needs a restart.
	pop2, imap2 := freePort(t), freePort(t)
	edit("[POP]\nEnable: off\nServer-Port: "+strconv.Itoa(p.pop), "[POP]\nEnable: on\nServer-Port: "+strconv.Itoa(pop2))
	edit("Server-Port: "+strconv.Itoa(imap), "Server-Port: "+strconv.Itoa(imap2)+"\nIdle-Timeout: 45m")
	r = e.run("", "ctl", "reload").must(t, 0)
	for _, want := range []string{"applied: [POP] Enable: on", fmt.Sprintf("applied: [IMAP] Server-Port: %d -> %d", imap, imap2),
		"restart needed: [IMAP] Idle-Timeout: 30m -> 45m"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("reload output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !greets(pop2, "+OK") || !greets(imap2, "* OK") {
		t.Error("the new POP3 or IMAP port does not answer")
	}
	if greets(imap, "* OK") {
		t.Error("the old IMAP port still answers")
	}
	if _, err := im.cmd("b SELECT INBOX", "b OK", 10*time.Second); err != nil {
		t.Errorf("the IMAP session opened before the reloads: %v", err)
	}
	if _, err := pop.cmd("QUIT", "+OK", 5*time.Second); err != nil {
		t.Errorf("the POP3 session opened before the reloads: %v", err)
	}

	// A bad file is refused with check's message, by ctl (which reads the
	// file first) and by the server on SIGHUP; nothing changes.
	edit("[POP]\nEnable: on", "[POP]\nEnable: off\nLeave-In-Newmal: on")
	want := e.conf + ":"
	r = e.run("", "ctl", "reload")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, `unknown field "Leave-In-Newmal" in [POP]`) ||
		!strings.Contains(r.stdout+r.stderr, want) {
		t.Errorf("ctl reload of a bad file: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readLog(t, e.logs, "postern-event-*.log"), "RELOAD result=error") {
		if time.Now().After(deadline) {
			t.Fatal("no RELOAD result=error event after SIGHUP with a bad file")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if log := readLog(t, e.logs, "postern-run.log"); !strings.Contains(log, "reload refused") || !strings.Contains(log, "Leave-In-Newmal") {
		t.Error("the run log does not say why the reload was refused")
	}
	if !greets(pop2, "+OK") {
		t.Error("a refused reload turned POP3 off")
	}
	edit("[POP]\nEnable: off\nLeave-In-Newmal: on", "[POP]\nEnable: on") // for the cleanup's ctl shutdown
}

// TestSocketActivation (issue 16): started by systemd-socket-activate
// with the IMAP port and the LMTP socket, the server serves them from the
// inherited sockets (a client that connected before the server started is
// greeted) and binds its other ports itself.
func TestSocketActivation(t *testing.T) {
	t.Parallel()
	tool := requireTool(t, "systemd-socket-activate")
	e, p, imap := newAllEnv(t, "")
	e.addUser("alice", "alice-pw")
	greeting := make(chan string, 1)
	go func() {
		// The activator starts the server at the first connection.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			c, err := dialFrom("127.0.0.1", imap)
			if err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			defer c.nc.Close()
			l, _ := c.line(30 * time.Second)
			greeting <- l
			return
		}
		greeting <- "no connection"
	}()
	s := startServeVia(t, e.dir, nil, []string{tool, "-l", "127.0.0.1:" + strconv.Itoa(imap), "-l", p.lmtpSocket,
		"-E", "POSTERN_CONFIG=" + e.conf})
	t.Cleanup(func() {
		e.run("", "ctl", "shutdown")
		s.wait()
	})
	if l := <-greeting; !strings.HasPrefix(l, "* OK") {
		t.Fatalf("the client that woke the server got %q", l)
	}
	out := python(t, `
import smtplib, sys
l = smtplib.LMTP(sys.argv[1])
l.sendmail("a@outside.test", ["alice@e2e.example.org"], b"Subject: activated\r\n\r\nx\r\n"); l.quit()
print("ok")
`, p.lmtpSocket)
	if strings.TrimSpace(out) != "ok" {
		t.Errorf("LMTP over the inherited socket: %s", out)
	}
	if n := len(storedMessages(t, e.data, "alice", "INBOX")); n != 1 {
		t.Errorf("%d messages delivered over the inherited LMTP socket, want 1", n)
	}
	log := readLog(t, e.logs, "postern-run.log")
	if !strings.Contains(log, "socket activation: listening on inherited sockets") || strings.Contains(log, "does not use") {
		t.Errorf("run log:\n%s", log)
	}
	if !greetsPOP(p.pop) {
		t.Error("POP3, not inherited, is not served")
	}
}

func greetsPOP(port int) bool {
	c, err := dialFrom("127.0.0.1", port)
	if err != nil {
		return false
	}
	defer c.nc.Close()
	l, _ := c.line(5 * time.Second)
	return strings.HasPrefix(l, "+OK")
}
