package imapserver

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/observe"
)

// rawClient is a line-level client for tests of connection behaviour.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	c.expect("* OK ")
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

// expect reads lines until one starts with prefix and returns it.
func (c *rawClient) expect(prefix string) string {
	c.t.Helper()
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
}

// TestTraceRedactsPasswords checks that a trace file holds the exchange
// but no password: LOGIN arguments (quoted and in a literal) and
// AUTHENTICATE responses (hp-system.md §8).
func TestTraceRedactsPasswords(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "s3cr3t-pw")
	dir := t.TempDir()
	tr, err := observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: "imap", Node: testHost, Synch: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Tracer = tr
	addr := f.start()
	c := dialRaw(t, addr)
	c.send(`a1 LOGIN alice "s3cr3t-pw"`)
	c.expect("a1 OK")
	c.send("a2 LOGOUT")
	c.expect("a2 OK")
	c = dialRaw(t, addr)
	c.send("b1 LOGIN alice {9}")
	c.expect("+ ")
	c.send("s3cr3t-pw")
	c.expect("b1 OK")
	c.send("b2 LOGOUT")
	c.expect("b2 OK")
	c = dialRaw(t, addr)
	c.send("c1 AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("AGFsaWNlAHMzY3IzdC1wdw==")
	c.expect("c1 OK")
	c.send("c2 LOGOUT")
	c.expect("c2 OK")
	tr.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*trace*"))
	if len(files) != 1 {
		t.Fatalf("trace files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	trace := string(b)
	for _, secret := range []string{"s3cr3t-pw", "AGFsaWNlAHMzY3IzdC1wdw=="} {
		if strings.Contains(trace, secret) {
			t.Errorf("trace contains %q:\n%s", secret, trace)
		}
	}
	for _, want := range []string{"a1 LOGIN alice ***", "b1 LOGIN alice ***", "c1 AUTHENTICATE PLAIN", "a2 OK LOGOUT completed"} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, trace)
		}
	}
}

// TestAuthFailEvent checks the event log line of a failed login.
func TestAuthFailEvent(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	c := dialRaw(t, f.start())
	c.send("a1 LOGIN alice nope")
	c.expect("a1 NO")
	if ev := f.events.String(); !strings.Contains(ev, "AUTHFAIL proto=imap remote=127.0.0.1 user=alice mech=PASSWORD") {
		t.Errorf("event log: %q", ev)
	}
}

// TestAutologout checks that an idle authenticated connection is logged
// out with a BYE after Idle-Timeout.
func TestAutologout(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	f.opts.IdleTimeout = 300 * time.Millisecond
	c := dialRaw(t, f.start())
	c.send("a1 LOGIN alice pw")
	c.expect("a1 OK")
	c.send("a2 SELECT INBOX")
	c.expect("a2 OK")
	if l := c.expect("* BYE"); !strings.Contains(l, "Autologout") {
		t.Errorf("BYE line %q", l)
	}
}

// TestShutdownSaysBye checks that Shutdown ends idle connections with a
// BYE, in every state, and returns.
func TestShutdownSaysBye(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	addr := f.start()
	c1 := dialRaw(t, addr)
	c2 := dialRaw(t, addr)
	c2.send("a1 LOGIN alice pw")
	c2.expect("a1 OK")
	c2.send("a2 SELECT INBOX")
	c2.expect("a2 OK")
	c2.send("a3 IDLE")
	c2.expect("+ ")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c1.expect("* BYE Server shutting down")
	c2.expect("* BYE Server shutting down")
}

// TestNewRefusesUnimplementedCapability checks the boot-time check.
func TestNewRefusesUnimplementedCapability(t *testing.T) {
	f := newFixture(t)
	f.start() // fills f.opts.Auth
	saved := capabilities
	t.Cleanup(func() { capabilities = saved })
	capabilities = append(capabilities[:len(capabilities):len(capabilities)], capability{name: "XNOTIMPLEMENTED", postAuth: true, commands: []string{"XNOTIMPLEMENTED"}})
	if _, err := New(f.opts); err == nil || !strings.Contains(err.Error(), "XNOTIMPLEMENTED") {
		t.Fatalf("New with an unimplemented capability: %v", err)
	}
}
