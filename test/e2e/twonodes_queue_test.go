package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// countingSink is the remote SMTP server of the queue test: it counts,
// per recipient, the messages whose DATA it accepted, and holds the
// first transaction to holdRcpt at RCPT until released, so that the node
// sending it can be killed mid-delivery.
type countingSink struct {
	addr     string
	holdRcpt string
	held     chan struct{} // closed when the held transaction waits
	release  chan struct{} // closed to let it go on

	mu     sync.Mutex
	got    map[string]int
	holdOn bool // the hold has been used
}

type countingSess struct {
	s    *countingSink
	rcpt []string
}

func (ss *countingSess) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *countingSess) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	hold := to == ss.s.holdRcpt && !ss.s.holdOn
	ss.s.holdOn = ss.s.holdOn || hold
	ss.s.mu.Unlock()
	if hold {
		close(ss.s.held)
		select {
		case <-ss.s.release:
		case <-time.After(2 * time.Minute):
		}
	}
	ss.rcpt = append(ss.rcpt, to)
	return nil
}

func (ss *countingSess) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	for _, to := range ss.rcpt {
		ss.s.got[to]++
	}
	ss.s.mu.Unlock()
	return nil
}

func (ss *countingSess) Reset()        { ss.rcpt = nil }
func (ss *countingSess) Logout() error { return nil }

func startCountingSink(t *testing.T, holdRcpt string) *countingSink {
	t.Helper()
	s := &countingSink{holdRcpt: holdRcpt, held: make(chan struct{}), release: make(chan struct{}), got: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &countingSess{s: s}, nil }))
	srv.Domain = "sink.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() {
		s.mu.Lock()
		if !s.holdOn {
			close(s.held)
		}
		s.mu.Unlock()
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		srv.Close()
	})
	return s
}

// counts returns a copy of the per-recipient counts.
func (s *countingSink) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

// submitGo submits one message to a node's submission port with
// go-smtp's client (STARTTLS, AUTH PLAIN), failing unless it is accepted.
func submitGo(t *testing.T, n *node, to, subject string) {
	t.Helper()
	pem, err := os.ReadFile(n.cafile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := smtp.DialStartTLS("localhost:"+strconv.Itoa(n.submission), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alice", "alice-pw")); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprintf("From: alice@e2e.example.org\r\nTo: %s\r\nSubject: %s\r\n\r\nqueued across nodes\r\n", to, subject)
	if err := c.SendMail("alice@e2e.example.org", []string{to}, strings.NewReader(msg)); err != nil {
		t.Fatalf("submit to %s: %v", to, err)
	}
	c.Quit()
}

// leaseHolder is the pid in `ctl queue list`'s "being delivered by
// HOST/PID/RANDOM".
var leaseHolder = regexp.MustCompile(`being delivered by [^/\s]+/(\d+)/`)

// TestTwoNodesQueue: two `postern serve` on one database share the
// outbound queue. A message held by the remote server mid-delivery keeps
// one node busy while the other delivers every message submitted through
// either; then the busy node is killed (SIGKILL) and, once its lease has
// run out, the other node delivers the held message. Each of the
// messages reaches the remote server exactly once and the queue ends
// empty.
func TestTwoNodesQueue(t *testing.T) {
	const lease = 3 * time.Second
	sink := startCountingSink(t, "held@remote.example")
	url := pgtest.New(t)
	extra := "Relay-Host: " + sink.addr + "\nRelay-TLS: NONE\nQueue-Lease: 3s\n"
	nodes := []*node{newNode(t, url, extra), newNode(t, url, extra)}
	nodes[0].addUser("alice", "alice-pw")
	servers := []*server{nodes[0].startMail(), nodes[1].startMail()}

	submitGo(t, nodes[0], "held@remote.example", "held")
	select {
	case <-sink.held:
	case <-time.After(30 * time.Second):
		t.Fatal("the held message did not reach the remote server in 30 s")
	}
	holder := -1
	list := nodes[1].run("", "ctl", "queue", "list").must(t, 0).stdout
	if m := leaseHolder.FindStringSubmatch(list); m != nil {
		for i, s := range servers {
			// The lease names the worker process that delivers; its
			// parent is the node's postern serve (docs/supervisor.md).
			if pid, _ := strconv.Atoi(m[1]); parentPID(pid) == s.cmd.Process.Pid || pid == s.cmd.Process.Pid {
				holder = i
			}
		}
	}
	if holder < 0 {
		t.Fatalf("no node holds the lease of the held message:\n%s", list)
	}
	other := nodes[1-holder]

	const count = 10
	want := map[string]int{"held@remote.example": 1}
	for i := range count {
		to := fmt.Sprintf("r%d@remote.example", i)
		want[to] = 1
		submitGo(t, nodes[i%2], to, fmt.Sprint("message ", i))
	}
	waitFor(t, 30*time.Second, "the free node to deliver every message", func() bool {
		return len(sink.counts()) == count
	})

	if err := servers[holder].cmd.Process.Kill(); err != nil { // SIGKILL mid-delivery
		t.Fatal(err)
	}
	servers[holder].wait()
	killed := time.Now()
	close(sink.release)
	waitFor(t, 30*time.Second, "the held message to be delivered by the surviving node", func() bool {
		return sink.counts()["held@remote.example"] > 0
	})
	d := time.Since(killed)
	t.Logf("node %d killed holding the lease; the held message delivered by the other %v later (lease %v)", holder+1, d.Round(time.Millisecond), lease)
	if d > lease+10*time.Second {
		t.Errorf("the lease came back after %v (lease %v)", d, lease)
	}
	time.Sleep(lease) // room for a duplicate to show
	got := sink.counts()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("remote server got %v, want each once: %v", got, want)
	}
	if r := other.run("", "ctl", "queue", "list").must(t, 0); !strings.Contains(r.stdout, "queue is empty") {
		t.Errorf("queue after delivery:\n%s", r.stdout)
	}
}

// waitFor polls cond every 50 ms until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
