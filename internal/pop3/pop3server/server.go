package pop3server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/drain"
	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// Security selects how authorization failures are reported (the
// original's TCPIP$POP_SECURITY).
type Security int

const (
	// SecurityFriendly sends a specific message for each failure: unknown
	// user at USER, wrong password, disabled account, and so on.
	SecurityFriendly Security = iota
	// SecuritySecure answers USER with +OK whatever the name and every
	// failed login with one generic message, so that a client cannot tell
	// an unknown name from a wrong password.
	SecuritySecure
)

// Defaults of Options fields left zero.
const (
	defaultMaxAuthAttempts = 2                // the original's fixed limit
	defaultIdleTimeout     = 10 * time.Minute // RFC 1939 §3 minimum autologout timer
	preAuthTimeout         = time.Minute      // before login, at most this long idle (QUIRK: see below)
	writeTimeout           = 2 * time.Minute  // a write blocked longer counts as a blocked socket
	defaultShutdownGrace   = 30 * time.Second // Shutdown without a deadline
)

// QUIRK: RFC 1939 §3 asks for an autologout timer of at least ten
// minutes. Postern applies that after login (Link-Idle-Timeout) but gives
// a client that has not logged in preAuthTimeout per command, and
// admission's [POP] Preauth-Timeout (two minutes) in all, so that idle
// sockets cannot hold connection slots (issue 12); no real client takes
// that long to log in. Documented in docs/pop3.md.

// Refusal is the reply admission gives a client it refuses (RFC 3206
// SYS/TEMP: a temporary condition, try again later).
func Refusal(why admission.Reason) string {
	switch why {
	case admission.ReasonBusy:
		return "-ERR [" + codeSysTemp + "] server busy; try again later\r\n"
	case admission.ReasonService:
		return "-ERR [" + codeSysTemp + "] too many connections; try again later\r\n"
	}
	return "-ERR [" + codeSysTemp + "] too many connections from your address; try again later\r\n"
}

// Options configure a Server. Only Store and Auth are required; every
// other zero value is safe and documented.
type Options struct {
	// Store holds the mail; Auth verifies credentials and throttles
	// failures.
	Store store.Store
	Auth  *auth.Authenticator

	// Hostname is the server's name in the greeting, the APOP timestamp,
	// the sign-off line and X-POP3-Server. Empty means "localhost".
	Hostname string
	// Version is the product version in the greeting, XTND STATS and
	// CAPA IMPLEMENTATION ("0.1.0"). Empty means "dev".
	Version string
	// OS describes the operating system in the greeting; empty means
	// runtime.GOOS and runtime.GOARCH.
	OS string
	// Started is the "up since" time of the greeting; zero means New's time.
	Started time.Time

	// TLS is the configuration for STLS (RFC 2595). Nil: STLS is neither
	// offered nor accepted. Implicit-TLS listeners come already wrapped by
	// tls.NewListener; the server notices them by the *tls.Conn type.
	TLS *tls.Config
	// AllowPlaintextAuth permits USER/PASS and AUTH PLAIN on connections
	// that are neither TLS nor loopback.
	AllowPlaintextAuth bool
	// Security is FRIENDLY (zero) or SECURE error wording.
	Security Security
	// MaxAuthAttempts is the number of failed logins after which the
	// connection is closed; zero means 2.
	MaxAuthAttempts int
	// Disuserpass refuses USER/PASS and AUTH PLAIN: APOP and SCRAM remain.
	Disuserpass bool

	// LeaveInNewmail keeps read, undeleted mail in INBOX at QUIT; off, it
	// moves to Mail (the original's default).
	LeaveInNewmail bool
	// UseMailFolder moves all of INBOX into Mail at login and serves Mail.
	UseMailFolder bool
	// MessageMaximum shows a session at most this many messages, the
	// oldest first; zero means all.
	MessageMaximum int
	// FastScan is accepted for compatibility and ignored: sizes are always
	// exact, because the store knows them.
	FastScan bool
	// SendIDHeaders prefixes every message with X-POP3-Server and
	// X-POP3-ID headers (counted in every size).
	SendIDHeaders bool
	// PurgeReclaim runs store.Reclaim at QUIT after messages were deleted.
	PurgeReclaim bool
	// Expire is [POP] Expire, the retention of retrieved mail announced
	// as EXPIRE (RFC 2449 §6.7); the zero value is NEVER. See [Expire].
	Expire Expire
	// LoginDelay is [POP] Login-Delay: the least time between two logins
	// of one account, announced as LOGIN-DELAY and enforced with
	// -ERR [LOGIN-DELAY] (RFC 2449 §6.8, §8.1.1). Zero: none.
	LoginDelay time.Duration

	// Mail11 turns the OpenVMS Mail view on (hp-system §3, package
	// mail11): a message whose header is rebuilt is served as the
	// mail11.POPHeader block followed by the stored body. These are the
	// rewriting settings (Hostname, Substitute-Domain, local hosts,
	// Decnet-Rewrite, Quoted-Decnet-Rewrite, Decnet-Node, Personal-Name);
	// GatewayNode is ignored, and the server fills in the Send-ID fields
	// itself. Nil serves the stored content unchanged (plus the
	// Send-ID-Headers). The Options are not changed after New.
	// With it, a foreign message (store.MessageData.Foreign) is never sent:
	// the client gets the rebuilt header and mail11.ForeignNotice.
	Mail11 *mail11.Options
	// IgnoreMail11Headers serves a message's own header block untouched
	// when its VMS From is an SMTP address and it has one (rule R7,
	// mail11.Decide); only used with Mail11.
	IgnoreMail11Headers bool

	// IdleTimeout is the autologout timer after login (Link-Idle-Timeout).
	// Zero means 10 minutes; negative means none.
	IdleTimeout time.Duration
	// MaxSessions caps concurrent logged-in sessions (Maximum-Threads): a
	// login beyond it gets -ERR [SYS/TEMP], is counted as Too Many
	// Threads, and the connection is closed. Connections that have not
	// logged in do not count (QUIRK: the original counted every
	// connection, so idle sockets could lock everyone out; admission's
	// Max-Preauth-Per-IP bounds those instead). Zero means no cap.
	MaxSessions int
	// Sndbuf sets SO_SNDBUF of TCP connections; zero keeps the system's.
	Sndbuf int

	// Logger receives the server's log lines; nil discards. Level, if set,
	// is the level XTND LOGLEVEL changes.
	Logger *slog.Logger
	Level  *slog.LevelVar
	// Tracer traces protocol lines; nil traces nothing. Give it
	// [Redact] as its Redactor.
	Tracer *observe.Tracer
	// Events receives AUTHFAIL lines when LogReject is on; nil writes none.
	Events *observe.EventLog
	// LogReject logs each rejected USER, PASS, APOP and AUTH to Events and
	// as a Warn line to Logger (the original's OPCOM REJECT messages).
	LogReject bool
	// Stats are the XTND STATS counters; nil means private ones.
	Stats *observe.Stats
	// ServiceStats, if set, gives what XTND STATS reports in place of
	// Stats' own snapshot: the counters of the whole service when it runs
	// in several processes (the workers of `postern serve`, summed).
	ServiceStats func(ctx context.Context) observe.StatsSnapshot
	// Conns is the process's connection registry; nil means a private one.
	Conns *observe.Conns
	// Shutdown is called by XTND SHUTDOWN to stop the whole server
	// gracefully; nil makes XTND SHUTDOWN stop only this Server.
	Shutdown func()

	// Clock and Timestamp exist for tests: the time source, and the APOP
	// timestamp generator (given the connection id). Nil means time.Now
	// and a random, unique "<hex.cid_date@host>".
	Clock     func() time.Time
	Timestamp func(cid uint64) string
}

// Server is a POP3 server. Serve may be called for several listeners.
type Server struct {
	opts   Options
	log    *slog.Logger
	stats  *observe.Stats
	conns  *observe.Conns
	random uint32 // per-start part of APOP timestamps

	// group holds the listeners and live connections, for Shutdown.
	group *drain.Group[*conn]

	mu       sync.Mutex
	sessions int // logged-in sessions counted against MaxSessions

	logins loginDelays // last login per account, for LoginDelay

	bufs sync.Pool // *[]byte of copyBufSize, for RETR and TOP
}

// New returns a Server. It fails when a required option is missing.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, errors.New("pop3server: Store and Auth are required")
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.OS == "" {
		opts.OS = runtime.GOOS + " " + runtime.GOARCH
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Started.IsZero() {
		opts.Started = opts.Clock()
	}
	if opts.MaxAuthAttempts <= 0 {
		opts.MaxAuthAttempts = defaultMaxAuthAttempts
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.Logger == nil {
		opts.Logger = observe.Discard()
	}
	if err := opts.Expire.check(opts.Store); err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, log: opts.Logger, stats: opts.Stats, conns: opts.Conns,
		group: drain.New[*conn](),
	}
	if s.stats == nil {
		s.stats = observe.NewStats(opts.Clock)
	}
	if s.conns == nil {
		s.conns = observe.NewConns()
	}
	var b [4]byte
	rand.Read(b[:])
	s.random = binary.BigEndian.Uint32(b[:])
	return s, nil
}

// Stats returns the server's XTND STATS counters.
func (s *Server) Stats() *observe.Stats { return s.stats }

// Serve accepts connections on ln until ln fails, ctx ends or Shutdown is
// called. It returns nil after Shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.group.Serve(ctx, ln, "pop3", func(nc net.Conn) (*conn, func()) {
		c := newConn(s, nc)
		return c, c.serve
	})
}

// acquireSession counts a logged-in session against MaxSessions.
func (s *Server) acquireSession() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxSessions > 0 && s.sessions >= s.opts.MaxSessions {
		return false
	}
	s.sessions++
	return true
}

func (s *Server) releaseSession() {
	s.mu.Lock()
	s.sessions--
	s.mu.Unlock()
}

// Shutdown stops accepting connections, lets current sessions finish,
// and when ctx ends first closes the rest and returns ctx's error. A ctx
// without deadline waits 30 s.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.group.Shutdown(ctx, defaultShutdownGrace, nil, func(c *conn) { c.nc.Close() })
}

// timestamp returns the APOP timestamp of connection cid (RFC 1939 §7):
// unique per connection through cid and the per-start random part, in the
// original's shape "<24A00E61._6_APR_1999_06_02_31_15@host>".
func (s *Server) timestamp(cid uint64) string {
	if s.opts.Timestamp != nil {
		return s.opts.Timestamp(cid)
	}
	now := s.opts.Clock().UTC()
	date := fmt.Sprintf("_%d_%s_%d_%02d_%02d_%02d", now.Day(), upper(now.Month().String()[:3]),
		now.Year(), now.Hour(), now.Minute(), now.Second())
	return fmt.Sprintf("<%08X.%d%s@%s>", s.random, cid, date, s.opts.Hostname)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
