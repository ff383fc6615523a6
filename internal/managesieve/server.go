package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/drain"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/sieve"
	"github.com/postern/postern/internal/store"
)

// Timeouts and defaults.
const (
	preAuthTimeout       = time.Minute
	idleTimeout          = 30 * time.Minute // RFC 5804 §4 sets none; IMAP's autologout
	writeTimeout         = 2 * time.Minute
	defaultShutdownGrace = 10 * time.Second
	defaultMaxScriptSize = 64 << 10
	defaultMaxScripts    = 32
	maxBadCommands       = 10
	maxAuthFailures      = 3
)

// Refusal is what admission sends a client it refuses (RFC 5804 §1.3:
// BYE with TRYLATER).
func Refusal(admission.Reason) string {
	return "BYE (TRYLATER) \"Too many connections; try again later.\"\r\n"
}

// Options configure a Server. Store and Auth are required.
type Options struct {
	// Store keeps the scripts; it must implement store.SieveKeeper.
	Store store.Store
	// Auth verifies credentials (the same authenticator as IMAP).
	Auth *auth.Authenticator
	// TLS enables STARTTLS; nil offers none.
	TLS *tls.Config
	// AllowPlaintextAuth permits PLAIN on connections that are neither
	// TLS nor loopback (the IMAP rule).
	AllowPlaintextAuth bool
	// MaxScriptSize bounds one script in octets (QUOTA/MAXSIZE); zero
	// means 64 KiB. It never exceeds sieve.MaxScriptSize.
	MaxScriptSize int64
	// MaxScripts bounds the scripts of an account (QUOTA/MAXSCRIPTS);
	// zero means 32.
	MaxScripts int
	// Logger receives the server's log lines; nil discards.
	Logger *slog.Logger
	// Conns is the process's connection registry; nil means a private one.
	Conns *observe.Conns
	// Clock is the time source; nil means time.Now.
	Clock func() time.Time
}

// Server is a ManageSieve server.
type Server struct {
	opts  Options
	keep  store.SieveKeeper
	conns *observe.Conns
	group *drain.Group[*conn]
}

// New returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, errors.New("managesieve: Store and Auth are required")
	}
	sk, ok := opts.Store.(store.SieveKeeper)
	if !ok {
		return nil, errors.New("managesieve: the store keeps no Sieve scripts (store.SieveKeeper)")
	}
	if opts.MaxScriptSize <= 0 {
		opts.MaxScriptSize = defaultMaxScriptSize
	}
	opts.MaxScriptSize = min(opts.MaxScriptSize, sieve.MaxScriptSize)
	if opts.MaxScripts <= 0 {
		opts.MaxScripts = defaultMaxScripts
	}
	if opts.Logger == nil {
		opts.Logger = observe.Discard()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Server{opts: opts, keep: sk, conns: opts.Conns, group: drain.New[*conn]()}
	if s.conns == nil {
		s.conns = observe.NewConns()
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown or ctx's end.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.group.Serve(ctx, ln, "managesieve", func(nc net.Conn) (*conn, func()) {
		c := newConn(s, nc)
		return c, c.serve
	})
}

// Shutdown stops accepting and ends the sessions, closing those still
// open when ctx ends (10 s without a deadline).
func (s *Server) Shutdown(ctx context.Context) error {
	return s.group.Shutdown(ctx, defaultShutdownGrace, nil, func(c *conn) { c.nc.Close() })
}
