package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/smtp/smtpserver"
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
}

func newMailParts(in *instance, proto string) (*mailParts, error) {
	cfg := in.cfg
	res, err := delivery.NewResolver(delivery.ResolverOptions{
		Directory: in.store, Hostname: cfg.Hostname, SubstituteDomain: cfg.SubstituteDomain,
		Domains: cfg.LocalDomains, DomainsFile: cfg.LocalAliasesFile, AliasesFile: cfg.SMTP.AliasesFile,
		Logger: in.logger.With("proto", proto),
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
		Logger: in.logger.With("pkg", "delivery", "proto", proto),
	})
	return &mailParts{deliverer: d, resolver: res, spoolDir: spool}, nil
}

// baseOptions are the options every SMTP-family server shares.
func (m *mailParts) baseOptions(in *instance, proto string) smtpserver.Options {
	st := observe.NewStats(time.Now)
	in.stats[proto] = st
	return smtpserver.Options{
		Hostname: in.cfg.Hostname, Deliverer: m.deliverer, Resolver: m.resolver,
		MaxMessageSize: in.cfg.MaxMessageSize, MaxRecipients: in.cfg.SMTP.MaxRecipients,
		SpoolDir: m.spoolDir, Logger: in.logger, Events: in.events, Conns: in.conns, Stats: st,
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
	base := parts.baseOptions(in, "smtp")
	base.TLSConfig = in.tls.config("smtp")
	sub := base
	sub.Mode = smtpserver.ModeSubmission
	sub.AllowPlaintextAuth = cfg.SMTP.AllowPlaintextAuth
	sub.SaveSent = cfg.SMTP.SaveSent
	sub.Authenticator = newSMTPAuthenticator(in)
	submission, err := smtpserver.New(sub)
	if err != nil {
		return nil, err
	}
	svc := &smtpService{byPort: map[int]*smtpserver.Server{}, fallback: submission, reload: parts.resolver.Reload, logger: in}
	svc.all = append(svc.all, submission)
	if cfg.SMTP.ServerPort != 0 {
		inb := base
		inb.Mode = smtpserver.ModeInbound
		inb.MaxConnectionsPerIP = cfg.SMTP.MaxConnectionsPerIP
		inb.ConnectionsPerMinute = inboundConnectionsPerMinute
		inbound, err := smtpserver.New(inb)
		if err != nil {
			return nil, err
		}
		svc.byPort[cfg.SMTP.ServerPort] = inbound
		svc.all = append(svc.all, inbound)
	}
	svc.watchHUP()
	return svc, nil
}

// inboundConnectionsPerMinute caps how fast one address may open inbound
// SMTP connections. Not configurable yet.
const inboundConnectionsPerMinute = 60

// buildLMTP makes the LMTP server for the Unix socket and Server-Port.
func buildLMTP(in *instance) (Service, error) {
	parts, err := newMailParts(in, "lmtp")
	if err != nil {
		return nil, err
	}
	o := parts.baseOptions(in, "lmtp")
	o.Mode = smtpserver.ModeLMTP
	o.MaxRecipients = 0 // the MTA splits as it likes; RFC 2033 sets no cap
	srv, err := smtpserver.New(o)
	if err != nil {
		return nil, err
	}
	svc := &smtpService{fallback: srv, all: []*smtpserver.Server{srv}, reload: parts.resolver.Reload, logger: in}
	svc.watchHUP()
	return svc, nil
}

// newSMTPAuthenticator builds the Authenticator of submission, recording
// failures in the event log and the SMTP statistics.
func newSMTPAuthenticator(in *instance) *auth.Authenticator {
	return auth.New(auth.Options{
		Store:  in.store,
		Logger: in.logger.With("pkg", "auth"),
		OnAttempt: func(a auth.Attempt) {
			if a.Err != nil {
				in.events.AuthFail(a.Conn.Proto, a.Conn.Remote.String(), a.User, a.Mechanism, auth.Result(a.Err))
			}
		},
		Upgrade: func(ctx context.Context, name string, u store.AccountUpdate) error {
			_, err := in.store.UpdateAccount(ctx, name, u)
			return err
		},
	})
}

// listenLMTPSocket binds [LMTP] Socket. A live socket means another server
// runs on this data directory: refuse. A stale one is replaced.
func listenLMTPSocket(in *instance) ([]net.Listener, error) {
	path := in.cfg.LMTP.Socket
	if path == "" {
		return nil, nil
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("LMTP socket %s is in use by another process", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale LMTP socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("LMTP socket: %w", err)
	}
	if err := os.Chmod(path, lmtpSocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("LMTP socket: %w", err)
	}
	return []net.Listener{ln}, nil
}

// smtpService routes each listener to its server by port (inbound SMTP on
// Server-Port, submission elsewhere) and reloads the recipient tables on
// SIGHUP.
type smtpService struct {
	byPort   map[int]*smtpserver.Server
	fallback *smtpserver.Server
	all      []*smtpserver.Server
	reload   func() error
	logger   *instance

	stopOnce sync.Once
	stop     chan struct{}
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
	return errors.Join(errs...)
}

// watchHUP reloads the aliases and local-domains files on SIGHUP, next to
// app's own reload (signal.Notify delivers to every registered channel).
func (s *smtpService) watchHUP() {
	s.stop = make(chan struct{})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-s.stop:
				return
			case <-hup:
				if err := s.reload(); err != nil {
					s.logger.logger.Error("reload recipient tables failed; keeping the old ones", "err", err)
				}
			}
		}
	}()
}

