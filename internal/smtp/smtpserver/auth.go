package smtpserver

import (
	"context"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// authAllowed is the plaintext policy shared with POP3 and IMAP: AUTH
// only under TLS, on loopback (or a Unix socket), or when the
// administrator allows plaintext.
func (ss *session) authAllowed() bool {
	return ss.isTLS() || ss.info.loopback || ss.s.opts.AllowPlaintextAuth
}

// AuthMechanisms lists the mechanisms to advertise in EHLO: none outside
// submission, and none before TLS unless allowed (RFC 4954 §4, RFC 8314).
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Mode != ModeSubmission || !ss.authAllowed() {
		return nil
	}
	var out []string
	for _, m := range ss.s.opts.Authenticator.Mechanisms() {
		if m == auth.MechSCRAMSHA256Plus && !ss.s.opts.Authenticator.ChannelBinding(ss.connInfo()) {
			continue // RFC 9266 channel binding: when configured, TLS 1.3 only
		}
		if !auth.IsBearerMechanism(m) || ss.bearerAllowed() {
			out = append(out, m)
		}
	}
	return out
}

// bearerAllowed reports whether OAuth bearer tokens may be sent: only
// under TLS or on loopback, whatever Allow-Plaintext-Auth says (issue 22:
// a token is a credential for every service of its audience).
func (ss *session) bearerAllowed() bool {
	return ss.isTLS() || ss.info.loopback
}

// Auth starts an AUTH exchange.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.opts.Mode != ModeSubmission {
		return nil, smtp.ErrAuthUnsupported
	}
	if !ss.authAllowed() || auth.IsBearerMechanism(mech) && !ss.bearerAllowed() {
		return nil, errEncryptionReq
	}
	m, err := ss.s.opts.Authenticator.NewMechanism(mech, ss.connInfo())
	if err != nil {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return &saslServer{ss: ss, mech: mech, m: m}, nil
}

// saslServer adapts an auth.Mechanism to go-sasl's Server. SMTP's 235
// cannot carry data, so SCRAM's server-final message goes out as one more
// 334 challenge, answered by an empty response (RFC 4954 §4).
type saslServer struct {
	ss          *session
	mech        string
	m           auth.Mechanism
	finalSent   bool
	authAccount store.Account
}

// Next implements sasl.Server.
func (a *saslServer) Next(response []byte) ([]byte, bool, error) {
	if a.finalSent {
		if len(response) != 0 {
			return a.fail(auth.ErrMalformed)
		}
		a.succeed(a.authAccount)
		return nil, true, nil
	}
	challenge, done, err := a.m.Next(context.Background(), response)
	if err != nil {
		return a.fail(err)
	}
	if !done {
		return challenge, false, nil
	}
	acct, _ := a.m.Identity()
	if challenge != nil {
		a.finalSent, a.authAccount = true, acct
		return challenge, false, nil
	}
	a.succeed(acct)
	return nil, true, nil
}

func (a *saslServer) fail(err error) ([]byte, bool, error) {
	a.ss.s.metrics.authTotal.WithLabelValues(a.mech, auth.Result(err)).Inc()
	a.ss.log.Info("authentication failed", "mech", a.mech, "err", err)
	if a.ss.s.opts.Stats != nil {
		a.ss.s.opts.Stats.AuthFailure()
	}
	return nil, true, authReply(err)
}

func (a *saslServer) succeed(acct store.Account) {
	ss := a.ss
	ss.s.metrics.authTotal.WithLabelValues(a.mech, auth.ResultOK).Inc()
	ss.account = acct.Name
	admission.Authenticated(ss.conn.Conn())
	ss.log = ss.log.With("user", acct.Name)
	ss.log.Info("authenticated", "mech", a.mech)
	if ss.s.opts.Conns != nil && ss.info.cid != 0 {
		ss.s.opts.Conns.SetUser(ss.info.cid, acct.Name)
	}
	if ss.s.opts.Stats != nil {
		ss.s.opts.Stats.AddUser(acct.Name)
	}
}
