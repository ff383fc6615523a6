package app

import (
	"context"

	"github.com/postern/postern/internal/imap/imapserver"
	"github.com/postern/postern/internal/observe"
)

// buildIMAP converts the [IMAP] section and the globals into the IMAP
// server's Options (STYLE.md B1: the server never reads config).
func buildIMAP(in *instance) (Service, error) {
	cfg := in.cfg
	ic := cfg.IMAP

	logger := sectionLogger(in, ic.LogLevel, "imap")

	traceDir := ""
	if ic.ServerTrace {
		traceDir = cfg.LogDirectory
	}
	// The server redacts credentials itself (LOGIN, AUTHENTICATE and the
	// literals that carry them), so the Tracer gets no Redactor.
	tracer, err := observe.NewTracer(observe.TraceOptions{
		Dir: traceDir, Proto: "imap", Node: cfg.Hostname, Synch: ic.TraceSynch,
	})
	if err != nil {
		return nil, err
	}

	stats := observe.NewStats(nil)
	in.setStats("imap", stats)

	// One hasher and throttle for every protocol (app/auth.go); the IMAP
	// server records its own failures in the event log and statistics.
	authn := in.newAuthenticator(logger, nil)

	m11, err := buildMail11(cfg, logger, ic.DecnetRewrite, ic.QuotedDecnetRewrite, ic.PersonalName)
	if err != nil {
		return nil, err
	}
	m11.GatewayNode = ic.GatewayNode // IMAP only: hp-system.md §3.3 R2, R3
	magic, err := loadMagic(cfg)
	if err != nil {
		return nil, err
	}

	idle := ic.IdleTimeout
	if idle == 0 {
		idle = -1 // Idle-Timeout: 0 means none
	}
	srv, err := imapserver.New(imapserver.Options{
		Store:               in.store,
		Auth:                authn,
		Hostname:            cfg.Hostname,
		Version:             Version,
		TLS:                 in.tls.config("imap"),
		AllowPlaintextAuth:  ic.AllowPlaintextAuth,
		MaxAuthAttempts:     ic.MaxAuthAttempts,
		IdleTimeout:         idle,
		MessageCap:          ic.MessageCap,
		SendIDHeaders:       ic.SendIDHeaders,
		Mail11:              m11,
		IgnoreMail11Headers: ic.IgnoreMail11Headers,
		VMSFolderNames:      ic.VMSFolderNames,
		Magic:               magic,
		AppendLimit:         ic.AppendLimit,
		Logger:              logger,
		Tracer:              tracer,
		Events:              in.events,
		Stats:               stats,
		Conns:               in.conns,
	})
	if err != nil {
		tracer.Close()
		return nil, err
	}
	return imapService{Server: srv, tracer: tracer}, nil
}

// imapService closes the trace file after the server has stopped.
type imapService struct {
	*imapserver.Server
	tracer *observe.Tracer
}

func (s imapService) Shutdown(ctx context.Context) error {
	err := s.Server.Shutdown(ctx)
	if cerr := s.tracer.Close(); err == nil {
		err = cerr
	}
	return err
}
