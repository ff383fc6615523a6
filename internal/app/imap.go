package app

import (
	"context"
	"io"
	"log/slog"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/imap/imapserver"
	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/observe"
)

// buildIMAP converts the [IMAP] section and the globals into the IMAP
// server's Options (STYLE.md B1: the server never reads config).
func buildIMAP(in *instance) (Service, error) {
	cfg := in.cfg
	ic := cfg.IMAP

	level := new(slog.LevelVar)
	if lvl, err := observe.ParseLevel(string(ic.LogLevel)); err == nil {
		level.Set(lvl)
	} else {
		level.Set(in.level.Level())
	}
	var out io.Writer = in.opts.Stderr
	if in.runLog != nil {
		out = io.MultiWriter(in.opts.Stderr, in.runLog)
	}
	logger := observe.NewLogger(out, level, observe.FormatText).With("pkg", "imap")

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
	in.stats["imap"] = stats

	// One hasher and throttle for every protocol (app/auth.go); the IMAP
	// server records its own failures in the event log and statistics.
	authn := in.newAuthenticator(logger, nil)

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
		IdleTimeout:         idle,
		MessageCap:          ic.MessageCap,
		SendIDHeaders:       ic.SendIDHeaders,
		Mail11:              imapMail11Options(cfg),
		IgnoreMail11Headers: ic.IgnoreMail11Headers,
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

// imapMail11Options converts the address-rewriting options of [IMAP] and
// the globals into the Mail11 view's options (hp-system.md §3).
//
// TODO: Local-Aliases-File and Decnet-Node-Lookup (LookupNode) are not
// applied yet; they belong in one helper shared with POP3.
func imapMail11Options(cfg *config.Config) *mail11.Options {
	ic := cfg.IMAP
	nodes := make(map[string]string, len(cfg.DecnetNodes))
	for _, n := range cfg.DecnetNodes {
		nodes[n.Node] = n.Host
	}
	return &mail11.Options{
		Hostname:            cfg.Hostname,
		SubstituteDomain:    cfg.SubstituteDomain,
		Local:               mail11.NewLocalHosts(cfg.LocalDomains...),
		DecnetRewrite:       mail11.RewriteMode(ic.DecnetRewrite),
		QuotedDecnetRewrite: mail11.RewriteMode(ic.QuotedDecnetRewrite),
		Nodes:               nodes,
		PersonalName:        ic.PersonalName,
		GatewayNode:         ic.GatewayNode,
	}
}
