package pop3server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"strings"

	"github.com/postern/postern/internal/observe"
)

// cmdQUIT ends the session (RFC 1939 §§4, 6). From TRANSACTION it enters
// UPDATE and commits the deletions; a failure there leaves the maildrop
// as it was and says so.
func (c *conn) cmdQUIT(ctx context.Context, args string) error {
	if _, err := splitArgs(args, 0, 0); err != nil {
		return err
	}
	if c.state == stateTransaction {
		c.setState(stateUpdate)
		if err := c.update(); err != nil {
			c.log.LogAttrs(ctx, slog.LevelError, "pop3 update failed", slog.Any("err", err))
			c.writeLine("-ERR [" + codeSysTemp + "] some deleted messages not removed")
			return errQuit
		}
	}
	// Release the maildrop before the reply, so that a client that logs
	// in again at once finds it free.
	c.closeMaildrop()
	c.ok("Postern POP server at " + c.s.opts.Hostname + " signing off.")
	return errQuit
}

// cmdCAPA lists the capabilities of the current state (RFC 2449 §5).
func (c *conn) cmdCAPA(ctx context.Context, args string) error {
	if _, err := splitArgs(args, 0, 0); err != nil {
		return err
	}
	caps := []string{"TOP", "UIDL"}
	if c.state == stateAuthorization {
		if c.passwordAllowed() == nil {
			caps = append(caps, "USER")
		}
		caps = append(caps, "SASL "+strings.Join(c.saslMechanisms(), " "))
		if c.stlsAvailable() {
			caps = append(caps, "STLS")
		}
	}
	caps = append(caps, c.policyCaps()...)
	caps = append(caps, "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Postern-"+c.s.opts.Version)
	c.multi("Capability list follows", caps)
	return nil
}

func (c *conn) stlsAvailable() bool {
	return c.s.opts.TLS != nil && !c.tls
}

// cmdSTLS starts TLS (RFC 2595 §4). Input the client pipelined after
// STLS was sent in the clear and is discarded, so it cannot be mistaken
// for commands sent under TLS (CVE-2011-0411).
func (c *conn) cmdSTLS(ctx context.Context, args string) error {
	if _, err := splitArgs(args, 0, 0); err != nil {
		return err
	}
	if c.tls {
		return errSyntax("TLS is already active")
	}
	if c.s.opts.TLS == nil {
		return errSyntax("STLS is not available")
	}
	c.ok("Begin TLS negotiation")
	if !c.flush() {
		return errIO
	}
	if n := c.br.Buffered(); n > 0 {
		c.br.Discard(n)
		c.log.Info("pop3 discarded input pipelined after STLS", slog.Int("octets", n))
	}
	tc := tls.Server(c.nc, c.s.opts.TLS)
	hctx, cancel := context.WithTimeout(ctx, preAuthTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.log.Info("pop3 stls handshake failed", slog.Any("err", err))
		return errIO
	}
	c.nc, c.tls = tc, true
	c.br.Reset(tc)
	c.user = "" // RFC 2595 §4: forget what was said in the clear
	return nil
}

// cmdXTND runs the original's extension commands (seed Table 19-3), for
// administrators only.
func (c *conn) cmdXTND(ctx context.Context, args string) error {
	if hasControl(args) {
		return errSyntax("invalid characters in command")
	}
	sub, rest, _ := strings.Cut(args, " ")
	if sub == "" {
		return errSyntax("missing argument")
	}
	if !c.account.Admin {
		return errUser("", "XTND is restricted to administrators")
	}
	var f []string
	if rest != "" {
		f = strings.Fields(rest)
	}
	switch strings.ToUpper(sub) {
	case "CLIENT":
		// The client's identification is free text (spaces and all).
		return c.xtndClient(ctx, rest)
	case "LOGLEVEL":
		return c.xtndLogLevel(ctx, f)
	case "STATS":
		return c.xtndStats(ctx, f)
	case "SHUTDOWN":
		return c.xtndShutdown(ctx, f)
	}
	return errSyntax("unknown XTND command; use CLIENT, LOGLEVEL, STATS or SHUTDOWN")
}

// xtndClient records the client's self-identification.
func (c *conn) xtndClient(ctx context.Context, id string) error {
	c.log.LogAttrs(ctx, slog.LevelInfo, "pop3 client identified", slog.String("client", id))
	c.ok("client information recorded")
	return nil
}

// xtndLogLevel changes the logging level at run time, with the
// original's reply "+OK logging level changed to debug".
func (c *conn) xtndLogLevel(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errSyntax("usage: XTND LOGLEVEL ERROR|INFORMATIONAL|THREAD|DEBUG")
	}
	lvl, err := observe.ParseLevel(args[0])
	if err != nil {
		return errSyntax("unknown logging level; use ERROR, INFORMATIONAL, THREAD or DEBUG")
	}
	if c.s.opts.Level == nil {
		return errUser("", "the logging level cannot be changed on this server")
	}
	c.s.opts.Level.Set(lvl)
	c.log.LogAttrs(ctx, slog.LevelInfo, "pop3 log level changed", slog.String("level", observe.LevelName(lvl)))
	c.ok("logging level changed to " + strings.ToLower(args[0]))
	return nil
}

// xtndStats sends the statistics report (seed Table 19-3), the same text
// `postern ctl stats` prints.
func (c *conn) xtndStats(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return errSyntax("XTND STATS takes no argument")
	}
	snap := c.s.stats.Snapshot()
	if c.s.opts.ServiceStats != nil {
		snap = c.s.opts.ServiceStats(ctx)
	}
	level := "INFORMATIONAL"
	if c.s.opts.Level != nil {
		level = observe.StatsLevelName(c.s.opts.Level.Level())
	}
	var b strings.Builder
	observe.WriteStatsReport(&b, observe.StatsHeader{
		Version: "Postern " + c.s.opts.Version + ", " + c.s.opts.OS,
		Level:   level,
	}, snap)
	c.multi("Statistics follow", strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"))
	return nil
}

// xtndShutdown starts an orderly shutdown: no new connections, current
// sessions (this one included) run to their end.
func (c *conn) xtndShutdown(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return errSyntax("XTND SHUTDOWN takes no argument")
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "pop3 shutdown requested", slog.String("by", c.account.Name))
	if c.s.opts.Shutdown != nil {
		c.s.opts.Shutdown()
	} else {
		go c.s.Shutdown(context.WithoutCancel(ctx))
	}
	c.ok("orderly shutdown started; waiting for current sessions to end")
	return nil
}
