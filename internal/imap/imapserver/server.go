package imapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/drain"
	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// Defaults of Options fields left zero, and fixed limits.
const (
	defaultIdleTimeout     = 30 * time.Minute // RFC 9051 §5.4 minimum autologout timer
	preAuthTimeout         = 1 * time.Minute  // before login, at most this long idle
	writeTimeout           = 2 * time.Minute  // a single write blocked this long ends the connection
	defaultShutdownGrace   = 30 * time.Second
	defaultMaxLine         = 64 * 1024
	maxBadCommands         = 20 // BAD responses before the connection is closed
	defaultMaxAuthAttempts = 3  // failed logins before the connection is closed
	fetchBatch             = 256
	topFetchBatch          = 1000                   // FETCH of top-level parts only (ENVELOPE, RFC822.SIZE)
	idleTick               = 250 * time.Millisecond // how often IDLE looks for changes from other processes
)

// Refusal is the greeting admission gives a client it refuses: a BYE
// greeting (RFC 9051 §7.1.5) with the UNAVAILABLE code (RFC 5530 §3), so
// that the client retries later.
func Refusal(why admission.Reason) string {
	switch why {
	case admission.ReasonBusy:
		return "* BYE [UNAVAILABLE] Server busy; try again later\r\n"
	case admission.ReasonService:
		return "* BYE [UNAVAILABLE] Too many connections; try again later\r\n"
	}
	return "* BYE [UNAVAILABLE] Too many connections from your address; try again later\r\n"
}

// Options configure a Server. Only Store and Auth are required; every other
// zero value is safe and documented.
type Options struct {
	// Store holds the mail; Auth verifies credentials and throttles
	// failures.
	Store store.Store
	Auth  *auth.Authenticator

	// Hostname is the server's name in the greeting and X-IMAP4-Server;
	// empty means "localhost". Version is the product version ("dev" when
	// empty).
	Hostname string
	Version  string

	// TLS is the configuration for STARTTLS. Nil: STARTTLS is neither
	// offered nor accepted. Implicit-TLS listeners come already wrapped by
	// tls.NewListener; the server notices them by the *tls.Conn type.
	TLS *tls.Config
	// AllowPlaintextAuth permits LOGIN and AUTHENTICATE PLAIN on
	// connections that are neither TLS nor loopback; off, such connections
	// see LOGINDISABLED (RFC 9051 §6.2.3).
	AllowPlaintextAuth bool
	// MaxAuthAttempts is the number of failed logins (throttled attempts
	// included) after which the connection is closed with a BYE, like
	// POP3's; zero means 3.
	MaxAuthAttempts int

	// IdleTimeout is the autologout timer after login (Idle-Timeout). Zero
	// means 30 minutes; negative means none.
	IdleTimeout time.Duration
	// MessageCap shows at most this many messages of a mailbox, the oldest
	// first (Message-Cap); zero means all. See docs/imap.md.
	MessageCap int
	// SendIDHeaders adds X-IMAP4-Server and X-IMAP4-ID to every message as
	// the client sees it, counted in every size (Send-ID-Headers).
	SendIDHeaders bool
	// Mail11 turns the OpenVMS Mail view on (hp-system.md §3): messages
	// with an OpenVMS envelope are served with the header mail11.IMAPHeader
	// rebuilds, unless mail11.Decide keeps their own. Nil: every message is
	// served as stored.
	Mail11 *mail11.Options
	// IgnoreMail11Headers keeps the own header of mail that came by SMTP
	// (Ignore-Mail11-Headers; see mail11.Decide). Only used with Mail11.
	IgnoreMail11Headers bool
	// VMSFolderNames shows mailboxes as the original showed OpenVMS Mail
	// (hp-system §6.2, Vms-Folder-Names): NEWMAIL is INBOX, the mail file
	// is Mail with the folders below it, through the folder-name codec
	// level by level: the client sees Mail/Hello__All for the store's
	// HELLO_ALL; Postern's own mailboxes keep their names. See names.go.
	VMSFolderNames bool
	// Magic types foreign messages from their first octets (hp-system
	// §6.3, Magic-File): the Mail11 view serves such a message as one
	// part of that MIME type. Nil means mail11.DefaultMagic().
	Magic *mail11.Magic
	// AppendLimit is the largest message APPEND accepts (APPENDLIMIT,
	// RFC 7889); zero means no limit.
	AppendLimit int64
	// MaxLineLength bounds one command line, and the strings it carries;
	// zero means 64 KiB.
	MaxLineLength int
	// TempDir holds spooled APPEND literals; empty means os.TempDir().
	TempDir string

	// Logger receives the server's log lines; nil discards.
	Logger *slog.Logger
	// Tracer traces protocol lines (Server-Trace); nil traces nothing. The
	// server redacts credentials itself: give the Tracer no Redactor.
	Tracer *observe.Tracer
	// Events receives AUTHFAIL lines; nil writes none.
	Events *observe.EventLog
	// Stats are the statistics counters; nil means private ones.
	Stats *observe.Stats
	// Conns is the process's connection registry; nil means a private one.
	Conns *observe.Conns

	// Clock is the time source; nil means time.Now.
	Clock func() time.Time

	// progress is the timing of INPROGRESS notifications (progress.go);
	// nil means defaultProgress. Tests only: not a configuration option.
	progress *progressTiming
}

// Server is an IMAP server. Serve may be called for several listeners.
type Server struct {
	opts  Options
	log   *slog.Logger
	stats *observe.Stats
	conns *observe.Conns
	view  viewer
	// quota is the store's quota keeper, nil when the store keeps none
	// (then QUOTA is not advertised).
	quota store.QuotaKeeper

	// group holds the listeners and live connections, for Shutdown.
	group *drain.Group[*conn]
}

// New checks opts and returns a Server. It fails when a capability the
// server would advertise has no implementation (STYLE.md B4: fail at boot,
// not mid-session).
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, errors.New("imapserver: Store and Auth are required")
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.MaxAuthAttempts <= 0 {
		opts.MaxAuthAttempts = defaultMaxAuthAttempts
	}
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = defaultMaxLine
	}
	if opts.MessageCap < 0 {
		return nil, fmt.Errorf("imapserver: negative MessageCap %d", opts.MessageCap)
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Server{
		opts: opts, log: opts.Logger, stats: opts.Stats, conns: opts.Conns,
		group: drain.New[*conn](),
	}
	s.quota, _ = opts.Store.(store.QuotaKeeper)
	if s.log == nil {
		s.log = observe.Discard()
	}
	if s.stats == nil {
		s.stats = observe.NewStats(opts.Clock)
	}
	if s.conns == nil {
		s.conns = observe.NewConns()
	}
	s.view = viewer{sendIDHeaders: opts.SendIDHeaders, hostname: opts.Hostname, version: opts.Version,
		mail11: opts.Mail11, ignoreMail11: opts.IgnoreMail11Headers, magic: opts.Magic}
	if s.view.magic == nil {
		s.view.magic = mail11.DefaultMagic()
	}
	if err := s.checkCapabilities(); err != nil {
		return nil, err
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown or a permanent accept
// error. It returns nil after Shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.group.Serve(ctx, ln, "imap", func(nc net.Conn) (*conn, func()) {
		c := newConn(s, nc)
		return c, c.serve
	})
}

// Shutdown stops accepting, asks every connection to end (each says
// "* BYE" at its next read), and waits for them until ctx is done, after
// which the remaining connections are closed.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.group.Shutdown(ctx, defaultShutdownGrace,
		func(c *conn) { c.wake() },
		func(c *conn) { c.raw.Close() })
}
