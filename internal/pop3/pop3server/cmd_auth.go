package pop3server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// Reply texts of the original (seed §19.6.2).
const (
	textPasswordRequired = `Password required for "%s"`
	textLoginOK          = "Username/password combination ok"
	textAPOPOK           = "Username/digest combination ok"
	textSASLOK           = "Authentication successful"
	textSecureDenied     = "access denied"
)

// mechanism names used in logs and metrics for USER (the name check of
// FRIENDLY mode).
const mechUser = "USER"

// cmdUSER names the account for a following PASS (RFC 1939 §7).
func (c *conn) cmdUSER(ctx context.Context, args string) error {
	f, err := splitArgs(args, 1, 1)
	if err != nil {
		return err
	}
	name := f[0]

	c.user = ""
	if err := c.passwordAllowed(); err != nil {
		return err
	}
	if c.s.opts.Security == SecurityFriendly {
		// FRIENDLY tells an unknown name at once (hp-system §2); SECURE
		// answers +OK and fails at PASS like any wrong password.
		// The check is throttled like a password: an unknown name counts
		// as a failure of the address.
		if err := c.s.opts.Auth.CheckName(ctx, name, c.connInfo()); err != nil {
			if !errors.Is(err, auth.ErrUnknownUser) {
				return fmt.Errorf("look up account: %w", err)
			}
			return c.authFailed(mechUser, name, err)
		}
	}

	c.user = name
	c.ok(fmt.Sprintf(textPasswordRequired, name))
	return nil
}

// passwordAllowed refuses USER/PASS and AUTH PLAIN under Disuserpass and
// on unencrypted, non-loopback connections unless the admin allows it.
func (c *conn) passwordAllowed() error {
	if c.s.opts.Disuserpass {
		return errUser(codeAuth, "USER/PASS is disabled on this server; use APOP or AUTH SCRAM-SHA-256")
	}
	if !c.plaintextOK() {
		return errUser(codeAuth, "plaintext passwords need an encrypted connection; use STLS first")
	}
	return nil
}

// cmdPASS checks the password for the pending USER (RFC 1939 §7). The
// password is the rest of the line: it may contain spaces.
func (c *conn) cmdPASS(ctx context.Context, args string) error {
	if c.user == "" {
		return errSyntax("send USER first")
	}
	if args == "" || hasControl(args) {
		return errSyntax("missing or invalid password")
	}
	name := c.user
	c.user = ""

	acct, err := c.s.opts.Auth.Login(ctx, name, args, c.connInfo())
	if err != nil {
		return c.authFailed(auth.MechPassword, name, err)
	}
	return c.login(ctx, auth.MechPassword, acct, textLoginOK)
}

// cmdAPOP checks an APOP digest (RFC 1939 §7) against the greeting's
// timestamp. It is allowed everywhere: no secret crosses the network.
func (c *conn) cmdAPOP(ctx context.Context, args string) error {
	f, err := splitArgs(args, 2, 2)
	if err != nil {
		return err
	}
	name, digest := f[0], f[1]
	if len(digest) != 32 || strings.Trim(strings.ToLower(digest), "0123456789abcdef") != "" {
		return errSyntax("digest must be 32 hexadecimal digits")
	}

	c.user = ""
	acct, err := c.s.opts.Auth.APOP(ctx, name, c.stamp, digest, c.connInfo())
	if err != nil {
		return c.authFailed(auth.MechAPOP, name, err)
	}
	return c.login(ctx, auth.MechAPOP, acct, textAPOPOK)
}

// cmdAUTH runs a SASL exchange (RFC 5034). Without an argument it lists
// the mechanisms, as many servers did before RFC 2449 CAPA.
func (c *conn) cmdAUTH(ctx context.Context, args string) error {
	if args == "" {
		c.multi("Supported SASL mechanisms follow", c.saslMechanisms())
		return nil
	}
	f, err := splitArgsLong(args)
	if err != nil {
		return err
	}
	mechName := strings.ToUpper(f[0])
	if !c.mechAllowed(mechName) {
		if mechName == auth.MechPlain || mechName == auth.MechLogin {
			return c.passwordAllowed()
		}
		return errSyntax("unsupported SASL mechanism")
	}
	var resp []byte
	if len(f) == 2 {
		if resp, err = decodeSASL(f[1]); err != nil {
			return err
		}
	}

	c.user = ""
	mech, err := c.s.opts.Auth.NewMechanism(mechName, c.connInfo())
	if err != nil {
		return errSyntax("unsupported SASL mechanism")
	}
	user := saslUser(mechName, resp)
	acct, err := c.saslExchange(ctx, mechName, mech, resp, &user)
	if err != nil {
		return err
	}
	return c.login(ctx, mechName, acct, textSASLOK)
}

// splitArgsLong splits AUTH's mechanism and optional initial response;
// the response is exempt from the 40-octet argument limit (RFC 5034 §4).
func splitArgsLong(args string) ([]string, error) {
	if hasControl(args) {
		return nil, errSyntax("invalid characters in command")
	}
	f := strings.Split(args, " ")
	if len(f) > 2 || f[0] == "" || len(f[0]) > maxArgLength || len(f) == 2 && f[1] == "" {
		return nil, errSyntax("usage: AUTH mechanism [initial-response]")
	}
	return f, nil
}

// saslMechanisms lists the mechanisms offered on this connection.
func (c *conn) saslMechanisms() []string {
	var out []string
	for _, m := range []string{auth.MechSCRAMSHA256Plus, auth.MechSCRAMSHA256, auth.MechOAuthBearer, auth.MechXOAuth2, auth.MechPlain, auth.MechLogin} {
		if c.mechAllowed(m) {
			out = append(out, m)
		}
	}
	return out
}

// mechAllowed reports whether a mechanism may be used now: SCRAM
// always, PLAIN and LOGIN (draft-murchison-sasl-login, for clients of the
// original's era) under the USER/PASS rules, since both carry the
// password itself.
func (c *conn) mechAllowed(m string) bool {
	switch m {
	case auth.MechSCRAMSHA256:
		return true
	case auth.MechSCRAMSHA256Plus:
		// RFC 9266 channel binding: when configured, on TLS 1.3
		// connections only.
		return c.s.opts.Auth.ChannelBinding(c.connInfo())
	case auth.MechPlain, auth.MechLogin:
		return c.passwordAllowed() == nil
	case auth.MechOAuthBearer, auth.MechXOAuth2:
		// Bearer tokens (issue 22): when configured, and only under TLS
		// or on loopback. The token comes on a continuation line, since
		// RFC 5034 §4 caps an initial response at 255 octets.
		return (c.tls || c.remote.IsLoopback()) && slices.Contains(c.s.opts.Auth.Mechanisms(), m)
	}
	return false
}

// decodeSASL decodes a client response: "=" is the empty response
// (RFC 5034 §4), anything else base64.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errSyntax("invalid base64 in SASL response")
	}
	return b, nil
}

// saslExchange drives mech to its end. user is updated from the first
// response once the client has sent it, for logs.
func (c *conn) saslExchange(ctx context.Context, name string, mech auth.Mechanism, resp []byte, user *string) (store.Account, error) {
	for {
		challenge, done, err := mech.Next(ctx, resp)
		if err != nil {
			return store.Account{}, c.authFailed(name, *user, err)
		}
		if done && challenge == nil {
			acct, _ := mech.Identity()
			return acct, nil
		}
		// A challenge, or additional data with success (SCRAM's
		// server-final), which POP3 sends as one more challenge and
		// answers with an empty response (RFC 5034 §4).
		c.writeLine("+ " + base64.StdEncoding.EncodeToString(challenge))
		if !c.flush() {
			return store.Account{}, errIO
		}
		line, err := readLine(c.br, maxSASLLine)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return store.Account{}, errSyntax("SASL response too long")
			}
			return store.Account{}, errIO
		}
		c.trace.ClientAuth(line, "***")
		if string(line) == "*" {
			return store.Account{}, errSyntax("authentication cancelled")
		}
		if resp, err = decodeSASL(string(line)); err != nil {
			return store.Account{}, err
		}
		if *user == "" {
			*user = saslUser(name, resp)
		}
		if done {
			if len(resp) != 0 {
				return store.Account{}, errSyntax("expected an empty response after the server's final message")
			}
			acct, _ := mech.Identity()
			return acct, nil
		}
	}
}

// saslUser extracts the user name from a first SASL response, for logs
// only: PLAIN's authcid, LOGIN's first response, SCRAM's "n=" attribute.
func saslUser(mech string, resp []byte) string {
	switch mech {
	case auth.MechLogin:
		return string(resp)
	case auth.MechPlain:
		f := bytes.Split(resp, []byte{0})
		if len(f) == 3 {
			return string(f[1])
		}
	case auth.MechSCRAMSHA256, auth.MechSCRAMSHA256Plus:
		for _, a := range strings.Split(string(resp), ",") {
			if v, ok := strings.CutPrefix(a, "n="); ok {
				return strings.NewReplacer("=2C", ",", "=3D", "=").Replace(v)
			}
		}
	}
	return ""
}

// login enters the TRANSACTION state after successful authentication.
func (c *conn) login(ctx context.Context, mech string, acct store.Account, text string) error {
	metricAuth.WithLabelValues(mech, auth.ResultOK).Inc()
	if err := c.checkLoginDelay(acct); err != nil {
		return err
	}
	// Maximum-Threads counts logged-in sessions only (see Options).
	if !c.s.acquireSession() {
		c.s.stats.TooManyThreads()
		c.log.Warn("pop3 login refused", slog.String("user", acct.Name), slog.String("reason", "too many sessions"))
		return userError{code: codeSysTemp, msg: "too many POP3 sessions; try again later", close: true}
	}
	c.threaded = true
	if err := c.openMaildrop(ctx, acct); err != nil {
		return err
	}
	admission.Authenticated(c.nc)
	c.account = acct
	c.setState(stateTransaction)
	c.growWriter()
	c.s.stats.AddUser(acct.Name)
	c.s.conns.SetUser(c.cid, acct.Name)
	c.log = c.log.With(slog.String("user", acct.Name))
	c.log.LogAttrs(ctx, slog.LevelInfo, "pop3 login", slog.String("mech", mech), slog.Int("messages", len(c.drop.msgs)))
	c.ok(text)
	return nil
}

// authFailed counts, logs and words a failed login. It returns the error
// for the epilogue; after MaxAuthAttempts failures it closes the
// connection.
func (c *conn) authFailed(mech, user string, err error) error {
	result := auth.Result(err)
	switch result {
	case auth.ResultError, auth.ResultAborted:
		return err
	}
	metricAuth.WithLabelValues(mech, result).Inc()
	c.failures++
	c.s.stats.AuthFailure()
	if c.s.opts.LogReject {
		c.s.opts.Events.AuthFail("pop3", c.host, user, mech, result)
		c.log.LogAttrs(c.ctx, slog.LevelWarn, "pop3 login rejected", slog.String("user", user),
			slog.String("mech", mech), slog.String("reason", result))
	}
	ue := userError{code: codeAuth, msg: c.failureText(mech, user, err)}
	if errors.Is(err, auth.ErrThrottled) {
		// RFC 3206 SYS/TEMP: try again later, and when (issue 13: the
		// wait is visible). It says nothing about the account, so
		// SECURE mode says it too.
		ue = userError{code: codeSysTemp, msg: "too many failed logins; " + auth.RetryHint(err)}
	}
	if c.failures >= c.s.opts.MaxAuthAttempts {
		ue.msg += "; too many failures, closing connection"
		ue.close = true
	}
	return ue
}

// failureText words a failure: one generic text in SECURE mode, a
// specific one in FRIENDLY mode (hp-system §2 TCPIP$POP_SECURITY).
func (c *conn) failureText(mech, user string, err error) string {
	if c.s.opts.Security == SecuritySecure {
		return textSecureDenied
	}
	q := fmt.Sprintf("%q", user)
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		return "user " + q + " is unknown"
	case errors.Is(err, auth.ErrNoAPOPSecret):
		return "no APOP secret is set for " + q
	case errors.Is(err, auth.ErrNoSCRAMCredentials):
		return "no SCRAM credentials for " + q + "; log in once with the password"
	case errors.Is(err, auth.ErrBadCredentials) && mech == auth.MechAPOP:
		return "digest supplied for " + q + " is incorrect"
	case errors.Is(err, auth.ErrBadCredentials) && mech == auth.MechPassword:
		return "password supplied for " + q + " is incorrect"
	case errors.Is(err, auth.ErrBadCredentials):
		return "credentials supplied for " + q + " are incorrect"
	case errors.Is(err, auth.ErrDisabled):
		return "account " + q + " is disabled"
	case errors.Is(err, auth.ErrExpired):
		return "account " + q + " has expired"
	case errors.Is(err, auth.ErrNoMail):
		return "account " + q + " may not use mail"
	case errors.Is(err, auth.ErrChannelBinding):
		return "authentication failed: channel binding" // RFC 5802 §6
	}
	return "authentication failed: malformed exchange"
}
