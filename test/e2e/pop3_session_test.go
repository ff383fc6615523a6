package e2e

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPOP3XtndShutdown: an admin's XTND SHUTDOWN stops the whole server
// gracefully once the session has ended.
func TestPOP3XtndShutdown(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "")
	e.run("root-pw\n", "user", "add", "root", "--admin", "--password-stdin").must(t, 0)
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	poplib(t, p, "shutdown", "root", "root-pw", "")
	if code := s.wait(); code != 0 {
		t.Fatalf("exit code %d after XTND SHUTDOWN; stderr:\n%s", code, s.stderr)
	}
	if ev := readLog(t, e.logs, "postern-event-*.log"); !strings.Contains(ev, `SHUTDOWN by="XTND SHUTDOWN"`) {
		t.Errorf("event log:\n%s", ev)
	}
}

// TestPOP3DeliveryDuringSession: mail delivered by another process while
// a POP3 session is open does not change the session's snapshot, and QUIT
// leaves it in INBOX while the read message moves to Mail.
func TestPOP3DeliveryDuringSession(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "")
	e.addUser("alice", "alice-pw")
	e.deliverPOP("alice", 1)
	e.startMail()

	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.plain))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(nc)
	send := func(cmd, want string) string {
		t.Helper()
		if cmd != "" {
			nc.Write([]byte(cmd + "\r\n"))
		}
		l, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(l, want) {
			t.Fatalf("%s: %q %v, want %q", cmd, l, err, want)
		}
		return l
	}
	send("", "+OK POP server")
	send("USER alice", "+OK")
	send("PASS alice-pw", "+OK")
	stat := send("STAT", "+OK 1 ")
	e.deliverPOP("alice", 2)
	time.Sleep(500 * time.Millisecond) // let the store's watcher publish the delivery
	send("STAT", stat)
	send("LIST 2", "-ERR no such message")
	send("RETR 1", "+OK")
	for {
		l, _ := br.ReadString('\n')
		if l == ".\r\n" {
			break
		}
	}
	send("QUIT", "+OK Postern POP server")
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 2 || c["Mail"] != 1 {
		t.Fatalf("after the session: %v, want INBOX 2 (the new mail), Mail 1", c)
	}
}
