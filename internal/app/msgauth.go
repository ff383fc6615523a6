package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/postern/postern/internal/milter"
	"github.com/postern/postern/internal/msgauth"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/smtp/smtpserver"
	"github.com/postern/postern/internal/store"
)

// Mail authentication (issue 20, docs/mail-auth.md): submission signs
// with the DKIM keys of the store; inbound SMTP checks SPF, DKIM and
// DMARC. Both remove Authentication-Results fields that claim our
// Hostname (RFC 8601 §5).

// dropForgedAuthResults drops Authentication-Results fields claiming
// authservID.
func dropForgedAuthResults(authservID string) func(string, []byte) bool {
	return func(name string, value []byte) bool {
		return strings.EqualFold(name, "Authentication-Results") && msgauth.IsOurs(value, authservID)
	}
}

// submissionInspector signs every submitted message with the keys of its
// From domain. A signing failure is logged and the message goes unsigned:
// it is never refused for it.
func submissionInspector(st store.Store, hostname string, logger *slog.Logger) smtpserver.Inspector {
	keys, ok := st.(store.DKIMKeyKeeper)
	if !ok {
		logger.Warn("the store keeps no DKIM keys: submitted mail is not signed")
	}
	signer := &msgauth.Signer{Keys: keys, Logger: logger}
	drop := dropForgedAuthResults(hostname)
	return func(ctx context.Context, env smtpserver.Envelope, open func() io.Reader) (smtpserver.Inspection, error) {
		res := smtpserver.Inspection{Drop: drop}
		if !ok {
			return res, nil
		}
		sig, err := signer.Sign(ctx, open)
		if err != nil {
			logger.Error("dkim signing failed; message sent unsigned", "user", env.Account, "err", err)
		}
		res.Prepend = sig
		return res, nil
	}
}

// inboundInspector checks inbound mail and adds Authentication-Results.
// Clients on loopback or in Trusted-Networks are not checked (a local
// content filter or MTA handing mail back), and their mail is left as is.
func inboundInspector(ib *msgauth.Inbound, trusted []netip.Prefix) smtpserver.Inspector {
	drop := dropForgedAuthResults(ib.AuthservID)
	return func(ctx context.Context, env smtpserver.Envelope, open func() io.Reader) (smtpserver.Inspection, error) {
		ip := remoteIP(env.Remote)
		if !ip.IsValid() || ip.IsLoopback() || inPrefixes(ip, trusted) {
			return smtpserver.Inspection{}, nil
		}
		d := ib.Decide(ctx, msgauth.Input{IP: net.IP(ip.AsSlice()), Helo: env.Helo, MailFrom: env.From, Open: open})
		if d.Refuse != nil {
			return smtpserver.Inspection{}, d.Refuse
		}
		return smtpserver.Inspection{Prepend: d.Header, Drop: drop}, nil
	}
}

// newInbound is the inbound policy of the configuration.
func newInbound(in *instance, logger *slog.Logger, events *observe.EventLog) *msgauth.Inbound {
	return &msgauth.Inbound{
		Checker:    &msgauth.Checker{Resolver: msgauth.NewResolver(in.cfg.SMTP.Resolver), Logger: logger},
		AuthservID: in.cfg.Hostname, DMARCReject: in.cfg.SMTP.DMARCReject,
		Events: events, Logger: logger,
	}
}

func remoteIP(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case nil:
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	return ip.Unmap()
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// newMilter is the [SMTP] Milter client, nil without one.
func newMilter(in *instance, logger *slog.Logger) (*milter.Client, error) {
	if in.cfg.SMTP.Milter == "" {
		return nil, nil
	}
	addr, err := milter.ParseAddress(in.cfg.SMTP.Milter)
	if err != nil {
		return nil, err
	}
	def := milter.DefaultTempfail
	if strings.EqualFold(in.cfg.SMTP.MilterDefaultAction, "accept") {
		def = milter.DefaultAccept
	}
	return &milter.Client{Addr: addr, Default: def, Hostname: in.cfg.Hostname, Logger: logger}, nil
}

// withMilter runs the milter after next (the checks), on the message as
// received: a refusal by either refuses; the fields both add are
// prepended (the checks' Authentication-Results first) and the fields
// either drops are dropped. Loopback and Trusted-Networks clients are
// filtered too: a filter is the operator's choice for all mail of the
// listener.
func withMilter(next smtpserver.Inspector, mc *milter.Client) smtpserver.Inspector {
	if mc == nil {
		return next
	}
	return func(ctx context.Context, env smtpserver.Envelope, open func() io.Reader) (smtpserver.Inspection, error) {
		res, err := next(ctx, env, open)
		if err != nil {
			return res, err
		}
		m := mc.Check(ctx, milter.Input{Remote: env.Remote, Helo: env.Helo, MailFrom: env.From, Rcpts: env.To, Open: open})
		if m.Refuse != nil {
			return smtpserver.Inspection{}, m.Refuse
		}
		res.Prepend += m.Prepend
		res.Drop = bothDrop(res.Drop, m.Drop)
		return res, nil
	}
}

// bothDrop drops what a or b drops; both see every field, in order (a
// milter's change counts fields by name).
func bothDrop(a, b func(string, []byte) bool) func(string, []byte) bool {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(name string, value []byte) bool {
		da, db := a(name, value), b(name, value)
		return da || db
	}
}
