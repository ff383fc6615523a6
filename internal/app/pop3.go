package app

import (
	"context"
	"log/slog"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/pop3/pop3server"
)

// buildPOP3 converts the [POP] section and the globals into the POP3
// server's Options (STYLE.md B1: the server never reads config).
func buildPOP3(in *instance) (Service, error) {
	cfg := in.cfg
	pc := cfg.POP

	// [POP] Log-Level has its own level, which XTND LOGLEVEL changes.
	logger, level := sectionLevel(in, pc.LogLevel, "pop3")

	traceDir := ""
	if pc.Trace {
		traceDir = cfg.LogDirectory
	}
	tracer, err := observe.NewTracer(observe.TraceOptions{
		Dir: traceDir, Proto: "pop3", Node: cfg.Hostname, Synch: pc.TraceSynch, Redactor: pop3server.Redact,
	})
	if err != nil {
		return nil, err
	}

	stats := observe.NewStats(nil)
	in.setStats("pop3", stats)

	authn := in.newAuthenticator(logger, nil)

	security := pop3server.SecurityFriendly
	if pc.Security == config.SecuritySecure {
		security = pop3server.SecuritySecure
	}
	idle := pc.LinkIdleTimeout
	if idle == 0 {
		idle = -1 // Link-Idle-Timeout: 0 means never
	}
	view, err := buildMail11(cfg, logger, pc.DecnetRewrite, pc.QuotedDecnetRewrite, pc.PersonalName)
	if err != nil {
		return nil, err
	}
	srv, err := pop3server.New(pop3server.Options{
		Store:               in.store,
		Auth:                authn,
		Hostname:            cfg.Hostname,
		Version:             Version,
		OS:                  osRelease(),
		Started:             in.started,
		TLS:                 in.tls.config("pop3"),
		AllowPlaintextAuth:  pc.AllowPlaintextAuth,
		Security:            security,
		MaxAuthAttempts:     pc.MaxAuthAttempts,
		Disuserpass:         pc.Disuserpass,
		LeaveInNewmail:      pc.LeaveInNewmail,
		UseMailFolder:       pc.UseMailFolder,
		MessageMaximum:      pc.MessageMaximum,
		FastScan:            pc.FastScan,
		SendIDHeaders:       pc.SendIDHeaders,
		PurgeReclaim:        pc.PurgeReclaim,
		Expire:              popExpire(&pc),
		LoginDelay:          pc.LoginDelay,
		Mail11:              view,
		IgnoreMail11Headers: pc.IgnoreMail11Headers,
		IdleTimeout:         idle,
		MaxSessions:         pc.MaximumThreads,
		Sndbuf:              pc.Sndbuf,
		Logger:              logger,
		Level:               level,
		Tracer:              tracer,
		Events:              in.events,
		LogReject:           pc.LogReject,
		Stats:               stats,
		ServiceStats:        in.serviceStatsOf("pop3", stats),
		Conns:               in.conns,
		Shutdown: func() {
			in.events.Event(observe.EventShutdown, slog.String("by", "XTND SHUTDOWN"))
			in.requestStop()
		},
	})
	if err != nil {
		return nil, err
	}
	return pop3Service{Server: srv, tracer: tracer}, nil
}

// pop3Service closes the trace file after the server has stopped.
type pop3Service struct {
	*pop3server.Server
	tracer *observe.Tracer
}

func (s pop3Service) Shutdown(ctx context.Context) error {
	err := s.Server.Shutdown(ctx)
	if cerr := s.tracer.Close(); err == nil {
		err = cerr
	}
	return err
}

// popExpire converts [POP] Expire into the server's retention policy.
func popExpire(pc *config.POPConfig) pop3server.Expire {
	days, never := pc.ExpireDays()
	return pop3server.Expire{Set: !never, Days: days}
}
