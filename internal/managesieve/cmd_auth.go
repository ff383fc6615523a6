package managesieve

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// cmdStartTLS upgrades the connection (RFC 5804 §2.2) and sends the
// capabilities again, as the RFC requires.
func (c *conn) cmdStartTLS(ctx context.Context, _ []arg) error {
	if c.s.opts.TLS == nil || c.tls {
		c.no("", "STARTTLS is not available.")
		return nil
	}
	if c.br.Buffered() > 0 {
		// Commands pipelined behind STARTTLS would run as if they had
		// come over TLS (the STARTTLS injection attack).
		c.bye("", "Data after STARTTLS.")
		c.closing = true
		return nil
	}
	c.ok("", "Begin TLS negotiation now.")
	if err := c.bw.Flush(); err != nil {
		c.closing = true
		return nil
	}
	tc := tls.Server(c.nc, c.s.opts.TLS)
	c.nc.SetDeadline(time.Now().Add(preAuthTimeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.log.Info("managesieve tls handshake failed", slog.Any("err", err))
		c.closing = true
		return nil
	}
	c.nc.SetDeadline(time.Time{})
	c.nc, c.tls = tc, true
	c.br.Reset(tc)
	c.writeCapabilities()
	c.ok("", "TLS negotiation successful.")
	return nil
}

// cmdAuthenticate runs a SASL exchange (RFC 5804 §2.1): challenges are
// strings of base64, responses strings of base64 or "*" to cancel.
func (c *conn) cmdAuthenticate(ctx context.Context, args []arg) error {
	name := strings.ToUpper(args[0].s)
	offered := false
	for _, m := range c.mechanisms() {
		offered = offered || m == name
	}
	if !offered {
		if name == auth.MechPlain {
			c.no("ENCRYPT-NEEDED", "Use STARTTLS before sending a password.")
			return nil
		}
		c.no("", "Unsupported SASL mechanism.")
		return nil
	}
	mech, err := c.s.opts.Auth.NewMechanism(name, c.connInfo())
	if err != nil {
		c.no("", "Unsupported SASL mechanism.")
		return nil
	}
	var resp []byte
	if len(args) == 2 {
		if resp, err = base64.StdEncoding.DecodeString(args[1].s); err != nil {
			c.no("", "Invalid base64 in the initial response.")
			return nil
		}
	}
	acct, final, err := c.saslExchange(ctx, mech, resp)
	if err != nil {
		metricAuth.WithLabelValues(name, "fail").Inc()
		return c.authFailed(err)
	}
	metricAuth.WithLabelValues(name, "ok").Inc()
	c.authed, c.account = true, acct
	admission.Authenticated(c.nc)
	c.s.conns.SetUser(c.cid, acct.Name)
	c.log = c.log.With(slog.String("user", acct.Name))
	c.log.Info("managesieve login", slog.String("mech", name))
	code := ""
	if final != nil {
		code = "SASL " + quote(base64.StdEncoding.EncodeToString(final)) // RFC 5804 §2.1
	}
	c.ok(code, "Logged in.")
	return nil
}

var errCancelled = errors.New("authentication cancelled")

// saslExchange drives mech to its end; final is SCRAM's server-final
// message, which goes in the OK's SASL code.
func (c *conn) saslExchange(ctx context.Context, mech auth.Mechanism, resp []byte) (store.Account, []byte, error) {
	for {
		challenge, done, err := mech.Next(ctx, resp)
		if err != nil {
			return store.Account{}, nil, err
		}
		if done {
			acct, _ := mech.Identity()
			return acct, challenge, nil
		}
		c.bw.WriteString(quote(base64.StdEncoding.EncodeToString(challenge)) + "\r\n")
		if err := c.bw.Flush(); err != nil {
			return store.Account{}, nil, err
		}
		d := &decoder{br: c.br, maxLiteral: maxQuoted * 4}
		a, end, err := d.arg()
		if err == nil && (!end || a.atom || a.tooBig) {
			err = errSyntax
		}
		if err != nil {
			d.skipLine()
			return store.Account{}, nil, err
		}
		if a.s == "*" {
			return store.Account{}, nil, errCancelled
		}
		if resp, err = base64.StdEncoding.DecodeString(a.s); err != nil {
			return store.Account{}, nil, errSyntax
		}
	}
}

// authFailed answers a failed exchange; after maxAuthFailures the
// connection ends. Store and I/O failures are internal errors.
func (c *conn) authFailed(err error) error {
	switch {
	case errors.Is(err, errCancelled):
		c.no("", "Authentication cancelled.")
		return nil
	case errors.Is(err, errSyntax) || errors.Is(err, auth.ErrMalformed):
		c.no("", "Malformed SASL response.")
		return nil
	case errors.Is(err, auth.ErrThrottled):
		c.no("TRYLATER", "Too many failures; try again later.")
		c.closing = true
		return nil
	case auth.Result(err) == auth.ResultError:
		return err
	}
	c.failures++
	c.log.Info("managesieve login failed", slog.Any("err", err))
	if c.failures >= maxAuthFailures {
		c.bye("", "Too many authentication failures.")
		c.closing = true
		return nil
	}
	c.no("", "Authentication failed.")
	return nil
}
