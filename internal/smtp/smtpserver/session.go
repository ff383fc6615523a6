package smtpserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/delivery"
)

// session is the meaning of one client's SMTP session: who is
// authenticated, the transaction's sender and resolved recipients, and
// what a received message becomes. The connection's goroutine (conn.go)
// calls its methods, one at a time, so it needs no locking.
type session struct {
	// Immutable.
	s    *Server
	conn *conn
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
	addr    string // as the client wrote it
	targets []delivery.Target
	opts    *smtp.RcptOptions // NOTIFY, ORCPT (RFC 3461)
}

// newSession starts a session at the first HELO/EHLO/LHLO and again after
// STARTTLS.
func (s *Server) newSession(c *conn) (*session, error) {
	if s.closing.Load() {
		return nil, reply(421, 4, 3, 2, "Service shutting down")
	}
	ss := &session{s: s, conn: c, info: c.info}
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
func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) (err error) {
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
	if err := ss.checkQuota(to, targets); err != nil {
		return err
	}
	ss.tx.rcpts = append(ss.tx.rcpts, recipient{addr: to, targets: targets, opts: opts})
	return nil
}

// checkQuota refuses, in SMTP (not LMTP, which answers per recipient after
// DATA), a recipient whose account is full or has less room left than the
// size MAIL FROM declared (RFC 1870 §6.2: 552 at RCPT). A failure to read
// the quota is logged and the recipient accepted: the delivery checks again.
func (ss *session) checkQuota(to string, targets []delivery.Target) error {
	if ss.s.opts.Mode == ModeLMTP || ss.s.opts.Deliverer == nil {
		return nil
	}
	var size int64
	if ss.tx.opts != nil {
		size = ss.tx.opts.Size
	}
	for _, t := range targets {
		if t.Account == "" {
			continue
		}
		err := ss.s.opts.Deliverer.CheckQuota(context.Background(), t.Account, size)
		switch {
		case errors.Is(err, delivery.ErrOverQuota):
			ss.log.Info("recipient refused", "rcpt", to, "err", err)
			return errMailboxFull
		case err != nil:
			ss.log.Warn("quota check failed", "rcpt", to, "err", err)
		}
	}
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

// dataReplies delivers a received message (or takes the error that
// refused it) and returns the replies: one for SMTP and submission, one
// per recipient for LMTP (RFC 2033 §4.2).
func (ss *session) dataReplies(msg *message, err error) []error {
	defer func(start time.Time) { ss.observe("DATA", start, err) }(time.Now())
	n := 1
	if ss.s.opts.Mode == ModeLMTP {
		n = len(ss.tx.rcpts)
	}
	if err != nil {
		out := make([]error, n)
		for i := range out {
			out[i] = err
		}
		return out
	}
	defer msg.Close()
	outcomes := ss.deliver(msg)
	if ss.s.opts.Mode != ModeLMTP {
		err = ss.combine(msg, outcomes)
		return []error{err}
	}
	for i, o := range outcomes {
		outcomes[i] = ss.outcomeReply(o)
	}
	return outcomes
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
