package imapserver

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// cmdCapability: RFC 9051 §6.1.1.
func (c *conn) cmdCapability(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	e := c.enc.Untagged().Atom("CAPABILITY")
	for _, cp := range c.capabilityList() {
		e.SP().Atom(cp)
	}
	return e.CRLF()
}

// cmdNoop: RFC 9051 §6.1.2. The epilogue sends the pending updates.
func (c *conn) cmdNoop(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	dec.ExpectCRLF()
	return dec.Err()
}

// cmdLogout: RFC 9051 §6.1.3.
func (c *conn) cmdLogout(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	c.setState(stateLogout)
	return c.enc.StatusResponse("", "BYE", "", "Postern IMAP server logging out")
}

// cmdID: RFC 2971. The client's fields are logged; the server names
// itself.
func (c *conn) cmdID(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	params := imapwire.ParseIDArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	var fields []string
	for _, p := range params[:min(len(params), 30)] { // RFC 2971 §3.3: at most 30 fields
		val := "NIL"
		if p.Value != nil {
			val = *p.Value
		}
		fields = append(fields, p.Key+"="+val)
	}
	if len(fields) > 0 {
		c.log.Debug("imap client id", slog.String("id", strings.Join(fields, " ")))
	}
	id := []string{"name", "Postern", "version", c.s.opts.Version, "vendor", "Postern"}
	e := c.enc.Untagged().Atom("ID").SP()
	e.List(len(id), func(i int) { e.String(id[i]) })
	return e.CRLF()
}

// cmdStartTLS: RFC 9051 §6.2.1. The tagged OK goes out in clear before the
// handshake, so the handler writes it itself.
func (c *conn) cmdStartTLS(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if c.tls || c.s.opts.TLS == nil || c.deflate {
		// After COMPRESS (then UNAUTHENTICATE), TLS would run inside the
		// compression: RFC 4978 §3 wants it the other way round.
		return badf("STARTTLS not available")
	}
	if c.br.Buffered() > 0 {
		// RFC 9051 §6.2.1: commands pipelined after STARTTLS would be
		// injected into the TLS session; refuse them.
		return &byeError{msg: "Data after STARTTLS; closing"}
	}
	c.tagged(tag, "OK", "", "Begin TLS negotiation now")
	c.resp.sent = true
	if !c.flush() {
		return errConnBroken
	}
	tc := tls.Server(c.nc, c.s.opts.TLS)
	// A real deadline: the injected clock is for what is recorded, not for
	// timers (a test clock stands still).
	c.nc.SetDeadline(time.Now().Add(preAuthTimeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.log.Info("imap starttls handshake failed", slog.Any("err", err))
		return errConnBroken
	}
	c.nc.SetDeadline(time.Time{})
	c.tls = true
	c.setTransport(tc)
	return nil
}

// cmdLogin: RFC 9051 §6.2.3.
func (c *conn) cmdLogin(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseLoginArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	user, pass := args.Username, args.Password
	if !c.plaintextAllowed() {
		return nof("PRIVACYREQUIRED", "LOGIN is disabled on an unencrypted connection; use STARTTLS")
	}
	acct, err := c.s.opts.Auth.Login(ctx, user, pass, c.connInfo())
	if err != nil {
		return c.authFailed(auth.MechPassword, user, err)
	}
	metricAuth.WithLabelValues(auth.MechPassword, auth.ResultOK).Inc()
	return c.loggedIn(ctx, acct)
}

// cmdAuthenticate: RFC 9051 §6.2.2 with SASL-IR (RFC 4959).
func (c *conn) cmdAuthenticate(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseAuthenticateArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	mech := args.Mechanism
	switch {
	case mech == auth.MechPlain && !c.plaintextAllowed():
		return nof("PRIVACYREQUIRED", "PLAIN is disabled on an unencrypted connection; use STARTTLS")
	case auth.IsBearerMechanism(mech) && !c.bearerAllowed(mech):
		return nof("PRIVACYREQUIRED", "Bearer tokens need an encrypted connection; use STARTTLS")
	case mech != auth.MechPlain && mech != auth.MechSCRAMSHA256 && mech != auth.MechSCRAMSHA256Plus && !auth.IsBearerMechanism(mech):
		return nof("CANNOT", "Unsupported authentication mechanism")
	}
	m, err := c.s.opts.Auth.NewMechanism(mech, c.connInfo())
	if err != nil {
		return nof("CANNOT", "Unsupported authentication mechanism")
	}
	var resp []byte // nil: no initial response
	if args.InitialResponse != nil {
		// RFC 4959 §3: "=" is an empty response, given here as "".
		if resp, err = base64.StdEncoding.DecodeString(*args.InitialResponse); err != nil {
			return badf("Invalid base64 in initial response")
		}
	}
	user := ""
	for {
		chal, done, err := m.Next(ctx, resp)
		if err != nil {
			return c.authFailed(mech, user, err)
		}
		if done && chal == nil {
			break
		}
		// A challenge, or data with success that a tagged OK cannot
		// carry: sent as one more challenge answered by an empty
		// response (RFC 9051 §6.2.2).
		if resp, err = c.saslRound(chal); err != nil {
			return err
		}
		if done {
			if len(resp) != 0 {
				return c.authFailed(mech, user, auth.ErrMalformed)
			}
			break
		}
	}
	acct, ok := m.Identity()
	if !ok {
		return c.authFailed(mech, user, auth.ErrBadCredentials)
	}
	metricAuth.WithLabelValues(mech, auth.ResultOK).Inc()
	return c.loggedIn(ctx, acct)
}

// saslRound sends one challenge and reads the client's response, which is
// redacted in the trace.
func (c *conn) saslRound(chal []byte) ([]byte, error) {
	if err := c.enc.Continuation(base64.StdEncoding.EncodeToString(chal)); err != nil {
		return nil, err
	}
	c.tr.authExchange = true
	defer func() { c.tr.authExchange = false }()
	var line string // RFC 9051 §6.2.2: base64 CRLF, or "*" to cancel
	if !c.dec.Line(&line) {
		return nil, c.dec.Err()
	}
	if line == "*" {
		return nil, badf("AUTHENTICATE cancelled")
	}
	resp, err := decodeSASL(line)
	if err != nil {
		return nil, badf("Invalid base64 in SASL response")
	}
	return resp, nil
}

// decodeSASL decodes a base64 SASL message; "=" is an empty one (RFC 4959).
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func (c *conn) connInfo() auth.ConnInfo {
	return auth.ConnInfo{Remote: c.remote, Proto: "imap", TLS: c.tls, Log: c.log, TLSExporter: auth.ConnTLSExporter(c.nc)}
}

// authFailed records a failed authentication (metric, statistics, event
// log) and returns the NO to send. A throttled attempt is answered
// [UNAVAILABLE] with how long to wait (RFC 5530 §3; issue 13: the delay is
// visible). After MaxAuthAttempts failures the connection ends with a BYE
// after the NO, as POP3's does, so that one connection cannot keep
// guessing.
func (c *conn) authFailed(mech, user string, err error) error {
	result := auth.Result(err)
	metricAuth.WithLabelValues(mech, result).Inc()
	if result == auth.ResultError {
		return fmt.Errorf("authenticate: %w", err)
	}
	c.s.stats.AuthFailure()
	if c.s.opts.Events != nil {
		c.s.opts.Events.AuthFail("imap", c.host, user, mech, result)
	}
	c.authFailures++
	if c.authFailures >= c.s.opts.MaxAuthAttempts {
		c.resp.byeAfter = "Too many failed logins"
	}
	switch {
	case errors.Is(err, auth.ErrThrottled):
		return nof("UNAVAILABLE", "Too many failed logins; %s", auth.RetryHint(err))
	case errors.Is(err, auth.ErrDisabled) || errors.Is(err, auth.ErrNoMail) || errors.Is(err, auth.ErrExpired):
		return err // mapped in errors.go
	}
	return nof("AUTHENTICATIONFAILED", "Authentication failed")
}

// cmdUnauthenticate: RFC 8437 §3. The connection returns to the
// not-authenticated state as if it had just been greeted: a selected
// mailbox is closed without an expunge (as UNSELECT), the store session
// ends, and what ENABLE turned on (IMAP4rev2, UTF8=ACCEPT, CONDSTORE,
// QRESYNC) is off again. TLS and COMPRESS stay in effect. The count of
// failed logins is kept, so that the connection's limit
// (Max-Auth-Attempts) still holds.
func (c *conn) cmdUnauthenticate(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	c.setState(stateNotAuthenticated)
	if c.sess != nil {
		c.sess.Close()
		c.sess = nil
		c.s.stats.RemoveUser(c.account.Name)
	}
	c.log.Info("unauthenticated")
	c.account = store.Account{}
	c.rev2, c.utf8, c.utf8Accept, c.condStore, c.qresync, c.uidOnly = false, false, false, false, false, false
	c.notify = nil
	c.dec.SetUTF8(false)
	c.enc.SetUTF8(false)
	c.log = c.baseLogger()
	c.s.conns.SetUser(c.cid, "")
	c.resp.code = "CAPABILITY " + c.capabilityString()
	c.resp.text = "UNAUTHENTICATE completed"
	return nil
}

// loggedIn opens the account's store session and enters the
// authenticated state.
func (c *conn) loggedIn(ctx context.Context, acct store.Account) error {
	sess, err := c.s.opts.Store.Open(ctx, acct.ID)
	if err != nil {
		return fmt.Errorf("open session for %s: %w", acct.Name, err)
	}
	c.account, c.sess = acct, sess
	c.setState(stateAuthenticated)
	admission.Authenticated(c.raw)
	c.log = c.log.With(slog.String("user", acct.Name))
	c.s.conns.SetUser(c.cid, acct.Name)
	c.s.stats.AddUser(acct.Name)
	c.resp.code = "CAPABILITY " + c.capabilityString()
	c.resp.text = "Logged in"
	return nil
}

// cmdEnable: RFC 5161, with IMAP4rev2 (RFC 9051 §6.3.1), UTF8=ACCEPT
// (RFC 6855 §3), CONDSTORE (RFC 7162 §3.1) and QRESYNC (§3.2.3).
func (c *conn) cmdEnable(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseEnableArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	var enabled []string
	hadCondStore := c.condStore
	for _, a := range args.Capabilities {
		switch a {
		case "IMAP4REV2":
			if !c.rev2 {
				c.rev2 = true
				enabled = append(enabled, "IMAP4rev2")
			}
			c.utf8 = true
		case "UTF8=ACCEPT":
			if !c.utf8Accept {
				c.utf8Accept = true
				enabled = append(enabled, "UTF8=ACCEPT")
			}
			c.utf8 = true
		case "CONDSTORE":
			// RFC 7162 §3.1. ENABLE is allowed in the authenticated
			// state only, so no mailbox is selected: no HIGHESTMODSEQ.
			if !hadCondStore && !slices.Contains(enabled, "CONDSTORE") {
				enabled = append(enabled, "CONDSTORE")
			}
			c.condStore = true
		case "QRESYNC":
			// RFC 7162 §3.2.3: QRESYNC implies CONDSTORE; "ENABLE
			// QRESYNC" and "ENABLE QRESYNC CONDSTORE" have the same
			// effect.
			if !c.qresync {
				c.qresync = true
				enabled = append(enabled, "QRESYNC")
			}
			c.condStore = true
		case "UIDONLY":
			// RFC 9586 §3.1: from now on, UIDs only (uidonly.go).
			if !c.uidOnly {
				c.uidOnly = true
				enabled = append(enabled, "UIDONLY")
			}
		}
	}
	c.dec.SetUTF8(c.utf8)
	c.enc.SetUTF8(c.utf8)
	e := c.enc.Untagged().Atom("ENABLED")
	for _, name := range enabled {
		e.SP().Atom(name)
	}
	return e.CRLF()
}
