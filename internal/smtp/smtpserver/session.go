package smtpserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/delivery"
)

// session is one client's SMTP session as go-smtp's backend. go-smtp calls
// its methods from the connection's goroutine (BDAT: from one helper
// goroutine at a time), so it needs no locking.
type session struct {
	// Immutable.
	s    *Server
	conn *smtp.Conn
	info *connInfo
	log  *slog.Logger

	// Protocol state: the authenticated account (submission).
	account string

	// Transaction, cleared by Reset (RSET, EHLO, after DATA).
	tx transaction
}

// transaction is the current mail transaction.
type transaction struct {
	id    string
	from  string
	opts  *smtp.MailOptions
	rcpts []recipient
}

// recipient is one accepted RCPT with what it resolved to.
type recipient struct {
	addr    string // as the client wrote it: the StatusCollector key
	targets []delivery.Target
}

// newSession is go-smtp's backend: called at the first HELO/EHLO/LHLO and
// again after STARTTLS.
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	if s.closing.Load() {
		return nil, reply(421, 4, 3, 2, "Service shutting down")
	}
	ss := &session{s: s, conn: c}
	if tc := connOf(c.Conn()); tc != nil {
		ss.info = tc.info
	} else {
		ss.info = &connInfo{log: s.opts.Logger, since: s.opts.Clock(), loopback: true}
	}
	ss.log = ss.info.log.With("helo", c.Hostname())
	return ss, nil
}

// Reset clears the transaction.
func (ss *session) Reset() { ss.tx = transaction{} }

// Logout ends the session.
func (ss *session) Logout() error {
	if ss.account != "" && ss.s.opts.Stats != nil {
		ss.s.opts.Stats.RemoveUser(ss.account)
	}
	return nil
}

// isTLS reports whether the connection is encrypted now.
func (ss *session) isTLS() bool {
	_, ok := ss.conn.TLSConnectionState()
	return ok
}

// observe records a command's duration and result.
func (ss *session) observe(cmd string, start time.Time, err error) {
	result := "ok"
	var se *smtp.SMTPError
	switch {
	case err == nil:
	case errors.As(err, &se) && se == errInternal:
		result = "error"
	case errors.As(err, &se):
		result = "no"
	default:
		result = "error"
	}
	ss.s.metrics.commands.WithLabelValues(cmd, result).Observe(time.Since(start).Seconds())
	ss.log.Debug("smtp command done", "cmd", cmd, "result", result, "duration", time.Since(start))
}

// internal logs an unexpected error and returns the generic reply.
func (ss *session) internal(msg string, err error) error {
	ss.log.Error(msg, "err", err, "tx", ss.tx.id)
	return errInternal
}

// Mail starts a transaction (MAIL FROM).
func (ss *session) Mail(from string, opts *smtp.MailOptions) (err error) {
	defer func(start time.Time) { ss.observe("MAIL", start, err) }(time.Now())
	if !isASCII(from) && (opts == nil || !opts.UTF8) {
		return errNeedsUTF8 // RFC 6531 §3.4
	}
	if err := ss.checkSender(from); err != nil {
		return err
	}
	ss.tx = transaction{id: newID(), from: from, opts: opts}
	if ss.s.opts.Mode != ModeSubmission {
		// A client that starts a transaction is past its "pre-auth"
		// phase: inbound SMTP and LMTP have no login (admission).
		admission.Authenticated(ss.conn.Conn())
	}
	return nil
}

func (ss *session) checkSender(from string) error {
	if ss.s.opts.Mode != ModeSubmission {
		if from == "" {
			return nil // bounces (RFC 5321 §4.5.5)
		}
		if _, err := delivery.ParseAddress(from); err != nil {
			return errBadSender
		}
		return nil
	}
	switch {
	case ss.account == "":
		return errAuthRequired
	case from == "":
		return errNullSender
	case !ss.s.opts.Resolver.Owns(context.Background(), ss.account, from):
		ss.log.Info("sender refused", "user", ss.account, "from", from)
		return errSenderNotOwned
	}
	return nil
}

// Rcpt adds a recipient, refusing unknown users and relaying here, so that
// nothing accepted later bounces for those reasons.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) (err error) {
	defer func(start time.Time) { ss.observe("RCPT", start, err) }(time.Now())
	if ss.s.opts.Mode == ModeSubmission && ss.account == "" {
		return errAuthRequired
	}
	if !isASCII(to) && (ss.tx.opts == nil || !ss.tx.opts.UTF8) {
		return errNeedsUTF8
	}
	targets, err := ss.resolve(to)
	if err != nil {
		return err
	}
	ss.tx.rcpts = append(ss.tx.rcpts, recipient{addr: to, targets: targets})
	return nil
}

// resolve applies the mode's recipient policy to one address.
func (ss *session) resolve(to string) ([]delivery.Target, error) {
	a, err := delivery.ParseAddress(to)
	if err != nil {
		return nil, errBadRecipient
	}
	ctx := context.Background()
	var targets []delivery.Target
	if ss.s.opts.Mode == ModeLMTP {
		targets, err = ss.s.opts.Resolver.ResolveLocal(ctx, a)
	} else {
		targets, err = ss.s.opts.Resolver.Resolve(ctx, a)
	}
	switch {
	case errors.Is(err, delivery.ErrNotLocal) && ss.s.opts.Mode == ModeSubmission && ss.s.opts.Queue != nil:
		return []delivery.Target{{Remote: a.String()}}, nil
	case errors.Is(err, delivery.ErrNotLocal):
		if ss.s.opts.Events != nil {
			ss.s.opts.Events.Reject(ss.s.proto, ss.info.remote.String(), "relay denied", slog.String("rcpt", to))
		}
		return nil, errRelayDenied
	case err != nil:
		if r := deliveryReply(err); r != nil {
			ss.log.Info("recipient refused", "rcpt", to, "err", err)
			return nil, r
		}
		return nil, ss.internal("resolve recipient", err)
	}
	for _, t := range targets {
		if t.Remote != "" && ss.s.opts.Queue == nil {
			return nil, errNoForwarding
		}
	}
	return targets, nil
}

// newID returns a transaction id for logs and the Received header.
func newID() string { return strings.ToLower(rand.Text()[:16]) }

// tlsDescription describes the connection's TLS for the Received header.
func (ss *session) tlsDescription() string {
	st, ok := ss.conn.TLSConnectionState()
	if !ok {
		return ""
	}
	return tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
}

// withKeyword is the Received "with" protocol keyword (RFC 3848, RFC 6531 §3.7.4).
func (ss *session) withKeyword() string {
	w := "ESMTP"
	if ss.s.opts.Mode == ModeLMTP {
		w = "LMTP"
	} else if ss.tx.opts != nil && ss.tx.opts.UTF8 {
		w = "UTF8SMTP"
	}
	if ss.isTLS() {
		w += "S"
	}
	if ss.account != "" {
		w += "A"
	}
	return w
}

// received builds our Received header for the transaction.
func (ss *session) received() string {
	ri := delivery.ReceivedInfo{
		Helo: ss.conn.Hostname(), Remote: ss.info.remote, By: ss.s.opts.Hostname,
		With: ss.withKeyword(), ID: ss.tx.id, TLS: ss.tlsDescription(), Time: ss.s.opts.Clock(),
	}
	if len(ss.tx.rcpts) == 1 {
		ri.For = ss.tx.rcpts[0].addr
	}
	return delivery.Received(ri)
}

// Data receives the message and delivers it (SMTP and submission): one
// reply for all recipients.
func (ss *session) Data(r io.Reader) (err error) {
	defer func(start time.Time) { ss.observe("DATA", start, err) }(time.Now())
	msg, err := ss.receive(r)
	if err != nil {
		return err
	}
	defer msg.Close()
	outcomes := ss.deliver(msg)
	return ss.combine(msg, outcomes)
}

// LMTPData is Data with one reply per recipient (RFC 2033 §4.2).
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) (err error) {
	defer func(start time.Time) { ss.observe("DATA", start, err) }(time.Now())
	msg, err := ss.receive(r)
	if err != nil {
		return err
	}
	defer msg.Close()
	for i, o := range ss.deliver(msg) {
		status.SetStatus(ss.tx.rcpts[i].addr, ss.outcomeReply(o))
	}
	return nil
}

// outcomeReply turns a delivery outcome into nil (250) or an SMTP reply.
func (ss *session) outcomeReply(err error) error {
	if err == nil {
		return nil
	}
	if r := deliveryReply(err); r != nil {
		return r
	}
	return errTryAgain
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
