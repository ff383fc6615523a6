package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// poplib runs one scenario of testdata/pop3_poplib.py against the server.
func poplib(t *testing.T, p popPorts, scenario, user, password, secret string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "pop3_poplib.py"))
	if err != nil {
		t.Fatal(err)
	}
	out := python(t, string(script), scenario, strconv.Itoa(p.plain), strconv.Itoa(p.secure), p.cafile, user, password, secret)
	if !strings.Contains(out, "ok "+scenario) {
		t.Fatalf("poplib %s: %s", scenario, out)
	}
}

// TestPOP3Poplib drives the POP3 server with Python's poplib: USER/PASS,
// LIST/STAT sizes against RETR, TOP, UIDL stability, DELE+RSET, DELE+QUIT,
// APOP, STLS, implicit TLS, a wrong password and XTND for an admin.
func TestPOP3Poplib(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "")
	e.addUser("alice", "alice-pw")
	e.run("tanstaaf\n", "user", "set", "alice", "--apop-secret-stdin").must(t, 0)
	e.run("root-pw\n", "user", "add", "root", "--admin", "--password-stdin").must(t, 0)
	e.deliverPOP("alice", 3)
	e.startMail()

	poplib(t, p, "userpass", "alice", "alice-pw", "tanstaaf")
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 1 || c["Mail"] != 1 {
		// Read (RETR) but undeleted mail moves to Mail at QUIT (the
		// original's default); TOP does not count as reading.
		t.Errorf("after the first session: %v, want INBOX 1, Mail 1", c)
	}
	e.deliverPOP("alice", 2)
	poplib(t, p, "apop", "alice", "alice-pw", "tanstaaf")
	poplib(t, p, "stls", "alice", "alice-pw", "tanstaaf")
	poplib(t, p, "ssl", "alice", "alice-pw", "tanstaaf")
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 0 || c["Mail"] != 3 {
		t.Errorf("after the TLS sessions: %v, want INBOX 0, Mail 3", c)
	}
	poplib(t, p, "wrongpass", "alice", "alice-pw", "")
	poplib(t, p, "xtnd", "root", "root-pw", "")

	events := readLog(t, e.logs, "postern-event-*.log")
	if !strings.Contains(events, "AUTHFAIL proto=pop3 remote=127.0.0.1 user=alice mech=PASSWORD reason=bad_credentials") {
		t.Errorf("event log lacks the AUTHFAIL line:\n%s", events)
	}
	r := e.run("", "ctl", "stats").must(t, 0)
	if !strings.Contains(r.stdout, "Retrieved Messages : ") || !strings.Contains(r.stdout, "Auth Failures : 1") {
		t.Errorf("ctl stats:\n%s", r.stdout)
	}
}
