package pop3server

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/prototest"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
	"github.com/postern/postern/internal/tlsconf"
)

// testTime is the fixed clock of every test: greetings, arrival dates and
// UIDLs are deterministic.
var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const testHost = "pop.example.org"

// fixture is one test's store, authenticator and server options.
type fixture struct {
	t      testing.TB
	st     *sqlite.Store
	hasher *auth.Hasher
	opts   Options
	events *syncBuffer
	logs   *syncBuffer
	srv    *Server
	// loopbackPlain makes the server treat the client as non-loopback,
	// to test the plaintext rules.
	remoteNotLoopback bool
	// throttle is Off (STYLE B10) unless a transcript turns it on.
	throttle auth.ThrottleOptions
	// channelBinding is SCRAM-Channel-Binding.
	channelBinding bool
}

// syncBuffer is a goroutine-safe bytes.Buffer for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	var uv atomic.Uint32
	uv.Store(100)
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{
		Clock:       func() time.Time { return testTime },
		UIDValidity: func() uint32 { return uv.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, hasher: &auth.Hasher{Argon2: auth.CheapArgon2Params(), SCRAMIterations: auth.MinSCRAMIterations},
		events: &syncBuffer{}, logs: &syncBuffer{}, throttle: auth.ThrottleOptions{Off: true}}
	level := new(slog.LevelVar)
	f.opts = Options{
		Store:     st,
		Hostname:  testHost,
		Version:   "1.0-test",
		OS:        "TestOS",
		Started:   testTime.Add(-time.Hour),
		Clock:     func() time.Time { return testTime },
		Timestamp: func(cid uint64) string { return fmt.Sprintf("<%d.1764072000@%s>", cid, testHost) },
		Logger:    observe.NewLogger(f.logs, level, observe.FormatText),
		Level:     level,
		Events:    observe.NewEventLog(f.events, observe.EventLogOptions{Now: func() time.Time { return testTime }}),
		LogReject: true,
		Stats:     observe.NewStats(func() time.Time { return testTime }),
	}
	return f
}

// start starts the server on a loopback listener and returns its address.
func (f *fixture) start() string {
	f.t.Helper()
	f.opts.Auth = auth.New(auth.Options{
		Store: f.st, Hasher: f.hasher, Clock: func() time.Time { return testTime },
		Throttle: f.throttle, ChannelBinding: f.channelBinding,
	})
	srv, err := New(f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	var serveLn net.Listener = ln
	if f.remoteNotLoopback {
		serveLn = fakeRemoteListener{ln}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(context.Background(), serveLn)
	}()
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

// fakeRemoteListener makes connections look as if they came from
// 192.0.2.1, a non-loopback address.
type fakeRemoteListener struct{ net.Listener }

func (l fakeRemoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return fakeRemoteConn{c}, nil
}

type fakeRemoteConn struct{ net.Conn }

func (fakeRemoteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000}
}

// addUser creates an account. Flags: admin, disabled, nomail, expired,
// apop=SECRET.
func (f *fixture) addUser(name, password string, flags ...string) error {
	ctx := context.Background()
	u, err := f.hasher.Credentials(password)
	if err != nil {
		return err
	}
	yes := true
	for _, fl := range flags {
		switch {
		case fl == "admin":
			u.Admin = &yes
		case fl == "disabled":
			u.Disabled = &yes
		case fl == "nomail":
			u.NoMail = &yes
		case fl == "expired":
			past := testTime.Add(-24 * time.Hour)
			u.Expires = &past
		case strings.HasPrefix(fl, "apop="):
			s := strings.TrimPrefix(fl, "apop=")
			u.APOPSecret = &s
		default:
			return fmt.Errorf("unknown user flag %q", fl)
		}
	}
	_, err = f.st.CreateAccount(ctx, name, u)
	return err
}

// deliver appends a message to a user's mailbox (INBOX by default) with
// the arrival time testTime plus the message's position.
func (f *fixture) deliver(user, mailbox string, content []byte) error {
	return f.append(user, mailbox, content, nil)
}

// append appends a message, with an OpenVMS envelope if env is not nil,
// whose Date is then the arrival time.
func (f *fixture) append(user, mailbox string, content []byte, env *store.VMSEnvelope) error {
	return f.appendForeign(user, mailbox, content, env, false)
}

// appendForeign is append with the request's Foreign mark.
func (f *fixture) appendForeign(user, mailbox string, content []byte, env *store.VMSEnvelope, foreign bool) error {
	ctx := context.Background()
	acct, err := f.st.Account(ctx, user)
	if err != nil {
		return err
	}
	sess, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		return err
	}
	defer sess.Close()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		return err
	}
	st, err := sess.Status(ctx, mb.ID)
	if err != nil {
		return err
	}
	arrival := testTime.Add(-time.Duration(100-st.Messages) * time.Minute)
	if env != nil {
		env.Date = arrival
	}
	_, err = sess.Append(ctx, mb.ID, store.AppendRequest{
		Content: bytes.NewReader(content), InternalDate: arrival, VMS: env, Foreign: foreign,
	})
	return err
}

// retrieved records that message uid of a user's mailbox was first
// retrieved over POP3 the given number of days before testTime, as a
// session that ended with QUIT then would have (store.RetrievalKeeper).
func (f *fixture) retrieved(user, mailbox, uid, days string) error {
	ctx := context.Background()
	u, err := strconv.ParseUint(uid, 10, 32)
	if err != nil {
		return err
	}
	d, err := strconv.Atoi(days)
	if err != nil {
		return err
	}
	acct, err := f.st.Account(ctx, user)
	if err != nil {
		return err
	}
	sess, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		return err
	}
	defer sess.Close()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		return err
	}
	at := testTime.Add(-time.Duration(d) * 24 * time.Hour)
	return f.st.MarkRetrieved(ctx, acct.ID, mb.ID, []store.UID{store.UID(u)}, at)
}

// count returns the number of messages in a user's mailbox.
func (f *fixture) count(user, mailbox string) int {
	f.t.Helper()
	ctx := context.Background()
	acct, err := f.st.Account(ctx, user)
	if err != nil {
		f.t.Fatal(err)
	}
	sess, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer sess.Close()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		f.t.Fatal(err)
	}
	st, err := sess.Status(ctx, mb.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return int(st.Messages)
}

// setOption applies an "option NAME VALUE" directive.
func (f *fixture) setOption(name, value string) error {
	on := strings.EqualFold(value, "on")
	num, numErr := strconv.Atoi(value)
	needNum := func() error {
		if numErr != nil {
			return fmt.Errorf("option %s wants a number", name)
		}
		return nil
	}
	switch strings.ToLower(name) {
	case "security":
		f.opts.Security = SecurityFriendly
		if strings.EqualFold(value, "SECURE") {
			f.opts.Security = SecuritySecure
		}
	case "max-auth-attempts":
		f.opts.MaxAuthAttempts = num
		return needNum()
	case "disuserpass":
		f.opts.Disuserpass = on
	case "leave-in-newmail":
		f.opts.LeaveInNewmail = on
	case "use-mail-folder":
		f.opts.UseMailFolder = on
	case "message-maximum":
		f.opts.MessageMaximum = num
		return needNum()
	case "send-id-headers":
		f.opts.SendIDHeaders = on
	case "expire":
		f.opts.Expire = Expire{Set: !strings.EqualFold(value, "NEVER"), Days: num}
		if f.opts.Expire.Set {
			return needNum()
		}
	case "login-delay":
		f.opts.LoginDelay = time.Duration(num) * time.Second
		return needNum()
	case "purge-reclaim":
		f.opts.PurgeReclaim = on
	case "maximum-threads":
		f.opts.MaxSessions = num
		return needNum()
	case "throttle": // the production throttle, on the fixed test clock
		f.throttle = auth.ThrottleOptions{}
	case "allow-plaintext-auth":
		f.opts.AllowPlaintextAuth = on
	case "log-reject":
		f.opts.LogReject = on
	case "mail11":
		f.mail11() // turns the view on
		if !on {
			f.opts.Mail11 = nil
		}
	case "ignore-mail11-headers":
		f.opts.IgnoreMail11Headers = on
	case "personal-name":
		f.mail11().PersonalName = on
	case "substitute-domain":
		f.mail11().SubstituteDomain = value
	case "decnet-rewrite":
		f.mail11().DecnetRewrite = mail11.RewriteMode(strings.ToUpper(value))
	case "quoted-decnet-rewrite":
		f.mail11().QuotedDecnetRewrite = mail11.RewriteMode(strings.ToUpper(value))
	case "decnet-node":
		node, host, ok := strings.Cut(value, "=")
		if !ok {
			return fmt.Errorf("option decnet-node wants NODE=host")
		}
		o := f.mail11()
		if o.Nodes == nil {
			o.Nodes = map[string]string{}
		}
		o.Nodes[node] = host
	case "remote":
		f.remoteNotLoopback = value != "loopback"
	case "stls":
		if on {
			f.opts.TLS = testTLSConfig(f.t)
		}
	default:
		return fmt.Errorf("unknown option %q", name)
	}
	return nil
}

// mail11 returns the Mail11 view options, turning the view on: the host
// name is the test host's, the local hosts are empty until set.
func (f *fixture) mail11() *mail11.Options {
	if f.opts.Mail11 == nil {
		f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	}
	return f.opts.Mail11
}

// deliverVMS appends a message that carries an OpenVMS Mail envelope, as
// "postern import --format vms" stores it. The file starts with the
// envelope, one "Name: value" line each (From, Personal-Name, To, CC,
// Subj, Own-Header: yes, Foreign: yes), then a blank line, then the message: the body
// alone, stored behind an empty header block ("\r\n" + body), or with
// Own-Header the whole message, header included.
func (f *fixture) deliverVMS(user string, data []byte) error {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	head, rest, ok := strings.Cut(text, "\n\n")
	if !ok {
		return fmt.Errorf("deliver-vms: no blank line after the envelope")
	}
	env := &store.VMSEnvelope{}
	foreign := false
	for _, line := range strings.Split(head, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("deliver-vms: bad envelope line %q", line)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "from":
			env.From = value
		case "personal-name":
			env.PersonalName = value
		case "to":
			env.To = value
		case "cc":
			env.CC = value
		case "subj":
			env.Subject = value
		case "own-header":
			env.OwnHeader = strings.EqualFold(value, "yes")
		case "foreign":
			foreign = strings.EqualFold(value, "yes")
		default:
			return fmt.Errorf("deliver-vms: unknown envelope field %q", name)
		}
	}
	content := rest
	if !env.OwnHeader {
		content = "\n" + rest
	}
	return f.appendForeign(user, store.MailboxInbox, []byte(content), env, foreign)
}

var (
	testTLSOnce sync.Once
	testTLS     *tls.Config
)

// testTLSConfig returns a self-signed configuration for localhost.
func testTLSConfig(t testing.TB) *tls.Config {
	testTLSOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pop3tls")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		cert, key, err := tlsconf.GenerateSelfSigned(dir, "localhost", []string{"localhost", "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		testTLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	})
	return testTLS
}

// TestTranscripts runs testdata/transcripts/*.txtar (STYLE.md B10).
// Directives: "user NAME PASSWORD [flags]", "deliver NAME FILE [MAILBOX]",
// "deliver-vms NAME FILE" (see deliverVMS), "retrieved NAME MAILBOX UID
// DAYS" (see retrieved), "option NAME VALUE".
func TestTranscripts(t *testing.T) {
	prototest.Run(t, "testdata/transcripts/*.txtar", prototest.Options[*fixture]{
		New:    func(t *testing.T, c *prototest.Case) *fixture { return newFixture(t) },
		Update: *update,
		Setup: func(t *testing.T, f *fixture, c *prototest.Case, args []string) error {
			switch {
			case args[0] == "user" && len(args) >= 3:
				return f.addUser(args[1], args[2], args[3:]...)
			case args[0] == "deliver" && (len(args) == 3 || len(args) == 4):
				data, ok := c.File(args[2])
				if !ok {
					return fmt.Errorf("no file %q", args[2])
				}
				mbox := store.MailboxInbox
				if len(args) == 4 {
					mbox = args[3]
				}
				return f.deliver(args[1], mbox, data)
			case args[0] == "deliver-vms" && len(args) == 3:
				data, ok := c.File(args[2])
				if !ok {
					return fmt.Errorf("no file %q", args[2])
				}
				return f.deliverVMS(args[1], data)
			case args[0] == "retrieved" && len(args) == 5:
				return f.retrieved(args[1], args[2], args[3], args[4])
			case args[0] == "option" && len(args) == 3:
				return f.setOption(args[1], args[2])
			}
			return fmt.Errorf("unknown directive")
		},
		Start: func(t *testing.T, f *fixture, c *prototest.Case) string { return f.start() },
	})
}
