package pop3server

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// TestSTLS upgrades a plain connection from a non-loopback address, where
// USER was refused, and logs in under TLS.
func TestSTLS(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, msg("a"))
	f.opts.TLS = testTLSConfig(t)
	f.remoteNotLoopback = true
	c := dial(t, f.start())
	c.expect("USER alice", "-ERR [AUTH] plaintext passwords need an encrypted connection")
	c.startTLS()
	c.expect("CAPA", "+OK")
	caps := strings.Join(c.body(), "|")
	if strings.Contains(caps, "STLS") || !strings.Contains(caps, "USER") || !strings.Contains(caps, "SASL SCRAM-SHA-256 PLAIN") {
		t.Fatalf("CAPA under TLS: %s", caps)
	}
	c.expect("STLS", "-ERR TLS is already active")
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK")
	c.body()
	c.expect("QUIT", "+OK")
}

// TestSCRAM runs AUTH SCRAM-SHA-256 (RFC 5034 with RFC 7677) with an
// independent client, including the server-final message sent as a last
// challenge, and a failure with a wrong password.
func TestSCRAM(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	addr := f.start()
	b64 := base64.StdEncoding.EncodeToString
	run := func(password string) (*client, string) {
		cl, err := scram.SHA256.NewClient("alice", password, "")
		if err != nil {
			t.Fatal(err)
		}
		conv := cl.NewConversation()
		c := dial(t, addr)
		first, _ := conv.Step("")
		r := c.expect("AUTH SCRAM-SHA-256 "+b64([]byte(first)), "+ ")
		sf, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r, "+ "))
		final, err := conv.Step(string(sf))
		if err != nil {
			t.Fatal(err)
		}
		r = c.cmd(b64([]byte(final)))
		if !strings.HasPrefix(r, "+ ") {
			return c, r
		}
		sfin, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r, "+ "))
		if _, err := conv.Step(string(sfin)); err != nil || !conv.Valid() {
			t.Fatalf("server signature not valid: %v", err)
		}
		return c, c.cmd("")
	}
	c, r := run("secret")
	if r != "+OK Authentication successful" {
		t.Fatalf("SCRAM: %q", r)
	}
	c.expect("STAT", "+OK 0 0")
	c.expect("QUIT", "+OK")
	_, r = run("wrong")
	if r != `-ERR [AUTH] credentials supplied for "alice" are incorrect` {
		t.Fatalf("SCRAM with a wrong password: %q", r)
	}
}

// TestIdleTimeout: the autologout timer closes an idle session without
// an UPDATE and counts a client timeout.
func TestIdleTimeout(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, msg("a"))
	f.opts.IdleTimeout = 200 * time.Millisecond
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("DELE 1", "+OK")
	if l := c.line(); l != "-ERR autologout; idle for too long" {
		t.Fatalf("got %q", l)
	}
	c.eof()
	f.srv.Shutdown(t.Context())
	if n := f.opts.Stats.Snapshot().ClientTimeouts; n != 1 {
		t.Errorf("client timeouts %d", n)
	}
	if f.count("alice", "INBOX") != 1 {
		t.Error("a timed-out session deleted mail")
	}
}

// TestLogRejectAndTrace: failed logins reach the event log in the
// documented format and the log at warning level; the trace file has every
// line but no password or SASL payload.
func TestLogRejectAndTrace(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "s3cr3t-pw")
	dir := t.TempDir()
	tr, err := observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: "pop3", Node: testHost, Redactor: Redact})
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Tracer = tr
	f.opts.MaxAuthAttempts = 5
	c := dial(t, f.start())
	c.expect("USER nobody", "-ERR [AUTH]")
	c.expect("USER alice", "+OK")
	c.expect("PASS hunter2-wrong", "-ERR [AUTH]")
	c.expect("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00alice\x00plain-wrong")), "-ERR [AUTH]")
	c.expect("APOP alice 0123456789abcdef0123456789abcdef", "-ERR [AUTH]")
	c.login("alice", "s3cr3t-pw")
	c.expect("QUIT", "+OK")
	c.eof()
	f.srv.Shutdown(t.Context())
	tr.Close()

	wantEvents := []string{
		"AUTHFAIL proto=pop3 remote=127.0.0.1 user=nobody mech=USER reason=unknown_user",
		"AUTHFAIL proto=pop3 remote=127.0.0.1 user=alice mech=PASSWORD reason=bad_credentials",
		"AUTHFAIL proto=pop3 remote=127.0.0.1 user=alice mech=PLAIN reason=bad_credentials",
		"AUTHFAIL proto=pop3 remote=127.0.0.1 user=alice mech=APOP reason=no_apop_secret",
	}
	events := f.events.String()
	for _, w := range wantEvents[:3] {
		if !strings.Contains(events, w) {
			t.Errorf("event log lacks %q:\n%s", w, events)
		}
	}
	if !strings.Contains(events, "user=alice mech=APOP reason=") {
		t.Errorf("event log lacks the APOP failure:\n%s", events)
	}
	if n := strings.Count(f.logs.String(), `level=WARN msg="pop3 login rejected"`); n != 4 {
		t.Errorf("%d warning lines, want 4:\n%s", n, f.logs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*-trace.log"))
	if len(files) != 1 {
		t.Fatalf("trace files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	trace := string(b)
	for _, secret := range []string{"hunter2", "s3cr3t", "AGFsaWNl", "0123456789abcdef"} {
		if strings.Contains(trace, secret) {
			t.Errorf("trace holds %q:\n%s", secret, trace)
		}
	}
	for _, want := range []string{"C: PASS ***", "C: AUTH PLAIN ***", "C: APOP alice ***", "C: USER alice", "S: +OK Username/password combination ok"} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, trace)
		}
	}
}

// TestTooManyThreadsCounted: logins refused under Maximum-Threads are
// counted, and idle connections that never log in do not hold a session
// (issue 12 finding 2: fifteen silent sockets locked every user out).
func TestTooManyThreadsCounted(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.opts.MaxSessions = 1
	addr := f.start()
	var idle []*client
	for range 3 {
		c := &client{t: t}
		c.nc, c.br = dialRaw(t, addr)
		c.line()
		idle = append(idle, c)
	}
	c := dial(t, addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS secret", "+OK")
	c2 := dial(t, addr)
	c2.expect("USER alice", "+OK")
	c2.expect("PASS secret", "-ERR [SYS/TEMP] too many POP3 sessions")
	c2.eof()
	c.expect("QUIT", "+OK")
	c.eof()
	for _, ic := range idle {
		ic.nc.Close()
	}
	f.srv.Shutdown(t.Context())
	s := f.opts.Stats.Snapshot()
	if s.TooManyThreads != 1 || s.TotalThreads != 5 {
		t.Errorf("stats %+v", s)
	}
}

// TestSTLSDiscardsPipelinedInput: plaintext sent after STLS in the same
// packet is never executed under TLS (the STARTTLS command injection of
// CVE-2011-0411).
func TestSTLSDiscardsPipelinedInput(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.opts.TLS = testTLSConfig(t)
	c := dial(t, f.start())
	c.nc.Write([]byte("STLS\r\nUSER alice\r\n"))
	if l := c.line(); l != "+OK Begin TLS negotiation" {
		t.Fatalf("STLS: %q", l)
	}
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.nc, c.br = tc, bufio.NewReader(tc)
	c.expect("PASS secret", "-ERR send USER first")
}
