package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/prototest"
)

// The robustness suite of issue 12: the real binary under hostile load.
// Every test here is bounded to a few seconds of wall time.

// robustEnv is an all-protocols server (IMAP, POP3, submission, inbound
// SMTP, LMTP) with extra lines per section, and alice as a user.
type robustEnv struct {
	*env
	p    mailPorts
	imap int
}

func newRobustEnv(t *testing.T, global string, sections map[string]string) *robustEnv {
	t.Helper()
	e, p, imap := newAllEnv(t, global)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := string(conf)
	for sec, extra := range sections {
		head := "[" + sec + "]\nEnable: on\n"
		if !strings.Contains(c, head) {
			t.Fatalf("no %q in the configuration", head)
		}
		c = strings.Replace(c, head, head+extra+"\n", 1)
	}
	writeFile(t, e.conf, c)
	e.addUser("alice", "alice-pw")
	return &robustEnv{env: e, p: p, imap: imap}
}

// lineConn is a client connection read line by line.
type lineConn struct {
	nc net.Conn
	br *bufio.Reader
}

// dialFrom connects to port on 127.0.0.1 from the loopback address src:
// Linux routes all of 127.0.0.0/8 to lo, so each src is a client address
// of its own for the server's per-address accounting.
func dialFrom(src string, port int) (*lineConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	return &lineConn{nc: nc, br: bufio.NewReader(nc)}, nil
}

// line reads one line within d; "" and an error on timeout or close.
func (c *lineConn) line(d time.Duration) (string, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	l, err := c.br.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

// cmd sends a line and returns the first reply line that starts with
// want (skipping others), or an error.
func (c *lineConn) cmd(line, want string, d time.Duration) (string, error) {
	if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
		return "", err
	}
	for {
		l, err := c.line(d)
		if err != nil {
			return l, err
		}
		if strings.HasPrefix(l, want) {
			return l, nil
		}
	}
}

// TestSlowlorisAndPreauthCaps: a client that trickles a byte at a time is
// cut off at Preauth-Timeout on IMAP, POP3 and submission (issue 12: 2,000
// slow submission clients were held for 5 minutes); one address cannot
// hold more than Max-Preauth-Per-IP sockets that have not logged in, and
// is refused with the protocol's temporary reply, while another address
// is served (loopback is not exempt).
func TestSlowlorisAndPreauthCaps(t *testing.T) {
	t.Parallel()
	limits := "Preauth-Timeout: 2s\nMax-Preauth-Per-IP: 3"
	e := newRobustEnv(t, "", map[string]string{"IMAP": limits, "POP": limits, "SMTP": limits})
	e.startMail()
	protos := []struct {
		name    string
		port    int
		greet   string
		refusal string
		login   func(c *lineConn) error
	}{
		{"imap", e.imap, "* OK", "* BYE [UNAVAILABLE] Too many connections from your address", func(c *lineConn) error {
			_, err := c.cmd("a LOGIN alice alice-pw", "a OK", 20*time.Second)
			return err
		}},
		{"pop3", e.p.pop, "+OK", "-ERR [SYS/TEMP] too many connections from your address", func(c *lineConn) error {
			if _, err := c.cmd("USER alice", "+OK", 5*time.Second); err != nil {
				return err
			}
			_, err := c.cmd("PASS alice-pw", "+OK", 20*time.Second)
			return err
		}},
		{"submission", e.p.submission, "220 ", "421 4.7.0", func(c *lineConn) error {
			if _, err := c.cmd("EHLO client", "250 ", 5*time.Second); err != nil {
				return err
			}
			_, err := c.cmd("AUTH PLAIN AGFsaWNlAGFsaWNlLXB3", "235 ", 20*time.Second)
			return err
		}},
	}
	for i, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			src := fmt.Sprintf("127.0.%d.2", 10+i)
			// Slowloris: one byte every 300 ms, never a whole line.
			slow, err := dialFrom(src, p.port)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.nc.Close()
			start := time.Now()
			cut := make(chan time.Duration, 1)
			go func() {
				for {
					if _, err := slow.nc.Write([]byte("x")); err != nil {
						break
					}
					time.Sleep(300 * time.Millisecond)
				}
				cut <- time.Since(start)
			}()
			go func() {
				for { // drain the greeting and whatever the server says last
					if _, err := slow.line(30 * time.Second); err != nil {
						slow.nc.Close()
						return
					}
				}
			}()
			// Max-Preauth-Per-IP: 3 from src (the slow one counts).
			for j := range 2 {
				c, err := dialFrom(src, p.port)
				if err != nil {
					t.Fatal(err)
				}
				defer c.nc.Close()
				if l, err := c.line(5 * time.Second); !strings.HasPrefix(l, p.greet) {
					t.Fatalf("pre-auth connection %d: %q %v", j+2, l, err)
				}
			}
			over, err := dialFrom(src, p.port)
			if err != nil {
				t.Fatal(err)
			}
			defer over.nc.Close()
			if l, _ := over.line(5 * time.Second); !strings.HasPrefix(l, p.refusal) {
				t.Errorf("fourth pre-auth connection from one address got %q, want %q", l, p.refusal)
			}
			// Another address logs in meanwhile.
			other, err := dialFrom(fmt.Sprintf("127.0.%d.3", 10+i), p.port)
			if err != nil {
				t.Fatal(err)
			}
			defer other.nc.Close()
			other.line(5 * time.Second)
			if err := p.login(other); err != nil {
				t.Errorf("a client from another address could not log in: %v", err)
			}
			select {
			case d := <-cut:
				if d < 1500*time.Millisecond {
					t.Errorf("slowloris client cut after %v, before Preauth-Timeout", d)
				}
			case <-time.After(15 * time.Second):
				t.Error("slowloris client still connected 15 s after a 2 s Preauth-Timeout")
			}
		})
	}
}

// TestDescriptorExhaustion is issue 12 finding 1: with the server at its
// descriptor limit (a low RLIMIT_NOFILE, set with prlimit), EMFILE on
// accept used to stop the IMAP and POP3 listeners for good. Now clients
// beyond the limit are told "busy" (the descriptor reserve) instead of
// hanging in the backlog, and once descriptors are free again both
// listeners serve as before.
func TestDescriptorExhaustion(t *testing.T) {
	t.Parallel()
	prlimit := requireTool(t, "prlimit")
	open := "Max-Connections-Per-IP: 0\nMax-Preauth-Per-IP: 0"
	e := newRobustEnv(t, "", map[string]string{"IMAP": open, "POP": open})
	const limit = 64
	s := startServeVia(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf}, []string{prlimit, fmt.Sprintf("--nofile=%d:%d", limit, limit)})
	t.Cleanup(func() {
		e.run("", "ctl", "shutdown")
		s.wait()
	})
	if fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(s.cmd.Process.Pid), "fd")); err == nil {
		t.Logf("server holds %d descriptors at rest, limit %d", len(fds), limit)
	}
	for _, p := range []struct {
		name  string
		port  int
		greet string
		busy  string
	}{
		{"imap", e.imap, "* OK", "* BYE [UNAVAILABLE] Server busy"},
		{"pop3", e.p.pop, "+OK", "-ERR [SYS/TEMP] server busy"},
	} {
		var held []*lineConn
		greeted, busy, silent := 0, 0, 0
		for range limit + 10 {
			c, err := dialFrom("127.0.0.1", p.port)
			if err != nil {
				t.Fatalf("%s: dial: %v", p.name, err)
			}
			held = append(held, c)
			l, _ := c.line(3 * time.Second)
			switch {
			case strings.HasPrefix(l, p.greet):
				greeted++
			case strings.HasPrefix(l, p.busy):
				busy++
			default:
				silent++
			}
		}
		t.Logf("%s at the descriptor limit: %d greeted, %d told busy, %d silent", p.name, greeted, busy, silent)
		if busy == 0 || greeted == 0 {
			t.Errorf("%s: %d greeted and %d told busy; want both (the limit was reached)", p.name, greeted, busy)
		}
		if silent > 0 {
			t.Errorf("%s: %d clients got no answer within 3 s", p.name, silent)
		}
		for _, c := range held {
			c.nc.Close()
		}
	}
	// The listeners live on: both greet new clients once descriptors are
	// free (the server sees the closes as they arrive).
	for _, p := range []struct {
		port  int
		greet string
	}{{e.imap, "* OK"}, {e.p.pop, "+OK"}} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := dialFrom("127.0.0.1", p.port)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := c.line(3 * time.Second)
			c.nc.Close()
			if strings.HasPrefix(l, p.greet) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("port %d does not serve after the descriptors came back: %q", p.port, l)
			}
		}
	}
}

// timedIMAPLogin logs in over IMAP from src and returns how long the LOGIN
// took and its tagged reply.
func timedIMAPLogin(src string, port int, user, pw string) (time.Duration, string, error) {
	c, err := dialFrom(src, port)
	if err != nil {
		return 0, "", err
	}
	defer c.nc.Close()
	if _, err := c.line(10 * time.Second); err != nil {
		return 0, "", err
	}
	start := time.Now()
	l, err := c.cmd("a LOGIN "+user+" "+pw, "a ", 60*time.Second)
	return time.Since(start), l, err
}

// TestDistributedGuessingFairness is issue 12 finding 4: 200 addresses
// sending wrong passwords slowed a legitimate login from another address
// to 13-15 s, because password verifications were served first come,
// first served. Eight addresses from 127.0.1.0/24 guess continuously
// (real argon2id, no auth cache); once each has failed, a login from a
// fresh address, and the owner's login from an attacker's own address
// (she logged in from it before), must not wait behind the queue of
// guesses: while one of them is verified, at most a couple of guesses
// are (first come, first served, all eight would be). Counting guesses
// instead of timing keeps the test true on a loaded machine. The owner is
// not throttled by her address's failures for other users either (issue
// 13).
func TestDistributedGuessingFairness(t *testing.T) {
	t.Parallel()
	e := newRobustEnv(t, "Auth-Cache-TTL: 0", nil)
	e.startMail()
	if _, reply, err := timedIMAPLogin("127.0.1.1", e.imap, "alice", "alice-pw"); err != nil || !strings.HasPrefix(reply, "a OK") {
		t.Fatalf("owner's first login from 127.0.1.1: %q %v", reply, err)
	}
	const attackers = 8
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	failedOnce := map[int]bool{}
	verified := 0 // guesses answered AUTHENTICATIONFAILED: each cost a verification
	for a := 1; a <= attackers; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := fmt.Sprintf("127.0.1.%d", a)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				_, reply, err := timedIMAPLogin(src, e.imap, fmt.Sprintf("guess%d-%d", a, n), "wrong")
				if err != nil {
					return
				}
				mu.Lock()
				if strings.HasPrefix(reply, "a NO [AUTHENTICATIONFAILED]") {
					failedOnce[a] = true
					verified++
				}
				mu.Unlock()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	count := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(failedOnce), verified
	}
	for deadline := time.Now().Add(3 * time.Minute); ; {
		if n, _ := count(); n == attackers {
			break
		}
		if time.Now().After(deadline) {
			n, _ := count()
			t.Fatalf("only %d of %d attackers were answered in 3 minutes", n, attackers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, who := range []struct{ name, src string }{{"fresh address", "127.0.0.9"}, {"owner on an attacker's address", "127.0.1.1"}} {
		_, before := count()
		d, reply, err := timedIMAPLogin(who.src, e.imap, "alice", "alice-pw")
		_, after := count()
		if err != nil || !strings.HasPrefix(reply, "a OK") {
			t.Errorf("%s: login %q %v", who.name, reply, err)
			continue
		}
		t.Logf("%s: login took %v; %d guesses were verified meanwhile", who.name, d.Round(time.Millisecond), after-before)
		if after-before > 3 {
			t.Errorf("%s: %d guesses were verified while the login waited; want at most 3 (it went to the back of the queue)", who.name, after-before)
		}
	}
}

// TestHostileTranscripts runs the transcripts of testdata/hostile against
// one real server speaking every protocol, then checks that each protocol
// still serves. Loopback is trusted here (Trusted-Networks), so that the
// transcripts, run in parallel, meet no per-address cap.
func TestHostileTranscripts(t *testing.T) {
	e := newRobustEnv(t, "Trusted-Networks: 127.0.0.0/8", nil)
	e.addUser("bob", "bob-pw")
	e.startMail()
	ports := map[string]int{"imap": e.imap, "pop3": e.p.pop, "submission": e.p.submission, "smtp": e.p.smtp, "lmtp": e.p.lmtp}
	t.Cleanup(func() { checkServing(t, e) })
	prototest.Run(t, "testdata/hostile/*.txtar", prototest.Options[*int]{
		New: func(*testing.T, *prototest.Case) *int { return new(int) },
		Setup: func(_ *testing.T, port *int, _ *prototest.Case, args []string) error {
			if len(args) != 2 || args[0] != "proto" || ports[args[1]] == 0 {
				return fmt.Errorf("want: proto imap|pop3|submission|smtp|lmtp")
			}
			*port = ports[args[1]]
			return nil
		},
		Start: func(_ *testing.T, port *int, _ *prototest.Case) string {
			return "127.0.0.1:" + strconv.Itoa(*port)
		},
		Timeout: 30 * time.Second,
	})
}

// checkServing checks that every protocol of a robust env greets a new
// client.
func checkServing(t *testing.T, e *robustEnv) {
	t.Helper()
	for port, greet := range map[int]string{e.imap: "* OK", e.p.pop: "+OK", e.p.submission: "220 ", e.p.smtp: "220 ", e.p.lmtp: "220 "} {
		c, err := dialFrom("127.0.0.1", port)
		if err != nil {
			t.Errorf("port %d: %v", port, err)
			continue
		}
		if l, err := c.line(10 * time.Second); !strings.HasPrefix(l, greet) {
			t.Errorf("port %d no longer serves: %q %v", port, l, err)
		}
		c.nc.Close()
	}
}
