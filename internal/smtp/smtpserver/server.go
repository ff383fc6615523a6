package smtpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/drain"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/srs"
)

// Mode is what a Server is for.
type Mode int

// The modes. They differ in policy only (see the package comment).
const (
	// ModeSubmission is message submission: AUTH required, any recipient.
	ModeSubmission Mode = iota
	// ModeInbound is SMTP from the world: local recipients only.
	ModeInbound
	// ModeLMTP is LMTP from an MTA: local recipients, per-recipient replies.
	ModeLMTP
)

func (m Mode) String() string {
	switch m {
	case ModeSubmission:
		return "submission"
	case ModeInbound:
		return "smtp"
	}
	return "lmtp"
}

// InboundPreauthLimit is how long an inbound SMTP or LMTP connection may
// go on before it starts a transaction with MAIL, however it paces its
// input; admission enforces it (submission's is [SMTP] Preauth-Timeout).
// RFC 5321 §4.5.3.2 gives a client five minutes per command, so this
// allows two of those.
const InboundPreauthLimit = 10 * time.Minute

// Timeouts of RFC 5321 §4.5.3.2, rounded: a command may take 5 minutes,
// and each block of DATA must arrive within 3.
const (
	defaultCommandTimeout = 5 * time.Minute
	defaultDataTimeout    = 3 * time.Minute
	writeTimeout          = time.Minute
	defaultShutdownGrace  = 30 * time.Second
)

// Queue takes messages for remote recipients. Enqueue returns only once the
// message and its envelope are durable (fsync'd); it reads content to EOF.
type Queue interface {
	Enqueue(ctx context.Context, from string, to []string, content io.Reader) (id string, err error)
}

// Inspector is the seam for content checks and signing (SPF/DKIM/DMARC
// verification on inbound mail, DKIM signing on submission). It gets the
// message before delivery — open returns a new reader over it each time,
// with the Date and Message-ID submission added, without our Received —
// and returns what to change, or an error (an *smtp.SMTPError to refuse
// with its own reply; any other error is a 451).
type Inspector func(ctx context.Context, env Envelope, open func() io.Reader) (Inspection, error)

// Inspection is what an Inspector changes in a message.
type Inspection struct {
	// Prepend is header fields (with CRLF) to add at the top.
	Prepend string
	// Drop, if set, removes every top-level header field of the message
	// as received for which it returns true (name as sent; value with
	// its line breaks, without the CRLF that ends it), such as an
	// Authentication-Results field claiming our authserv-id (RFC 8601 §5).
	// Only the first headLimit octets are looked at.
	Drop func(name string, value []byte) bool
}

// Envelope describes a transaction for an Inspector.
type Envelope struct {
	Mode    Mode
	Helo    string
	Remote  net.Addr
	Account string // authenticated user in submission
	From    string
	To      []string
}

// Options configure a Server. Deliverer and Resolver are required;
// Authenticator is required in ModeSubmission.
type Options struct {
	// Mode chooses submission, inbound SMTP or LMTP.
	Mode Mode
	// Hostname is our name in the greeting, Received and Message-ID.
	Hostname string
	// Deliverer is the single delivery path to local mailboxes.
	Deliverer *delivery.Deliverer
	// Resolver maps recipients to accounts and knows the local domains.
	Resolver *delivery.Resolver
	// Authenticator verifies AUTH (submission only).
	Authenticator *auth.Authenticator
	// Queue takes remote recipients (and alias forwards); nil refuses them
	// at RCPT.
	Queue Queue
	// SRS, when set, rewrites the envelope sender of mail forwarded
	// off-site by an alias (delivery.Target.Forward) into an SRS0 address
	// at its domain, so that SPF at the far end passes; the null sender
	// stays null. Nil forwards with the original sender.
	SRS *srs.Rewriter
	// TLSConfig enables STARTTLS; it must also be set when the server is
	// handed implicit-TLS listeners.
	TLSConfig *tls.Config
	// AllowPlaintextAuth offers AUTH on connections that are neither TLS
	// nor loopback.
	AllowPlaintextAuth bool
	// MaxMessageSize is the SIZE limit in octets; 0 means none.
	MaxMessageSize int64
	// MaxRecipients caps the recipients of one transaction; 0 means none.
	MaxRecipients int
	// SaveSent keeps a copy of each submitted message in the sender's Sent
	// mailbox.
	SaveSent bool
	// AcceptBareLF, in submission mode only, takes a bare LF in message
	// data as a line end and stores it as CRLF (RFC 6409 §8: a submission
	// server may fix up what its authenticated users send). Inbound SMTP
	// and LMTP ignore it and refuse bare LF (RFC 5321 §2.3.8).
	AcceptBareLF bool
	// SpoolDir holds messages larger than the in-memory spool while they
	// are received; "" means os.TempDir. Files are unlinked at creation.
	SpoolDir string
	// Inspect, if set, checks every message before delivery.
	Inspect Inspector
	// CommandTimeout and DataTimeout bound idle clients; zero means the
	// RFC 5321 values.
	CommandTimeout, DataTimeout time.Duration
	// Logger, Events, Conns and Stats are the observability sinks; nil
	// ones discard.
	Logger *slog.Logger
	Events *observe.EventLog
	Conns  *observe.Conns
	Stats  *observe.Stats
	// Tracer writes the protocol trace ([SMTP]/[LMTP] Trace); nil traces
	// nothing. See traceTap for what is hidden and where tracing stops.
	Tracer *observe.Tracer
	// Clock gives the time for headers; nil means time.Now.
	Clock func() time.Time
}

// Server is one SMTP, submission or LMTP service. Serve may be called for
// several listeners.
type Server struct {
	opts    Options
	proto   string // "smtp" or "lmtp": logs, metrics, conns
	metrics *protoMetrics
	group   *drain.Group[*conn]
	nextCID atomic.Uint64
	closing atomic.Bool

	// testRemote, when valid, replaces every client's address: tests use
	// it to look like a remote, non-loopback client.
	testRemote netip.Addr
	// onPanic, if set, is told of every recovered panic (tests).
	onPanic func(string)
}

// New returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Deliverer == nil || opts.Resolver == nil {
		return nil, errors.New("smtpserver: Deliverer and Resolver are required")
	}
	if opts.Mode == ModeSubmission && opts.Authenticator == nil {
		return nil, errors.New("smtpserver: submission needs an Authenticator")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.CommandTimeout == 0 {
		opts.CommandTimeout = defaultCommandTimeout
	}
	if opts.DataTimeout == 0 {
		opts.DataTimeout = defaultDataTimeout
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	s := &Server{opts: opts, proto: "smtp", metrics: smtpMetrics}
	if opts.Mode == ModeLMTP {
		s.proto, s.metrics = "lmtp", lmtpMetrics
	}
	s.group = drain.New[*conn]()
	return s, nil
}

// Serve accepts connections on ln until Shutdown. Implicit-TLS listeners
// (from tls.NewListener) are welcome: each *tls.Conn is taken apart so
// that the bookkeeping (trackedConn) sits under TLS, and wrapped again. In
// the server, ln is an admission.Listener: the caps per address are
// applied there.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	label := s.opts.Mode.String()
	if ln.Addr().Network() == "unix" {
		label += "-unix"
	}
	return s.group.Serve(ctx, ln, s.proto, func(nc net.Conn) (*conn, func()) {
		raw, implicitTLS := nc, false
		if tc, ok := nc.(*tls.Conn); ok && s.opts.TLSConfig != nil {
			raw, implicitTLS = tc.NetConn(), true
		}
		remote := remoteAddr(raw)
		if s.testRemote.IsValid() {
			remote = s.testRemote
		}
		tc := s.track(raw, remote, label, implicitTLS)
		c := newConn(s, tc, tc.info, implicitTLS)
		return c, c.serve
	})
}

// Shutdown stops accepting and asks every connection to end at its next
// command with 421 (RFC 5321 §3.8), waits for them until ctx is done (30 s
// without a deadline), then closes the remaining ones.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	err := s.group.Shutdown(ctx, defaultShutdownGrace,
		func(c *conn) { c.stop.Store(true); c.raw.SetReadDeadline(time.Now()) },
		func(c *conn) { c.raw.Close() })
	if err != nil {
		return fmt.Errorf("%s shutdown: %w", s.proto, err)
	}
	return nil
}
