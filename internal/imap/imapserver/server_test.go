package imapserver

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/prototest"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite failing S lines of transcripts")

// testTime is the fixed clock of the tests.
var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const testHost = "imap.example.org"

// fixture is one test's store, authenticator and server options.
type fixture struct {
	t                 testing.TB
	st                *sqlite.Store
	hasher            *auth.Hasher
	opts              Options
	events, logs      *syncBuffer
	srv               *Server
	remoteNotLoopback bool
	appendErr         error                // the store's Append fails with it (option append-fails)
	throttle          auth.ThrottleOptions // Off unless a transcript turns it on
	channelBinding    bool                 // SCRAM-Channel-Binding
}

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
	uv.Store(1000)
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{
		Clock:       func() time.Time { return testTime },
		UIDValidity: func() uint32 { return uv.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, hasher: &auth.Hasher{Argon2: auth.CheapArgon2Params(), SCRAMIterations: auth.MinSCRAMIterations},
		events: &syncBuffer{}, logs: &syncBuffer{},
		throttle: auth.ThrottleOptions{Off: true}} // STYLE B10: no anti-abuse delays
	level := new(slog.LevelVar)
	level.Set(slog.LevelDebug)
	f.opts = Options{
		Store:    st,
		Hostname: testHost,
		Version:  "1.0-test",
		Clock:    func() time.Time { return testTime },
		Logger:   observe.NewLogger(f.logs, level, observe.FormatText),
		Events:   observe.NewEventLog(f.events, observe.EventLogOptions{Now: func() time.Time { return testTime }}),
		Stats:    observe.NewStats(func() time.Time { return testTime }),
		TempDir:  t.TempDir(),
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
	if f.appendErr != nil {
		f.opts.Store = faultStore{Store: f.st, appendErr: f.appendErr}
	}
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

// addUser creates an account with a password and SCRAM keys.
func (f *fixture) addUser(name, password string) error {
	hash, err := f.hasher.Hash(password)
	if err != nil {
		return err
	}
	sc, err := auth.DeriveSCRAM(password, auth.MinSCRAMIterations)
	if err != nil {
		return err
	}
	_, err = f.st.CreateAccount(context.Background(), name, store.AccountUpdate{PasswordHash: &hash, SCRAM: &sc})
	return err
}

// deliver appends a message to a user's mailbox, with optional flags.
func (f *fixture) deliver(user, mailbox string, content []byte, flags ...string) error {
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
	_, err = sess.Append(ctx, mb.ID, store.AppendRequest{Content: bytes.NewReader(content), Flags: flags, InternalDate: testTime})
	return err
}

// setup applies one directive of a transcript's setup section:
//
//	user NAME PASSWORD
//	mailbox USER NAME
//	deliver USER MAILBOX FILE [FLAG…]
//	deliver-many USER MAILBOX FILE N
//	expunge USER MAILBOX UID…
//	prune-expunged
//	option message-cap N | send-id-headers | append-limit N | not-loopback | plaintext | vms-folder-names | no-quota
//	option no-save-dates | save-dates-from UID
//	option append-fails ENOSPC|EDQUOT|EIO
//	admin USER
//	quota USER STORAGE MESSAGES   (each a number of octets or messages, none or default)
func (f *fixture) setup(c *prototest.Case, args []string) error {
	switch args[0] {
	case "user":
		return f.addUser(args[1], args[2])
	case "admin":
		yes := true
		_, err := f.st.UpdateAccount(context.Background(), args[1], store.AccountUpdate{Admin: &yes})
		return err
	case "quota":
		var limits [2]int64
		for i, v := range args[2:4] {
			switch v {
			case "none":
				limits[i] = store.QuotaNone
			case "default":
				limits[i] = store.QuotaDefault
			default:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return err
				}
				limits[i] = n
			}
		}
		_, err := f.st.UpdateAccount(context.Background(), args[1], store.AccountUpdate{QuotaStorage: &limits[0], QuotaMessages: &limits[1]})
		return err
	case "mailbox":
		return f.withSession(args[1], func(s store.Session) error {
			_, err := s.CreateMailbox(context.Background(), args[2], "")
			return err
		})
	case "deliver", "deliver-many":
		b, ok := c.File(args[3])
		if !ok {
			return fmt.Errorf("no file %s", args[3])
		}
		n := 1
		var flags []string
		if args[0] == "deliver-many" {
			n, _ = strconv.Atoi(args[4])
		} else {
			flags = args[4:]
		}
		for range n {
			if err := f.deliver(args[1], args[2], b, flags...); err != nil {
				return err
			}
		}
		return nil
	case "expunge": // expunge USER MAILBOX UID…, as another process would
		return f.withSession(args[1], func(s store.Session) error {
			mb, err := s.Mailbox(context.Background(), args[2])
			if err != nil {
				return err
			}
			var uids []store.UID
			for _, a := range args[3:] {
				n, err := strconv.ParseUint(a, 10, 32)
				if err != nil {
					return err
				}
				uids = append(uids, store.UID(n))
			}
			_, err = s.Expunge(context.Background(), mb.ID, uids)
			return err
		})
	case "prune-expunged": // the expunge log loses every entry so far
		_, err := f.st.PruneExpunged(context.Background(), testTime.Add(time.Hour))
		return err
	case "option":
		switch args[1] {
		case "message-cap":
			f.opts.MessageCap, _ = strconv.Atoi(args[2])
		case "send-id-headers":
			f.opts.SendIDHeaders = true
		case "append-limit":
			f.opts.AppendLimit, _ = strconv.ParseInt(args[2], 10, 64)
		case "not-loopback":
			f.remoteNotLoopback = true
		case "plaintext":
			f.opts.AllowPlaintextAuth = true
		case "vms-folder-names":
			f.opts.VMSFolderNames = true
		case "append-fails":
			f.appendErr = map[string]error{"ENOSPC": syscall.ENOSPC, "EDQUOT": syscall.EDQUOT, "EIO": syscall.EIO}[args[2]]
		case "throttle": // the production throttle, on the fixed test clock
			f.throttle = auth.ThrottleOptions{}
		case "no-quota", "no-save-dates": // a store without its optional interfaces
			f.opts.Store = plainStore{f.st}
		case "save-dates-from": // save dates known from this UID on only
			n, err := strconv.ParseUint(args[2], 10, 32)
			f.opts.Store = partSaveDateStore{f.st, store.UID(n)}
			return err
		case "max-auth-attempts":
			f.opts.MaxAuthAttempts, _ = strconv.Atoi(args[2])
		case "progress-every-step": // INPROGRESS at once, at each step (progress.go)
			f.opts.progress = &progressTiming{}
		default:
			return fmt.Errorf("unknown option %s", args[1])
		}
		return nil
	}
	return fmt.Errorf("unknown directive %q", strings.Join(args, " "))
}

func (f *fixture) withSession(user string, fn func(store.Session) error) error {
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
	return fn(sess)
}

// TestTranscripts runs testdata/transcripts/*.txtar (STYLE.md B10).
func TestTranscripts(t *testing.T) {
	prototest.Run(t, "testdata/transcripts/*.txtar", prototest.Options[*fixture]{
		New: func(t *testing.T, c *prototest.Case) *fixture {
			f := newFixture(t)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("server log:\n%s", f.logs)
				}
			})
			return f
		},
		Setup: func(t *testing.T, f *fixture, c *prototest.Case, args []string) error {
			return f.setup(c, args)
		},
		Start:  func(t *testing.T, f *fixture, c *prototest.Case) string { return f.start() },
		Update: *update,
	})
}
