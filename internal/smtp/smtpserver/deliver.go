package smtpserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/store"
)

// message is a received message: the spooled data as the client sent it,
// the header fields we prepend (Received, and in submission a missing Date
// or Message-ID) and the header fields an Inspector removed.
type message struct {
	sp      *spool
	added   string // Date/Message-ID added in submission
	prepend string // everything prepended for delivery: Received + added + inspector's
	drop    []span // octet ranges of the spool left out of delivery, ascending
}

func (m *message) Close() error { return m.sp.Close() }

// content returns a reader over the message as delivered.
func (m *message) content() io.Reader {
	parts := []io.Reader{strings.NewReader(m.prepend)}
	at := int64(0)
	for _, d := range m.drop {
		parts = append(parts, io.NewSectionReader(m.sp.ReaderAt(), at, int64(d.start)-at))
		at = int64(d.end)
	}
	parts = append(parts, io.NewSectionReader(m.sp.ReaderAt(), at, m.sp.Size()-at))
	return io.MultiReader(parts...)
}

// inspect runs the Inspector seam, if any.
func (ss *session) inspect(msg *message) error {
	if ss.s.opts.Inspect == nil {
		return nil
	}
	env := Envelope{Mode: ss.s.opts.Mode, Helo: ss.conn.Hostname(), Remote: remoteNetAddr(ss.conn.Conn()),
		Account: ss.account, From: ss.tx.from}
	for _, r := range ss.tx.rcpts {
		env.To = append(env.To, r.addr)
	}
	open := func() io.Reader { return io.MultiReader(strings.NewReader(msg.added), msg.sp.Reader()) }
	res, err := ss.s.opts.Inspect(context.Background(), env, open)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			ss.log.Info("message refused by inspection", "tx", ss.tx.id, "reply", se.Code)
			return se
		}
		return ss.internal("inspect message", err)
	}
	msg.prepend += res.Prepend
	if res.Drop != nil {
		for _, f := range headerFields(msg.sp.Head(), int64(len(msg.sp.Head())) == msg.sp.Size()) {
			if res.Drop(f.name, f.value) {
				msg.drop = append(msg.drop, span{f.start, f.end})
			}
		}
	}
	return nil
}

func remoteNetAddr(c net.Conn) net.Addr { return c.RemoteAddr() }

// missingHeaders returns a Date and a Message-ID field for a submitted
// message that lacks them (RFC 6409 §8.2, §8.3).
func (ss *session) missingHeaders(head []byte) string {
	hasDate, hasID := headerPresence(head)
	var b strings.Builder
	if !hasID {
		b.WriteString("Message-ID: <" + newID() + "." + ss.tx.id + "@" + ss.s.opts.Hostname + ">\r\n")
	}
	if !hasDate {
		b.WriteString("Date: " + ss.s.opts.Clock().Format(time.RFC1123Z) + "\r\n")
	}
	return b.String()
}

// headerPresence scans the header block at the start of head for Date and
// Message-ID fields. A header block longer than head is assumed to have
// both: we never add a second one.
func headerPresence(head []byte) (date, msgID bool) {
	end := bytes.Index(head, []byte("\r\n\r\n"))
	if end < 0 {
		if len(head) >= headLimit {
			return true, true
		}
		end = len(head)
	}
	for _, line := range bytes.Split(head[:end], []byte("\r\n")) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(string(name))) {
		case "date":
			date = true
		case "message-id":
			msgID = true
		}
	}
	return date, msgID
}

// deliver hands the message to every recipient's targets and returns one
// outcome per recipient. Local targets go through delivery (once per
// account even when several recipients resolve to it); remote targets go
// to the queue in one envelope.
func (ss *session) deliver(msg *message) []error {
	ctx := context.Background()
	outcomes := make([]error, len(ss.tx.rcpts))
	byAccount := map[string]error{}
	var remote, forward []string
	var remoteOf, forwardOf []int
	queued := 0
	for i, rc := range ss.tx.rcpts {
		for _, t := range rc.targets {
			if t.Remote != "" && t.Forward {
				forward = append(forward, t.Remote)
				forwardOf = append(forwardOf, i)
				continue
			}
			if t.Remote != "" {
				remote = append(remote, t.Remote)
				remoteOf = append(remoteOf, i)
				continue
			}
			err, done := byAccount[t.Account]
			if !done {
				err = ss.deliverLocal(ctx, t.Account, rc.addr, msg)
				byAccount[t.Account] = err
			}
			if err != nil && outcomes[i] == nil {
				outcomes[i] = err
			}
		}
	}
	queued += ss.enqueue(ctx, ss.tx.from, remote, remoteOf, msg, outcomes)
	queued += ss.enqueue(ctx, ss.forwardSender(), forward, forwardOf, msg, outcomes)
	ss.count(outcomes)
	ss.countStats(msg, byAccount, queued, outcomes)
	if ss.s.opts.Mode == ModeSubmission && ss.s.opts.SaveSent && !allFailed(outcomes) {
		ss.saveSent(ctx, msg)
	}
	return outcomes
}

// enqueue hands the message to the queue for rcpts, with sender from,
// and records a failure on the recipients of, which rcpts come from. It
// returns how many recipients were queued.
func (ss *session) enqueue(ctx context.Context, from string, rcpts []string, of []int, msg *message, outcomes []error) int {
	if len(rcpts) == 0 {
		return 0
	}
	id, err := ss.enqueueDSN(ctx, from, rcpts, of, msg)
	if err != nil {
		ss.log.Error("enqueue failed", "tx", ss.tx.id, "err", err)
		err = errTryAgain
	} else {
		ss.log.Info("message queued", "tx", ss.tx.id, "queue_id", id, "rcpts", len(rcpts), "from", from)
	}
	for _, i := range of {
		if err != nil && outcomes[i] == nil {
			outcomes[i] = err
		}
	}
	if err != nil {
		return 0
	}
	return len(rcpts)
}

// enqueueDSN queues with the sender's RFC 3461 requests when the
// transaction has any and the queue takes them (submission), else
// plainly. of maps each of rcpts to its transaction recipient.
func (ss *session) enqueueDSN(ctx context.Context, from string, rcpts []string, of []int, msg *message) (string, error) {
	dq, ok := ss.s.opts.Queue.(DSNQueue)
	if !ok || ss.s.opts.Mode != ModeSubmission {
		return ss.s.opts.Queue.Enqueue(ctx, from, rcpts, msg.content())
	}
	var req DSNRequest
	if o := ss.tx.opts; o != nil {
		req = DSNRequest{Ret: string(o.Return), EnvID: o.EnvelopeID}
	}
	out := make([]DSNRecipient, len(rcpts))
	for i, r := range rcpts {
		out[i] = DSNRecipient{Addr: r}
		if o := ss.tx.rcpts[of[i]].opts; o != nil {
			for _, n := range o.Notify {
				out[i].Notify = append(out[i].Notify, string(n))
			}
			if o.OriginalRecipient != "" {
				out[i].ORcpt = string(o.OriginalRecipientType) + ";" + o.OriginalRecipient
			}
		}
	}
	return dq.EnqueueDSN(ctx, from, req, out, msg.content())
}

// forwardSender is the envelope sender of mail an alias forwards
// off-site: the original sender rewritten by SRS (SRS0 form) when SRS is
// configured, so that SPF at the far end checks our domain, not the
// original sender's; the null sender stays null (a bounce being
// forwarded must not be bounced in turn).
func (ss *session) forwardSender() string {
	from := ss.tx.from
	if ss.s.opts.SRS == nil || from == "" {
		return from
	}
	rewritten, err := ss.s.opts.SRS.Forward(from, ss.s.opts.Clock())
	if err != nil {
		ss.log.Warn("srs rewrite failed; forwarding with the original sender", "tx", ss.tx.id, "err", err)
		return from
	}
	return rewritten
}

// deliverLocal is a final delivery: the envelope lets the recipient's
// Sieve script run (docs/sieve.md).
func (ss *session) deliverLocal(ctx context.Context, account, rcpt string, msg *message) error {
	res, err := ss.s.opts.Deliverer.Deliver(ctx, delivery.Request{Account: account, Content: msg.content(),
		Envelope: &delivery.Envelope{From: ss.tx.from, To: rcpt}})
	if err != nil {
		ss.log.Info("delivery failed", "tx", ss.tx.id, "user", account, "err", err, "permanent", delivery.Permanent(err))
		return err
	}
	ss.log.Info("message delivered", "tx", ss.tx.id, "user", res.Account, "mailbox", res.Mailbox, "uid", res.UID, "size", res.Size)
	return nil
}

// saveSent keeps the sender's copy (Save-Sent): the message as submitted,
// with any Date/Message-ID we added, without our Received header. A
// failure is logged: the message itself has gone.
func (ss *session) saveSent(ctx context.Context, msg *message) {
	content := io.MultiReader(strings.NewReader(msg.added), msg.sp.Reader())
	res, err := ss.s.opts.Deliverer.Deliver(ctx, delivery.Request{
		Account: ss.account, Mailbox: store.MailboxSent, Content: content, Flags: store.Flags{store.FlagSeen},
	})
	if err != nil {
		ss.log.Warn("save to Sent failed", "tx", ss.tx.id, "user", ss.account, "err", err)
		return
	}
	ss.log.Debug("saved to sent", "tx", ss.tx.id, "mailbox", res.Mailbox, "uid", res.UID)
}

func allFailed(outcomes []error) bool {
	for _, o := range outcomes {
		if o == nil {
			return false
		}
	}
	return true
}

// countStats feeds the ctl stats counters: the message, its local
// deliveries (one per account reached), its queued remote recipients and
// its failed recipients.
func (ss *session) countStats(msg *message, byAccount map[string]error, queued int, outcomes []error) {
	st := ss.s.opts.Stats
	if st == nil {
		return
	}
	st.Received(int64(len(msg.prepend)) + msg.sp.Size())
	delivered := 0
	for _, err := range byAccount {
		if err == nil {
			delivered++
		}
	}
	failed := 0
	for _, o := range outcomes {
		if o != nil {
			failed++
		}
	}
	st.Delivered(delivered)
	st.Queued(queued)
	st.FailedRecipients(failed)
}

// count feeds deliveries_total.
func (ss *session) count(outcomes []error) {
	for _, o := range outcomes {
		result := "ok"
		switch {
		case o == nil:
		case delivery.Permanent(o) || isPermanentReply(o):
			result = "rejected"
		default:
			result = "deferred"
		}
		ss.s.metrics.deliveries.WithLabelValues(result).Inc()
	}
}

func isPermanentReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code/100 == 5
}

// combine turns per-recipient outcomes into SMTP's single reply. When all
// succeeded: 250. When all failed: the failure (temporary if any was).
// When some failed after others were stored, a 4xx would make the client
// resend to everyone and duplicate the stored copies, so the failed
// recipients go to the queue, which retries them or bounces with a DSN;
// without a queue we answer 451 and log the duplicates risk.
func (ss *session) combine(msg *message, outcomes []error) error {
	var failed []string
	var firstTemp, firstPerm error
	for i, o := range outcomes {
		if o == nil {
			continue
		}
		failed = append(failed, ss.tx.rcpts[i].addr)
		r := ss.outcomeReply(o)
		if isPermanentReply(r) && firstPerm == nil {
			firstPerm = r
		} else if !isPermanentReply(r) && firstTemp == nil {
			firstTemp = r
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(failed) < len(outcomes) && ss.s.opts.Queue != nil:
		if _, err := ss.s.opts.Queue.Enqueue(context.Background(), ss.tx.from, failed, msg.content()); err == nil {
			ss.log.Info("failed recipients queued for retry", "tx", ss.tx.id, "rcpts", len(failed))
			return nil
		}
		ss.log.Warn("partial delivery; recipients that got the message may get it again", "tx", ss.tx.id)
		return errTryAgain
	case firstTemp != nil:
		return firstTemp
	}
	return firstPerm
}
