package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/msgauth"
	"github.com/postern/postern/internal/mtasts"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
	"github.com/postern/postern/internal/smtp/queue"
	"github.com/postern/postern/internal/smtp/smtpserver"
	"github.com/postern/postern/internal/srs"
	"github.com/postern/postern/internal/store"
)

// receivedHeadroom is what the store accepts beyond Max-Message-Size for
// the header fields SMTP and LMTP prepend (Received, Date, Message-ID).
const receivedHeadroom = 64 << 10

// lmtpSocketMode lets the socket's group (the MTA's) connect. LMTP has no
// authentication: whoever can connect can deliver to every account.
const lmtpSocketMode = 0o660

// mailParts are the pieces SMTP and LMTP share: one delivery path, one
// recipient resolver, reloaded on SIGHUP.
type mailParts struct {
	deliverer *delivery.Deliverer
	resolver  *delivery.Resolver
	spoolDir  string
	srs       *srs.Rewriter
}

// srsSecretsFile is the SRS secrets file in the data directory.
const srsSecretsFile = "srs.key"

func newMailParts(in *instance, proto string) (*mailParts, error) {
	cfg := in.cfg
	// SRS for alias forwards (docs/smtp.md): the secrets live in the data
	// directory, created on first use; bounces come back to the Hostname.
	secrets, err := srs.LoadSecrets(filepath.Join(cfg.DataDirectory, srsSecretsFile))
	if err != nil {
		return nil, err
	}
	rw := &srs.Rewriter{Domain: cfg.Hostname, Secrets: secrets}
	res, err := delivery.NewResolver(delivery.ResolverOptions{
		SRS:       rw,
		Directory: in.directory(), Hostname: cfg.Hostname, SubstituteDomain: cfg.SubstituteDomain,
		Domains: cfg.LocalDomains, DomainsFile: cfg.LocalAliasesFile, AliasesFile: cfg.SMTP.AliasesFile,
		ReadDomainsFile: func(path string) ([]string, error) { return readLocalAliases(path, in.logger) },
		Logger:          in.logger.With("proto", proto),
	})
	if err != nil {
		return nil, err
	}
	spool := filepath.Join(cfg.DataDirectory, "tmp")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	d := delivery.New(delivery.Options{
		Store: in.store, MaxSize: cfg.MaxMessageSize + receivedHeadroom,
		Logger: in.logger.With("pkg", "delivery", "proto", proto), Hostname: cfg.Hostname,
		Send: in.sendOutbound,
	})
	return &mailParts{deliverer: d, resolver: res, spoolDir: spool, srs: rw}, nil
}

// baseOptions are the options every SMTP-family server shares. level is
// the section's Log-Level ([SMTP] or [LMTP], inheriting the global one).
func (m *mailParts) baseOptions(in *instance, proto string, level config.LogLevel) smtpserver.Options {
	st := observe.NewStats(time.Now)
	in.setStats(proto, st)
	return smtpserver.Options{
		Hostname: in.cfg.Hostname, Deliverer: m.deliverer, Resolver: m.resolver, SRS: m.srs,
		MaxMessageSize: in.cfg.MaxMessageSize, MaxRecipients: in.cfg.SMTP.MaxRecipients,
		SpoolDir: m.spoolDir, Logger: sectionLogger(in, level, proto), Events: in.events, Conns: in.conns, Stats: st,
	}
}

// buildSMTP makes submission (Submission-Port with STARTTLS,
// Submissions-Port over implicit TLS) and inbound SMTP (Server-Port).
func buildSMTP(in *instance) (Service, error) {
	cfg := in.cfg
	parts, err := newMailParts(in, "smtp")
	if err != nil {
		return nil, err
	}
	q, err := newQueue(in, parts)
	if err != nil {
		return nil, err
	}
	in.outbound.Store(q)
	tracer, err := newMailTracer(in, "smtp", cfg.SMTP.Trace, cfg.SMTP.TraceSynch)
	if err != nil {
		return nil, err
	}
	base := parts.baseOptions(in, "smtp", cfg.SMTP.LogLevel)
	base.Tracer = tracer
	base.TLSConfig = in.tls.config("smtp")
	base.Queue = dsnQueue{q}
	sub := base
	sub.Mode = smtpserver.ModeSubmission
	sub.AllowPlaintextAuth = cfg.SMTP.AllowPlaintextAuth
	sub.SaveSent = cfg.SMTP.SaveSent
	sub.AcceptBareLF = cfg.SMTP.AcceptBareLF
	sub.Authenticator = newSMTPAuthenticator(in)
	sub.Inspect = submissionInspector(in.store, cfg.Hostname, sub.Logger.With("pkg", "msgauth"))
	submission, err := smtpserver.New(sub)
	if err != nil {
		tracer.Close()
		return nil, err
	}
	svc := &smtpService{byPort: map[int]*smtpserver.Server{}, fallback: submission, reload: parts.resolver.Reload, in: in, queue: q, tracer: tracer}
	svc.all = append(svc.all, submission)
	if cfg.SMTP.ServerPort != 0 {
		inb := base
		inb.Mode = smtpserver.ModeInbound
		mc, err := newMilter(in, inb.Logger.With("pkg", "milter"))
		if err != nil {
			tracer.Close()
			return nil, err
		}
		inb.Inspect = withMilter(inboundInspector(newInbound(in, inb.Logger.With("pkg", "msgauth"), in.events), in.trusted), mc)
		inbound, err := smtpserver.New(inb)
		if err != nil {
			tracer.Close()
			return nil, err
		}
		svc.byPort[cfg.SMTP.ServerPort] = inbound
		svc.all = append(svc.all, inbound)
	}
	svc.watchHUP()
	svc.startQueue()
	return svc, nil
}

// inboundConnectionsPerMinute caps how fast one address may open inbound
// SMTP connections (admission, on the SMTP listener only). Not
// configurable yet.
const inboundConnectionsPerMinute = 60

// buildLMTP makes the LMTP server for the Unix socket and Server-Port.
func buildLMTP(in *instance) (Service, error) {
	parts, err := newMailParts(in, "lmtp")
	if err != nil {
		return nil, err
	}
	tracer, err := newMailTracer(in, "lmtp", in.cfg.LMTP.Trace, in.cfg.LMTP.TraceSynch)
	if err != nil {
		return nil, err
	}
	o := parts.baseOptions(in, "lmtp", in.cfg.LMTP.LogLevel)
	o.Mode = smtpserver.ModeLMTP
	o.MaxRecipients = 0 // the MTA splits as it likes; RFC 2033 sets no cap
	o.Tracer = tracer
	srv, err := smtpserver.New(o)
	if err != nil {
		tracer.Close()
		return nil, err
	}
	svc := &smtpService{fallback: srv, all: []*smtpserver.Server{srv}, reload: parts.resolver.Reload, in: in, tracer: tracer}
	svc.watchHUP()
	return svc, nil
}

// newSMTPAuthenticator builds the Authenticator of submission, recording
// failures in the event log and the SMTP statistics.
func newSMTPAuthenticator(in *instance) *auth.Authenticator {
	return in.newAuthenticator(in.logger.With("pkg", "auth"), func(a auth.Attempt) {
		if a.Err != nil {
			in.events.AuthFail(a.Conn.Proto, a.Conn.Remote.String(), a.User, a.Mechanism, auth.Result(a.Err))
		}
	})
}

// listenLMTPSocket binds [LMTP] Socket. A live socket means another server
// runs on this data directory: refuse. A stale one is replaced.
func listenLMTPSocket(in *instance, s *service) ([]net.Listener, error) {
	path := in.cfg.LMTP.Socket
	if path == "" {
		return nil, nil
	}
	ln, inherited, err := bindLMTPSocket(in.inherited, path)
	if err != nil {
		return nil, err
	}
	if !inherited {
		in.keep(ln)
	}
	return []net.Listener{in.admit(s, ln, "lmtp-unix", gate{table: "unix"}, true)}, nil
}

// bindLMTPSocket takes the LMTP socket at path from inh (socket activation:
// systemd made it, with SocketMode= and SocketGroup=; or the supervisor),
// else creates it, replacing a stale one.
func bindLMTPSocket(inh *server.Inherited, path string) (ln net.Listener, inherited bool, err error) {
	if ln := inh.TakeUnix(path); ln != nil {
		return ln, true, nil
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, false, fmt.Errorf("LMTP socket %s is in use by another process", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("remove stale LMTP socket: %w", err)
	}
	if ln, err = listenUnix(path, lmtpSocketMode); err != nil {
		return nil, false, fmt.Errorf("LMTP socket: %w", err)
	}
	return ln, false, nil
}

// listenUnix listens on a Unix socket at path with mode.
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// smtpService routes each listener to its server by port (inbound SMTP on
// Server-Port, submission elsewhere) and reloads the recipient tables on
// SIGHUP.
type smtpService struct {
	byPort   map[int]*smtpserver.Server
	fallback *smtpserver.Server
	all      []*smtpserver.Server
	reload   func() error
	in       *instance
	queue    *queue.Queue // nil for LMTP
	tracer   *observe.Tracer

	stopOnce  sync.Once
	stop      chan struct{}
	queueDone chan struct{}
}

func (s *smtpService) Serve(ctx context.Context, ln net.Listener) error {
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		if srv := s.byPort[ta.Port]; srv != nil {
			return srv.Serve(ctx, ln)
		}
	}
	return s.fallback.Serve(ctx, ln)
}

func (s *smtpService) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	var errs []error
	for _, srv := range s.all {
		errs = append(errs, srv.Shutdown(ctx))
	}
	if s.queueDone != nil {
		select {
		case <-s.queueDone:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("queue runner: %w", ctx.Err()))
		}
	}
	errs = append(errs, s.tracer.Close())
	return errors.Join(errs...)
}

// watchHUP prepares the stop of the service's background work. The
// aliases and local-domains files are reloaded by app's reload (SIGHUP,
// `postern ctl reload`) through Reload.
func (s *smtpService) watchHUP() {
	s.stop = make(chan struct{})
}

// Reload re-reads the recipient tables (aliases, local domains).
func (s *smtpService) Reload() error { return s.reload() }

// StopBackground stops the outbound queue's runner (a reload turned SMTP
// off): no more deliveries start; the sessions still open go on.
func (s *smtpService) StopBackground() {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.queueDone != nil {
		<-s.queueDone
	}
}

// newQueue opens the outbound queue in the store (moving into it what an
// older version left in <Data-Directory>/queue), leased in the name of
// this process (docs/scale-out.md "Outbound queue"), with the
// relay or MX settings of [SMTP]. Local recipients that reach the queue
// (alias forwards back home, retries of failed local deliveries, DSNs to
// local senders) go through the same delivery path as everything else.
func newQueue(in *instance, parts *mailParts) (*queue.Queue, error) {
	cfg := in.cfg
	st, ok := in.store.(store.OutboundQueue)
	if !ok {
		return nil, errors.New("the store keeps no outbound queue")
	}
	opts := queue.Options{
		Store: st, Dir: filepath.Join(cfg.DataDirectory, "queue"), Lease: cfg.SMTP.QueueLease,
		Owner: fmt.Sprintf("%s/%d/%s", cfg.Hostname, os.Getpid(), strings.ToLower(rand.Text()[:6])), Hostname: cfg.Hostname,
		Resolver: cfg.SMTP.Resolver, IsLocal: parts.resolver.IsLocalDomain,
		DeliverLocal: parts.deliverLocal,
		Lifetime:     cfg.SMTP.QueueLifetime, DelayWarning: cfg.SMTP.DelayWarning,
		Logger: in.logger.With("pkg", "queue"),
	}
	opts.MTASTS = newMTASTS(cfg.SMTP.Resolver, in.logger.With("pkg", "mtasts"))
	if addr := cfg.SMTP.RelayAddress(); addr != "" {
		r := &queue.Relay{Addr: addr, Username: cfg.SMTP.RelayUsername}
		switch cfg.SMTP.RelayTLS {
		case config.RelayTLSImplicit:
			r.TLS = queue.RelayImplicit
		case config.RelayTLSNone:
			r.TLS = queue.RelayNone
		default:
			r.TLS = queue.RelayStartTLS
		}
		if cfg.SMTP.RelayPasswordFile != "" {
			b, err := os.ReadFile(cfg.SMTP.RelayPasswordFile)
			if err != nil {
				return nil, fmt.Errorf("Relay-Password-File: %w", err)
			}
			r.Password, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
		}
		opts.Relay = r
	}
	return queue.New(opts)
}

// sendOutbound hands a Sieve redirect or vacation response to the SMTP
// service's outbound queue (LMTP has none of its own).
func (in *instance) sendOutbound(ctx context.Context, from string, to []string, content io.Reader) error {
	q := in.outbound.Load()
	if q == nil {
		return errors.New("no outbound queue: [SMTP] is not enabled")
	}
	_, err := q.Enqueue(ctx, from, to, content)
	return err
}

// deliverLocal is the queue's local delivery: resolve, then deliver to
// every local target and re-queue remote ones (alias forwards).
func (m *mailParts) deliverLocal(ctx context.Context, from, rcpt string, content io.ReadSeeker) (bool, error) {
	a, err := delivery.ParseAddress(rcpt)
	if err != nil {
		return true, err
	}
	targets, err := m.resolver.Resolve(ctx, a)
	if err != nil {
		permanent := delivery.Permanent(err) || errors.Is(err, delivery.ErrNotLocal) || errors.Is(err, delivery.ErrAliasLoop)
		return permanent, err
	}
	for _, t := range targets {
		if t.Remote != "" {
			continue // QUIRK: forwards of queued local retries are not re-queued yet
		}
		if _, err := content.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
		env := &delivery.Envelope{From: from, To: rcpt}
		if _, err := m.deliverer.Deliver(ctx, delivery.Request{Account: t.Account, Content: content, Envelope: env}); err != nil {
			return delivery.Permanent(err), err
		}
	}
	return false, nil
}

// startQueue runs the queue until Shutdown.
func (s *smtpService) startQueue() {
	if s.queue == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.queueDone = make(chan struct{})
	go func() {
		defer close(s.queueDone)
		s.queue.Run(ctx)
	}()
	go func() {
		<-s.stop
		cancel()
	}()
}

// CtlHandlers are the control-socket commands of the SMTP service:
// "queue list", "queue flush" and "queue delete ID".
func (s *smtpService) CtlHandlers() map[string]server.CtlHandler {
	if s.queue == nil {
		return nil
	}
	return map[string]server.CtlHandler{"queue": s.ctlQueue}
}

func (s *smtpService) ctlQueue(ctx context.Context, args []string, w io.Writer) error {
	switch {
	case len(args) == 1 && args[0] == "list":
		list, err := s.queue.List(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(w, "queue is empty")
			return nil
		}
		fmt.Fprintf(w, "%-26s %-19s %8s %4s %-19s %s\n", "ID", "QUEUED", "SIZE", "TRY", "NEXT", "FROM -> PENDING")
		for _, m := range list {
			from := m.From
			if from == "" {
				from = "<>"
			}
			fmt.Fprintf(w, "%-26s %-19s %8d %4d %-19s %s -> %s\n", m.ID, m.Created.Format(observe.StatsTimeFormat), m.Size,
				m.Attempts, m.NextAttempt.Format(observe.StatsTimeFormat), from, strings.Join(m.Pending, ", "))
			if m.LastError != "" {
				fmt.Fprintf(w, "    last error: %s\n", m.LastError)
			}
			if m.Node != "" {
				fmt.Fprintf(w, "    being delivered by %s\n", m.Node)
			}
		}
		return nil
	case len(args) == 1 && args[0] == "flush":
		n, err := s.queue.Flush(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%d message(s) scheduled for immediate delivery\n", n)
		return nil
	case len(args) == 2 && args[0] == "delete":
		if err := s.queue.Delete(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(w, "deleted %s\n", args[1])
		return nil
	}
	return errors.New("usage: queue list | queue flush | queue delete ID")
}

// newMailTracer is the trace facility of the SMTP family: files named
// postern-smtp-… or postern-lmtp-… in Log-Directory when Trace is on,
// flushed by Trace-Synch as POP3's and IMAP's are. The server hides AUTH
// itself (smtpserver traceTap), so the Tracer gets no Redactor.
func newMailTracer(in *instance, proto string, on bool, synch int) (*observe.Tracer, error) {
	dir := ""
	if on {
		dir = in.cfg.LogDirectory
	}
	return observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: proto, Node: in.cfg.Hostname, Synch: synch})
}

// queue returns the outbound queue of the running SMTP service; nil when
// SMTP is off.
func (in *instance) queue() *queue.Queue {
	for _, s := range in.services {
		if ss, ok := s.impl.(*smtpService); ok && ss.queue != nil {
			return ss.queue
		}
	}
	return nil
}

// dsnQueue gives the queue's RFC 3461 entry to submission, in its types.
type dsnQueue struct{ *queue.Queue }

func (d dsnQueue) EnqueueDSN(ctx context.Context, from string, req smtpserver.DSNRequest, rcpts []smtpserver.DSNRecipient, content io.Reader) (string, error) {
	out := make([]queue.Recipient, len(rcpts))
	for i, r := range rcpts {
		out[i] = queue.Recipient{Addr: r.Addr, Notify: r.Notify, ORcpt: r.ORcpt}
	}
	return d.Queue.EnqueueDSN(ctx, from, queue.DSN{Ret: req.Ret, EnvID: req.EnvID}, out, content)
}

// newMTASTS is the queue's MTA-STS (RFC 8461) lookup: policies fetched
// over HTTPS, found through [SMTP] Resolver, cached in memory.
func newMTASTS(resolver string, logger *slog.Logger) func(context.Context, string) *queue.STSPolicy {
	f := &mtasts.Fetcher{LookupTXT: msgauth.NewResolver(resolver).LookupTXT, Logger: logger}
	return func(ctx context.Context, domain string) *queue.STSPolicy {
		p := f.Get(ctx, domain)
		if p == nil || p.Mode == mtasts.ModeNone {
			return nil
		}
		return &queue.STSPolicy{Enforce: p.Mode == mtasts.ModeEnforce, Match: p.Match}
	}
}
