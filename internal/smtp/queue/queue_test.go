package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/store/sqlite"
	"github.com/postern/postern/internal/tlsconf"
)

// sink is a fake remote SMTP server owned by the test.
type sink struct {
	addr string
	got1 chan struct{} // a message arrived
	mu   sync.Mutex
	got  []sinkMsg
	// rcptErr, if set, answers RCPT for an address.
	rcptErr func(to string) error
	authed  []string
}

type sinkMsg struct {
	from string
	to   []string
	data string
}

type sinkSession struct {
	s    *sink
	from string
	to   []string
}

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (ss *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "relayuser" || pass != "relaypw" {
			return errors.New("bad credentials")
		}
		ss.s.mu.Lock()
		ss.s.authed = append(ss.s.authed, user)
		ss.s.mu.Unlock()
		return nil
	}), nil
}
func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.rcptErr != nil {
		if err := ss.s.rcptErr(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, sinkMsg{ss.from, ss.to, string(b)})
	ss.s.mu.Unlock()
	select {
	case ss.s.got1 <- struct{}{}:
	default:
	}
	return nil
}
func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (s *sink) messages() []sinkMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMsg(nil), s.got...)
}

// startSink starts a sink on loopback; tlsCfg enables STARTTLS.
func startSink(t *testing.T, tlsCfg *tls.Config, rcptErr func(string) error) *sink {
	t.Helper()
	s := &sink{rcptErr: rcptErr, got1: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain = "sink.example"
	srv.TLSConfig = tlsCfg
	srv.AllowInsecureAuth = tlsCfg == nil
	srv.ErrorLog = nopLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// localBox collects local deliveries (DSNs to local senders).
type localBox struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func (l *localBox) deliver(_ context.Context, _, rcpt string, r io.ReadSeeker) (bool, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return false, err
	}
	if strings.HasPrefix(rcpt, "nobody@") {
		return true, errors.New("no such user")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs = map[string][]string{}
	}
	l.msgs[rcpt] = append(l.msgs[rcpt], string(b))
	return false, nil
}

func (l *localBox) get(rcpt string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs[rcpt]...)
}

const testMsg = "From: alice@local.example\r\nTo: bob@remote.example\r\nSubject: queued\r\n\r\nhello\r\n"

type testQueue struct {
	*Queue
	clk   *clock
	local *localBox
	st    *sqlite.Store
}

// newTestStore opens a SQLite store in dir, closed when the test ends.
func newTestStore(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newTestQueue makes a queue on a new store in dir, or on the store st
// (another queue's: a restart, or a second node).
func newTestQueue(t *testing.T, dir string, mod func(*Options)) *testQueue {
	t.Helper()
	return newTestQueueOn(t, newTestStore(t, dir), mod)
}

func newTestQueueOn(t *testing.T, st *sqlite.Store, mod func(*Options)) *testQueue {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	local := &localBox{}
	opts := Options{
		Store: st, Hostname: "mx.local.example", Clock: clk.now,
		IsLocal:      func(d string) bool { return d == "local.example" },
		DeliverLocal: local.deliver,
		Lifetime:     24 * time.Hour, RetryBase: time.Minute, RetryMax: time.Hour,
	}
	if mod != nil {
		mod(&opts)
	}
	q, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testQueue{q, clk, local, st}
}

// list is List that fails the test on an error.
func (tq *testQueue) list(t *testing.T) []Info {
	t.Helper()
	l, err := tq.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// drain runs every due attempt synchronously.
func (tq *testQueue) drain() {
	for i := 0; i < 10; i++ {
		tq.runDue(context.Background())
	}
}

func relayTo(s *sink) func(*Options) {
	return func(o *Options) { o.Relay = &Relay{Addr: s.addr, TLS: RelayNone} }
}

func TestDeliverThroughRelay(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, nil)
	tq := newTestQueue(t, t.TempDir(), relayTo(s))
	id, err := tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example", "carol@other.example"}, strings.NewReader(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	tq.drain()
	got := s.messages()
	if len(got) != 1 || got[0].from != "alice@local.example" || len(got[0].to) != 2 || got[0].data != testMsg {
		t.Fatalf("sink got %+v", got)
	}
	if l := tq.list(t); len(l) != 0 {
		t.Errorf("queue not empty: %+v", l)
	}
	if _, err := os.Stat(filepath.Join(tq.opts.Dir, "msg", id)); !os.IsNotExist(err) {
		t.Errorf("message file left: %v", err)
	}
}

func TestRelayStartTLSAndAuth(t *testing.T) {
	t.Parallel()
	cfg := testTLS(t)
	s := startSink(t, cfg, nil)
	tq := newTestQueue(t, t.TempDir(), func(o *Options) {
		o.Relay = &Relay{Addr: s.addr, TLS: RelayStartTLS, Username: "relayuser", Password: "relaypw",
			TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	})
	if _, err := tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg)); err != nil {
		t.Fatal(err)
	}
	tq.drain()
	if len(s.messages()) != 1 || len(s.authed) != 1 {
		t.Fatalf("sink got %d messages, %d logins", len(s.messages()), len(s.authed))
	}
}

func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := tlsconf.GenerateSelfSigned(dir, "localhost", nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := tlsconf.Load(tlsconf.Files{Certificate: filepath.Join(dir, "server.crt"), Key: filepath.Join(dir, "server.key")}, dir, tlsconf.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m.TLSConfig()
}

func TestDeliverToMX(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, nil)
	host, port, _ := net.SplitHostPort(s.addr)
	var looked []string
	tq := newTestQueue(t, t.TempDir(), func(o *Options) {
		o.LookupMX = func(_ context.Context, d string) ([]string, error) {
			looked = append(looked, d)
			if d == "nomail.example" {
				return nil, ErrNullMX
			}
			return []string{"192.0.2.1.invalid", host}, nil // the first does not resolve: the next MX is tried
		}
		o.Port = atoi(port)
	})
	tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example", "x@nomail.example"}, strings.NewReader(testMsg))
	tq.drain()
	if len(s.messages()) != 1 {
		t.Fatalf("sink got %d", len(s.messages()))
	}
	dsn := tq.local.get("alice@local.example")
	if len(dsn) != 1 || !strings.Contains(dsn[0], "Final-Recipient: rfc822; x@nomail.example\r\nAction: failed\r\nStatus: 5.1.10") {
		t.Errorf("null MX DSN: %q", dsn)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestPermanentFailureBounces: the sink refuses one recipient with 550; the
// sender (local) gets one RFC 3464 DSN and the DSN itself is never bounced.
func TestPermanentFailureBounces(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, func(to string) error {
		if strings.HasPrefix(to, "gone@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
		}
		return nil
	})
	tq := newTestQueue(t, t.TempDir(), relayTo(s))
	tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example", "gone@remote.example"}, strings.NewReader(testMsg))
	tq.drain()
	if got := s.messages(); len(got) != 1 || len(got[0].to) != 1 {
		t.Fatalf("sink got %+v", got)
	}
	dsn := tq.local.get("alice@local.example")
	if len(dsn) != 1 {
		t.Fatalf("%d DSNs", len(dsn))
	}
	for _, want := range []string{
		"From: Mail Delivery System <MAILER-DAEMON@mx.local.example>\r\n",
		"Content-Type: multipart/report; report-type=delivery-status;",
		"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.local.example\r\n",
		"Final-Recipient: rfc822; gone@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such mailbox\r\n",
		"Content-Type: text/rfc822-headers\r\n\r\nFrom: alice@local.example\r\nTo: bob@remote.example\r\nSubject: queued\r\n",
	} {
		if !strings.Contains(dsn[0], want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn[0])
		}
	}
	if strings.Contains(dsn[0], "bob@remote.example\r\nAction") {
		t.Error("DSN reports the delivered recipient")
	}
	if l := tq.list(t); len(l) != 0 {
		t.Errorf("queue not empty: %+v", l)
	}
}

// TestRetryThenExpire: a temporary failure is retried with growing delays;
// a delay notice goes out once; after Lifetime the sender gets a bounce.
func TestRetryThenExpire(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, func(string) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	})
	tq := newTestQueue(t, t.TempDir(), func(o *Options) {
		relayTo(s)(o)
		o.DelayWarning = 2 * time.Hour
	})
	tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg))
	tq.drain()
	l := tq.list(t)
	if len(l) != 1 || l[0].Attempts != 1 || !l[0].NextAttempt.Equal(tq.clk.now().Add(time.Minute)) || !strings.Contains(l[0].LastError, "451") {
		t.Fatalf("after one attempt: %+v", l)
	}
	tq.clk.add(time.Minute)
	tq.drain()
	if l = tq.list(t); l[0].Attempts != 2 || !l[0].NextAttempt.Equal(tq.clk.now().Add(2*time.Minute)) {
		t.Fatalf("backoff: %+v", l)
	}
	for i := 0; i < 40; i++ {
		tq.clk.add(time.Hour)
		tq.drain()
	}
	msgs := tq.local.get("alice@local.example")
	if len(msgs) != 2 || !strings.Contains(msgs[0], "Action: delayed\r\nStatus: 4.3.0") ||
		!strings.Contains(msgs[1], "Action: failed\r\nStatus: 4.4.7") {
		t.Fatalf("notices: %d\n%s", len(msgs), strings.Join(msgs, "\n-----\n"))
	}
	if l := tq.list(t); len(l) != 0 {
		t.Errorf("queue not empty: %+v", l)
	}
}

// TestSurvivesRestart: what was enqueued is there after a restart, once;
// a queue directory of an older version is moved into the store, its
// debris (a crash before the 250) cleaned up.
func TestSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir, legacy := t.TempDir(), t.TempDir()
	s := startSink(t, nil, nil)
	tq := newTestQueue(t, dir, relayTo(s))
	id, err := tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	// The files of an older version: one message, and the debris of a
	// crash after writing a message but before its envelope.
	for _, sub := range []string{"msg", "env", "tmp"} {
		os.MkdirAll(filepath.Join(legacy, sub), 0o700)
	}
	env := `{"id":"old1","from":"alice@local.example","created":"2026-11-25T11:00:00Z","next_attempt":"2026-11-25T11:00:00Z",` +
		`"rcpts":[{"addr":"carol@remote.example","state":"pending","updated":"2026-11-25T11:00:00Z"}]}`
	os.WriteFile(filepath.Join(legacy, "env", "old1"), []byte(env), 0o600)
	os.WriteFile(filepath.Join(legacy, "msg", "old1"), []byte(testMsg), 0o600)
	os.WriteFile(filepath.Join(legacy, "msg", "orphan"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(legacy, "tmp", "half.env-1"), []byte("{"), 0o600)

	tq2 := newTestQueueOn(t, tq.st, func(o *Options) { relayTo(s)(o); o.Dir = legacy })
	if l := tq2.list(t); len(l) != 2 || l[0].ID != "old1" || l[1].ID != id || l[0].Pending[0] != "carol@remote.example" {
		t.Fatalf("after restart: %+v", l)
	}
	for _, p := range []string{"msg/orphan", "tmp/half.env-1", "msg/old1", "env/old1"} {
		if _, err := os.Stat(filepath.Join(legacy, p)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", p)
		}
	}
	tq2.drain()
	tq3 := newTestQueueOn(t, tq.st, relayTo(s))
	tq3.drain()
	if n := len(s.messages()); n != 2 {
		t.Errorf("delivered %d messages, want 2", n)
	}
}

// TestLeaseReturns: a message claimed by a node that died mid-delivery is
// left alone while the lease runs, then delivered by another runner,
// once.
func TestLeaseReturns(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, nil)
	tq := newTestQueue(t, t.TempDir(), func(o *Options) { relayTo(s)(o); o.Lease = time.Minute })
	if _, err := tq.Enqueue(t.Context(), "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg)); err != nil {
		t.Fatal(err)
	}
	if m, err := tq.st.QueueClaim(t.Context(), "dead-node", tq.clk.now(), time.Minute); err != nil || m == nil {
		t.Fatalf("claim as the dead node: %v %v", m, err)
	}
	tq.drain()
	if l := tq.list(t); len(s.messages()) != 0 || len(l) != 1 || l[0].Node != "dead-node" {
		t.Fatalf("delivered under another node's lease: %d, %+v", len(s.messages()), l)
	}
	if next := tq.runDue(t.Context()); !next.Equal(tq.clk.now().Add(time.Minute)) {
		t.Errorf("next due %v, want the lease's end", next)
	}
	tq.clk.add(time.Minute)
	tq.drain()
	if n := len(s.messages()); n != 1 || len(tq.list(t)) != 0 {
		t.Errorf("after the lease ran out: delivered %d, queue %+v", n, tq.list(t))
	}
}

func TestFlushAndDelete(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, func(string) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"}
	})
	tq := newTestQueue(t, t.TempDir(), relayTo(s))
	id, _ := tq.Enqueue(context.Background(), "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg))
	tq.drain()
	if n, err := tq.Flush(t.Context()); err != nil || n != 1 || !tq.list(t)[0].NextAttempt.Equal(tq.clk.now()) {
		t.Errorf("flush: %d %v %+v", n, err, tq.list(t))
	}
	if err := tq.Delete(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if err := tq.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if len(tq.list(t)) != 0 || len(tq.local.get("alice@local.example")) != 0 {
		t.Error("delete left something or told the sender")
	}
}

func TestRunLoopDelivers(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, nil)
	tq := newTestQueue(t, t.TempDir(), relayTo(s))
	tq.opts.Clock = time.Now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tq.Run(ctx); close(done) }()
	tq.Enqueue(ctx, "alice@local.example", []string{"bob@remote.example"}, strings.NewReader(testMsg))
	select {
	case <-s.got1:
	case <-time.After(10 * time.Second):
	}
	cancel()
	<-done
	if len(s.messages()) != 1 {
		t.Fatal("Run did not deliver")
	}
}
