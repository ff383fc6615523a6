package smtpserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/srs"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
	"github.com/postern/postern/internal/tlsconf"
)

// testHostname is the fixed host name of every test server.
const testHostname = "mx.example.org"

// fakeQueue records what the server enqueues.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []queued
	fail error
}

type queued struct {
	from    string
	to      []string
	content string
	dsn     DSNRequest
	rcpts   []DSNRecipient // with EnqueueDSN
}

func (q *fakeQueue) EnqueueDSN(ctx context.Context, from string, dsn DSNRequest, rcpts []DSNRecipient, content io.Reader) (string, error) {
	var to []string
	for _, r := range rcpts {
		to = append(to, r.Addr)
	}
	id, err := q.Enqueue(ctx, from, to, content)
	if err == nil {
		q.mu.Lock()
		q.msgs[len(q.msgs)-1].dsn, q.msgs[len(q.msgs)-1].rcpts = dsn, rcpts
		q.mu.Unlock()
	}
	return id, err
}

func (q *fakeQueue) Enqueue(_ context.Context, from string, to []string, content io.Reader) (string, error) {
	b, err := io.ReadAll(content)
	if err != nil {
		return "", err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return "", q.fail
	}
	q.msgs = append(q.msgs, queued{from: from, to: to, content: string(b)})
	return "Q" + strconv.Itoa(len(q.msgs)), nil
}

func (q *fakeQueue) all() []queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queued(nil), q.msgs...)
}

// testEnv is one server with its own store.
type testEnv struct {
	t     testing.TB
	st    store.Store
	srv   *Server
	addr  string
	queue *fakeQueue
	tls   *tls.Config
}

// setup holds the directives of a transcript's setup section.
type setup struct {
	srs      bool // SRS for alias forwards, with testSRS
	mode     Mode
	users    [][2]string
	admins   []string
	nomail   []string
	domains  []string
	aliases  string
	maxSize  int64
	maxRcpts int
	perIP    int
	perMin   int
	plain    bool
	noQueue  bool
	saveSent bool
	bareLF   bool
	remote   string
	dataTO   time.Duration
	throttle bool // the production login throttle instead of none
	binding  bool // SCRAM-Channel-Binding on
}

func parseSetup(t testing.TB, text string) setup {
	t.Helper()
	su := setup{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if err := su.apply(f); err != nil {
			t.Fatalf("setup %q: %v", line, err)
		}
	}
	return su
}

// apply applies one setup directive, split into fields.
func (su *setup) apply(f []string) error {
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	var err error
	switch f[0] {
	case "mode":
		m, ok := map[string]Mode{"submission": ModeSubmission, "smtp": ModeInbound, "lmtp": ModeLMTP}[arg(1)]
		if !ok {
			return fmt.Errorf("unknown mode %q", arg(1))
		}
		su.mode = m
	case "user":
		su.users = append(su.users, [2]string{arg(1), arg(2)})
	case "admin":
		su.admins = append(su.admins, arg(1))
	case "nomail":
		su.nomail = append(su.nomail, arg(1))
	case "domain":
		su.domains = append(su.domains, f[1:]...)
	case "alias":
		su.aliases += strings.Join(f[1:], " ") + "\n"
	case "max-size":
		su.maxSize, err = strconv.ParseInt(arg(1), 10, 64)
	case "max-rcpts":
		su.maxRcpts, err = strconv.Atoi(arg(1))
	case "per-ip":
		su.perIP, err = strconv.Atoi(arg(1))
	case "per-minute":
		su.perMin, err = strconv.Atoi(arg(1))
	case "plaintext-auth":
		su.plain = true
	case "no-queue":
		su.noQueue = true
	case "srs":
		su.srs = true
	case "save-sent":
		su.saveSent = true
	case "accept-bare-lf":
		su.bareLF = true
	case "remote":
		su.remote = arg(1)
	case "throttle":
		su.throttle = true
	case "channel-binding":
		su.binding = true
	case "data-timeout":
		su.dataTO, err = time.ParseDuration(arg(1))
	default:
		return fmt.Errorf("unknown directive %q", f[0])
	}
	return err
}

var (
	testTLSOnce sync.Once
	testTLS     *tls.Config
	testTLSErr  error
)

// serverTLS returns a self-signed certificate for localhost, made once.
func serverTLS(t testing.TB) *tls.Config {
	t.Helper()
	testTLSOnce.Do(func() {
		dir, err := os.MkdirTemp("", "smtpserver-tls-")
		if err != nil {
			testTLSErr = err
			return
		}
		if _, _, err := tlsconf.GenerateSelfSigned(dir, "localhost", nil); err != nil {
			testTLSErr = err
			return
		}
		m, _, err := tlsconf.Load(tlsconf.Files{Certificate: filepath.Join(dir, "server.crt"), Key: filepath.Join(dir, "server.key")}, dir, tlsconf.LoadOptions{})
		if err != nil {
			testTLSErr = err
			return
		}
		testTLS = m.TLSConfig()
	})
	if testTLSErr != nil {
		t.Fatal(testTLSErr)
	}
	return testTLS
}

// testNow is the servers' clock; testSRS the SRS of the "srs" directive.
var (
	testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testSRS = &srs.Rewriter{Domain: testHostname, Secrets: [][]byte{[]byte("test secret")}}
)

var cheapHasher = &auth.Hasher{Argon2: auth.CheapArgon2Params(), SCRAMIterations: 4096}

// newTestEnv starts a server for su on a loopback port.
func newTestEnv(t testing.TB, su setup) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range su.users {
		creds, err := cheapHasher.Credentials(u[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAccount(ctx, u[0], creds); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	for _, n := range su.admins {
		if _, err := st.UpdateAccount(ctx, n, store.AccountUpdate{Admin: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range su.nomail {
		if _, err := st.UpdateAccount(ctx, n, store.AccountUpdate{NoMail: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	var aliasesFile string
	if su.aliases != "" {
		aliasesFile = filepath.Join(dir, "aliases")
		os.WriteFile(aliasesFile, []byte(su.aliases), 0o600)
	}
	var rw *srs.Rewriter
	if su.srs {
		rw = testSRS
	}
	res, err := delivery.NewResolver(delivery.ResolverOptions{
		Directory: st, Hostname: testHostname, Domains: append([]string{"example.org"}, su.domains...),
		AliasesFile: aliasesFile, SRS: rw, Clock: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, st: st, queue: &fakeQueue{}, tls: serverTLS(t)}
	opts := Options{
		Mode: su.mode, Hostname: testHostname,
		Deliverer:     delivery.New(delivery.Options{Store: st}),
		Resolver:      res,
		Authenticator: auth.New(auth.Options{Store: st, Hasher: cheapHasher, Throttle: auth.ThrottleOptions{Off: !su.throttle}, ChannelBinding: su.binding}),
		TLSConfig:     e.tls, AllowPlaintextAuth: su.plain,
		MaxMessageSize: su.maxSize, MaxRecipients: su.maxRcpts,
		SaveSent: su.saveSent, AcceptBareLF: su.bareLF, SpoolDir: dir, DataTimeout: su.dataTO,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:  func() time.Time { return testNow },
		SRS:    rw,
	}
	if !su.noQueue {
		opts.Queue = e.queue
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if su.remote != "" {
		srv.testRemote = netip.MustParseAddr(su.remote)
	}
	var ln net.Listener
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if su.perIP != 0 || su.perMin != 0 {
		// The caps are admission's, in front of the server as in app.
		ln = admission.NewListener(ln, admission.Options{Label: "test",
			Table: admission.NewTable(admission.Limits{PerIP: su.perIP, PerMinute: su.perMin}, nil),
			Reply: Refusal(testHostname)})
	}
	e.srv, e.addr = srv, ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return e
}

// messages returns the raw messages in a mailbox of an account.
func (e *testEnv) messages(account, mailbox string) []string {
	e.t.Helper()
	ctx := context.Background()
	acct, err := e.st.Account(ctx, account)
	if err != nil {
		e.t.Fatal(err)
	}
	sess, err := e.st.Open(ctx, acct.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer sess.Close()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		return nil
	}
	infos, err := sess.Messages(ctx, mb.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, in := range infos {
		c, err := sess.OpenContent(ctx, mb.ID, in.UID)
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
		c.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// tconn is a test client connection with an exchange log for failures.
type tconn struct {
	t   testing.TB
	c   net.Conn
	r   *bufio.Reader
	log []string
}

func (e *testEnv) dial() *tconn {
	e.t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &tconn{t: e.t, c: c, r: bufio.NewReader(c)}
}

func (tc *tconn) writeRaw(s string) {
	tc.t.Helper()
	tc.log = append(tc.log, fmt.Sprintf("C: %q", s))
	if _, err := io.WriteString(tc.c, s); err != nil {
		tc.t.Fatalf("write: %v\n%s", err, tc.tail())
	}
}

func (tc *tconn) send(line string) { tc.t.Helper(); tc.writeRaw(line + "\r\n") }

func (tc *tconn) readLine() (string, error) {
	l, err := tc.r.ReadString('\n')
	l = strings.TrimRight(l, "\r\n")
	if err == nil {
		tc.log = append(tc.log, "S: "+l)
	}
	return l, err
}

// expect reads one line and matches it against a glob.
func (tc *tconn) expect(pattern string) string {
	tc.t.Helper()
	l, err := tc.readLine()
	if err != nil {
		tc.t.Fatalf("expected %q, got error %v\n%s", pattern, err, tc.tail())
	}
	if !globMatch(pattern, l) {
		tc.t.Fatalf("expected %q\n     got %q\n%s", pattern, l, tc.tail())
	}
	return l
}

// reply reads one whole (possibly multi-line) reply and returns its lines.
func (tc *tconn) reply() []string {
	tc.t.Helper()
	var out []string
	for {
		l, err := tc.readLine()
		if err != nil {
			tc.t.Fatalf("read reply: %v\n%s", err, tc.tail())
		}
		out = append(out, l)
		if len(l) < 4 || l[3] != '-' {
			return out
		}
	}
}

func (tc *tconn) tail() string {
	n := max(0, len(tc.log)-10)
	lines := make([]string, 0, 10)
	for _, l := range tc.log[n:] {
		if len(l) > 200 {
			l = l[:200] + fmt.Sprintf("... (%d bytes)", len(l))
		}
		lines = append(lines, l)
	}
	return "last lines:\n  " + strings.Join(lines, "\n  ")
}

// globMatch matches s against p, where * matches any run of characters
// and \* a literal star.
func globMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch {
	case strings.HasPrefix(p, `\*`):
		return strings.HasPrefix(s, "*") && globMatch(p[2:], s[1:])
	case p[0] == '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && p[0] == s[0] && globMatch(p[1:], s[1:])
}

// dataBlock dot-stuffs a message, normalises it to CRLF and terminates it.
func dataBlock(msg string) string {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimSuffix(msg, "\n"), "\n") {
		if strings.HasPrefix(l, ".") {
			b.WriteByte('.')
		}
		b.WriteString(l + "\r\n")
	}
	b.WriteString(".\r\n")
	return b.String()
}
