package queue

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/delivery"
)

// outcome is the result of one attempt for one recipient.
type outcome struct {
	err    error
	perm   bool
	status string // enhanced status code, e.g. "5.1.1"
}

// attempt tries every pending recipient of e once, then records the
// results, sends DSNs and reschedules or removes the message.
func (q *Queue) attempt(ctx context.Context, e *envelope) {
	log := q.opts.Logger.With("queue_id", e.ID)
	pending := e.pending()
	routes := map[string][]*rcptState{}
	var order []string
	for _, r := range pending {
		key := domainOf(r.Addr)
		switch {
		case q.opts.IsLocal(key):
			key = "local"
		case q.opts.Relay != nil:
			key = "relay"
		}
		if _, ok := routes[key]; !ok {
			order = append(order, key)
		}
		routes[key] = append(routes[key], r)
	}
	results := map[*rcptState]outcome{}
	for _, key := range order {
		rcpts := routes[key]
		if key == "local" {
			q.deliverLocal(ctx, e, rcpts, results)
			continue
		}
		for r, o := range q.deliverSMTP(ctx, e, key, rcpts) {
			results[r] = o
		}
	}
	q.record(ctx, e, results, log)
}

// record applies the results to e, reports failures and delays, and
// persists or removes e.
func (q *Queue) record(ctx context.Context, e *envelope, results map[*rcptState]outcome, log *slog.Logger) {
	now := q.opts.Clock()
	e.Attempts++
	expired := now.Sub(e.Created) >= q.opts.Lifetime
	for r, o := range results {
		r.Updated = now
		switch {
		case o.err == nil:
			r.State, r.LastError, r.Status = stateDone, "", ""
			attempts.WithLabelValues("delivered").Inc()
			log.Info("delivered", "rcpt", r.Addr)
		case o.perm:
			r.State, r.LastError, r.Status = stateFailed, o.err.Error(), o.status
			attempts.WithLabelValues("failed").Inc()
			log.Info("delivery failed permanently", "rcpt", r.Addr, "err", o.err)
		default:
			r.LastError, r.Status = o.err.Error(), o.status
			attempts.WithLabelValues("deferred").Inc()
			log.Info("delivery deferred", "rcpt", r.Addr, "err", o.err, "attempt", e.Attempts)
		}
	}
	if expired {
		for _, r := range e.pending() {
			r.State = stateFailed
			r.LastError = "delivery time expired; last error: " + r.LastError
			r.Status = "4.4.7"
		}
	}
	q.report(ctx, e, log)
	// The outcome is written even when ctx ended mid-attempt (shutdown):
	// what was delivered must not be sent again.
	wctx := context.WithoutCancel(ctx)
	if e.finished() {
		if err := q.store.QueueRemove(wctx, e.ID, q.opts.Owner); err != nil {
			log.Error("remove delivered message", "err", err)
			return
		}
		queueSize.Dec()
		log.Info("queued message done")
		return
	}
	e.NextAttempt = now.Add(q.backoff(e.Attempts))
	b, err := json.Marshal(e)
	if err == nil {
		err = q.store.QueueRelease(wctx, e.ID, q.opts.Owner, b, e.NextAttempt)
	}
	if err != nil {
		log.Error("update envelope", "err", err)
	}
}

// report sends one failure DSN for newly failed recipients, once a
// delay DSN, and a success DSN for recipients that asked for one
// (RFC 3461 NOTIFY; a recipient with NOTIFY=NEVER or without FAILURE is
// marked reported without a notice). A message with a null sender is
// never reported on.
func (q *Queue) report(ctx context.Context, e *envelope, log *slog.Logger) {
	if e.From == "" {
		return
	}
	var failed, succeeded, relayed []*rcptState
	for _, r := range e.Rcpts {
		switch {
		case r.Reported:
		case r.State == stateFailed && !r.wants("FAILURE"):
			r.Reported = true
		case r.State == stateFailed:
			failed = append(failed, r)
		case r.State == stateDone && r.wants("SUCCESS") && q.opts.IsLocal != nil && q.opts.IsLocal(domainOf(r.Addr)):
			succeeded = append(succeeded, r)
		case r.State == stateDone && r.wants("SUCCESS"):
			relayed = append(relayed, r)
		}
	}
	q.notify(ctx, e, failed, actionFailed, log)
	q.notify(ctx, e, succeeded, actionDelivered, log)
	q.notify(ctx, e, relayed, actionRelayed, log)
	var pending []*rcptState
	for _, r := range e.pending() {
		if r.wants("DELAY") {
			pending = append(pending, r)
		}
	}
	if q.opts.DelayWarning > 0 && !e.DelayNotified && len(pending) > 0 &&
		q.opts.Clock().Sub(e.Created) >= q.opts.DelayWarning {
		if err := q.sendDSN(ctx, e, pending, actionDelayed); err != nil {
			log.Error("send delay notice", "err", err)
		} else {
			e.DelayNotified = true
		}
	}
}

// notify sends one DSN of action about rcpts and marks them reported.
// A failure notice that cannot be queued is tried again later; a success
// notice is not (the message itself went).
func (q *Queue) notify(ctx context.Context, e *envelope, rcpts []*rcptState, action string, log *slog.Logger) {
	if len(rcpts) == 0 {
		return
	}
	if err := q.sendDSN(ctx, e, rcpts, action); err != nil {
		log.Error("send delivery status notice", "action", action, "err", err)
		if action == actionFailed {
			return
		}
	}
	for _, r := range rcpts {
		r.Reported = true
	}
}

// deliverLocal hands local recipients to the delivery path.
func (q *Queue) deliverLocal(ctx context.Context, e *envelope, rcpts []*rcptState, results map[*rcptState]outcome) {
	for _, r := range rcpts {
		if q.opts.DeliverLocal == nil {
			results[r] = outcome{err: errors.New("local delivery not available"), status: "4.3.0"}
			continue
		}
		f, err := q.store.QueueBody(ctx, e.ID)
		if err != nil {
			results[r] = outcome{err: err, status: "4.3.0"}
			continue
		}
		perm, err := q.opts.DeliverLocal(ctx, e.From, r.Addr, f)
		f.Close()
		status := "4.2.0"
		if perm {
			// The class of a known failure (5.2.2 for a full mailbox),
			// else the unknown-user code.
			status = "5.1.1"
			if s := delivery.Status(err); s != "" {
				status = s
			}
		}
		results[r] = outcome{err: err, perm: perm && err != nil, status: status}
	}
}

// deliverSMTP sends to the relay or to the MX hosts of one domain, trying
// each host in turn until one gives transaction-level answers.
func (q *Queue) deliverSMTP(ctx context.Context, e *envelope, route string, rcpts []*rcptState) map[*rcptState]outcome {
	all := func(o outcome) map[*rcptState]outcome {
		m := map[*rcptState]outcome{}
		for _, r := range rcpts {
			m[r] = o
		}
		return m
	}
	var hosts []string
	verify := false
	if route == "relay" {
		hosts = []string{q.opts.Relay.Addr}
	} else {
		mxs, err := q.opts.LookupMX(ctx, route)
		if errors.Is(err, ErrNullMX) {
			return all(outcome{err: err, perm: true, status: "5.1.10"})
		}
		if err != nil {
			return all(outcome{err: fmt.Errorf("look up MX of %s: %w", route, err), status: "4.4.3"})
		}
		if mxs, verify = q.applySTS(ctx, e, route, mxs); len(mxs) == 0 {
			return all(outcome{err: fmt.Errorf("no MX host of %s matches its MTA-STS policy", route), status: "4.7.5"})
		}
		for _, h := range mxs {
			hosts = append(hosts, net.JoinHostPort(h, strconv.Itoa(q.opts.Port)))
		}
	}
	var lastErr error
	for _, addr := range hosts {
		res, err := q.sendTo(ctx, addr, route == "relay", verify, e, rcpts)
		if err == nil {
			return res
		}
		lastErr = err
		q.opts.Logger.Info("mail host unusable", "queue_id", e.ID, "host", addr, "err", err)
	}
	return all(classify(lastErr))
}

// sendTo runs one SMTP transaction. A non-nil error means the host could
// not be used at all (connection, greeting, TLS, AUTH), so the next host
// may be tried.
func (q *Queue) sendTo(ctx context.Context, addr string, relay, verify bool, e *envelope, rcpts []*rcptState) (map[*rcptState]outcome, error) {
	c, err := q.dial(ctx, addr, relay, verify)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if relay && q.opts.Relay.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", q.opts.Relay.Username, q.opts.Relay.Password)); err != nil {
			return nil, fmt.Errorf("relay AUTH: %w", err)
		}
	}
	out := map[*rcptState]outcome{}
	opts := &smtp.MailOptions{Size: e.Size, UTF8: needsUTF8(e, rcpts)}
	if err := c.Mail(e.From, opts); err != nil {
		o := classify(err)
		for _, r := range rcpts {
			out[r] = o
		}
		return out, nil
	}
	var accepted []*rcptState
	for _, r := range rcpts {
		if err := c.Rcpt(r.Addr, nil); err != nil {
			out[r] = classify(err)
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		c.Quit()
		return out, nil
	}
	derr := q.sendData(ctx, c, e.ID)
	o := outcome{}
	if derr != nil {
		o = classify(derr)
	}
	for _, r := range accepted {
		out[r] = o
	}
	c.Quit()
	return out, nil
}

func (q *Queue) sendData(ctx context.Context, c *smtp.Client, id string) error {
	f, err := q.store.QueueBody(ctx, id)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// dial connects and greets: the relay with its TLS mode, an MX with
// opportunistic STARTTLS (unverified, as RFC 7435 allows), or, under an
// enforced MTA-STS policy (verify), with STARTTLS required and the
// certificate verified for the MX name (RFC 8461 §4.2).
func (q *Queue) dial(ctx context.Context, addr string, relay, verify bool) (*smtp.Client, error) {
	host, _, _ := net.SplitHostPort(addr)
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	var c *smtp.Client
	switch {
	case relay && q.opts.Relay.TLS == RelayImplicit:
		c = smtp.NewClient(tls.Client(conn, q.relayTLS(host)))
	case relay && q.opts.Relay.TLS == RelayStartTLS:
		c, err = smtp.NewClientStartTLS(conn, q.relayTLS(host))
	case relay:
		c = smtp.NewClient(conn)
	case verify:
		c, err = smtp.NewClientStartTLS(conn, &tls.Config{ServerName: host, RootCAs: q.opts.RootCAs})
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("MTA-STS requires verified TLS: %w", err)
		}
	default:
		c, err = smtp.NewClientStartTLS(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // opportunistic
		if err != nil && !isNetError(err) {
			// No STARTTLS (or a failed handshake): go on in clear text.
			conn, err = d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			c = smtp.NewClient(conn)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := c.Hello(q.opts.Hostname); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (q *Queue) relayTLS(host string) *tls.Config {
	if q.opts.Relay.TLSConfig != nil {
		return q.opts.Relay.TLSConfig
	}
	return &tls.Config{ServerName: host}
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// classify turns an SMTP or network error into an outcome.
func classify(err error) outcome {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		status := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		if se.EnhancedCode == smtp.EnhancedCodeNotSet || se.EnhancedCode[0] <= 0 {
			status = fmt.Sprintf("%d.0.0", se.Code/100)
		}
		return outcome{err: fmt.Errorf("%d %s %s", se.Code, status, se.Message), perm: se.Code >= 500, status: status}
	}
	if err == nil {
		err = errors.New("no mail host")
	}
	return outcome{err: err, status: "4.4.1"}
}

// needsUTF8 reports whether the envelope needs SMTPUTF8.
func needsUTF8(e *envelope, rcpts []*rcptState) bool {
	s := e.From
	for _, r := range rcpts {
		s += r.Addr
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// applySTS applies the domain's MTA-STS policy to its MX hosts: enforce
// keeps the matching ones and asks for verified TLS; testing logs the
// ones that would have been refused (RFC 8461 §5).
func (q *Queue) applySTS(ctx context.Context, e *envelope, domain string, mxs []string) ([]string, bool) {
	if q.opts.MTASTS == nil {
		return mxs, false
	}
	p := q.opts.MTASTS(ctx, domain)
	if p == nil {
		return mxs, false
	}
	var ok []string
	for _, mx := range mxs {
		if p.Match(mx) {
			ok = append(ok, mx)
		} else {
			q.opts.Logger.Info("mx not in mta-sts policy", "queue_id", e.ID, "domain", domain, "mx", mx, "enforce", p.Enforce)
		}
	}
	if !p.Enforce {
		return mxs, false
	}
	return ok, true
}
