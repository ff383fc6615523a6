package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"time"
)

// DSN actions (RFC 3464 §2.3.3).
const (
	actionFailed    = "failed"
	actionDelayed   = "delayed"
	actionDelivered = "delivered" // RFC 3461 NOTIFY=SUCCESS, local recipient
	actionRelayed   = "relayed"   // NOTIFY=SUCCESS, handed to a host that was not asked for DSNs
)

// maxReturnedHeader bounds the original header returned in a DSN;
// maxReturnedFull the original message returned whole (RET=FULL, failures
// only): a larger one is returned as its header.
const (
	maxReturnedHeader = 64 << 10
	maxReturnedFull   = 10 << 20
)

// sendDSN queues a delivery status notification to e's sender about
// rcpts, with a null reverse-path so that it can never bounce back.
func (q *Queue) sendDSN(ctx context.Context, e *envelope, rcpts []*rcptState, action string) error {
	msg, err := q.buildDSN(ctx, e, rcpts, action)
	if err != nil {
		return err
	}
	if _, err := q.Enqueue(ctx, "", []string{e.From}, bytes.NewReader(msg)); err != nil {
		return err
	}
	dsnsSent.WithLabelValues(action).Inc()
	return nil
}

// buildDSN writes a multipart/report (RFC 3462) with a human-readable
// part, the message/delivery-status part (RFC 3464) and the original
// header (text/rfc822-headers).
func (q *Queue) buildDSN(ctx context.Context, e *envelope, rcpts []*rcptState, action string) ([]byte, error) {
	now := q.opts.Clock()
	host := q.opts.Hostname
	boundary := "=_dsn_" + strings.ToLower(rand.Text())
	subject, intro := dsnText(e, q.opts.Lifetime, action)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host)
	fmt.Fprintf(&b, "To: <%s>\r\n", e.From)
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s.dsn@%s>\r\n", strings.ToLower(rand.Text()[:16]), host)
	b.WriteString("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	b.WriteString("This is a MIME-encapsulated delivery status notification.\r\n\r\n")

	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", boundary)
	fmt.Fprintf(&b, "This is the mail system at %s.\r\n\r\n%s\r\n\r\n", host, intro)
	for _, r := range rcpts {
		if r.LastError == "" {
			fmt.Fprintf(&b, "<%s>\r\n", r.Addr)
			continue
		}
		fmt.Fprintf(&b, "<%s>: %s\r\n", r.Addr, oneLine(r.LastError))
	}
	b.WriteString("\r\n")

	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\n", host)
	if e.EnvID != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\r\n", oneLine(e.EnvID)) // RFC 3464 §2.2.1
	}
	fmt.Fprintf(&b, "X-Postern-Queue-ID: %s\r\nArrival-Date: %s\r\n", e.ID, e.Created.Format(time.RFC1123Z))
	for _, r := range rcpts {
		b.WriteString("\r\n")
		if r.ORcpt != "" {
			fmt.Fprintf(&b, "Original-Recipient: %s\r\n", oneLine(strings.Replace(r.ORcpt, ";", "; ", 1))) // §2.3.1
		}
		fmt.Fprintf(&b, "Final-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n", r.Addr, action, dsnStatus(r, action))
		if r.LastError != "" && action != actionDelivered && action != actionRelayed {
			fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.LastError))
		}
		fmt.Fprintf(&b, "Last-Attempt-Date: %s\r\n", r.Updated.Format(time.RFC1123Z))
		if action == actionDelayed {
			fmt.Fprintf(&b, "Will-Retry-Until: %s\r\n", e.Created.Add(q.opts.Lifetime).Format(time.RFC1123Z))
		}
	}
	b.WriteString("\r\n")

	if err := q.writeReturned(ctx, &b, e, action, boundary); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// dsnText is the subject and the human-readable introduction of a DSN.
func dsnText(e *envelope, lifetime time.Duration, action string) (subject, intro string) {
	switch action {
	case actionDelayed:
		return "Delayed Mail (still being retried)", fmt.Sprintf("Your message has not yet been delivered to the recipients below. It is still\r\nbeing retried, and will be returned if it cannot be delivered by %s.",
			e.Created.Add(lifetime).Format(time.RFC1123Z))
	case actionDelivered:
		return "Successful Mail Delivery Report", "Your message was delivered to the recipients below, as you asked."
	case actionRelayed:
		return "Successful Mail Delivery Report", "Your message was handed to the recipients' mail servers, as you asked. They\r\nwere not asked for further notices."
	}
	return "Undelivered Mail Returned to Sender", "Your message could not be delivered to the recipients below. This is a permanent error;\r\nthe message will not be retried."
}

// dsnStatus is a recipient's Status field (RFC 3463).
func dsnStatus(r *rcptState, action string) string {
	switch action {
	case actionDelivered:
		return "2.1.5"
	case actionRelayed:
		return "2.0.0"
	}
	status := r.Status
	if status == "" {
		status = "4.0.0"
	}
	if action == actionFailed && status[0] == '4' && status != "4.4.7" {
		status = "5" + status[1:]
	}
	return status
}

// writeReturned writes the third part: the whole message (message/rfc822)
// when the sender asked RET=FULL and this is a failure, within
// maxReturnedFull; else its header (text/rfc822-headers, RFC 3461 §4.3).
func (q *Queue) writeReturned(ctx context.Context, b *bytes.Buffer, e *envelope, action, boundary string) error {
	if e.Ret == "FULL" && action == actionFailed && e.Size <= maxReturnedFull {
		f, err := q.store.QueueBody(ctx, e.ID)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "--%s\r\nContent-Type: message/rfc822\r\n\r\n", boundary)
		b.Write(data)
		if !bytes.HasSuffix(data, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
		return nil
	}
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary)
	hdr, err := q.originalHeader(ctx, e.ID)
	if err != nil {
		return err
	}
	b.Write(hdr)
	return nil
}

// originalHeader returns the header block of a queued message, CRLF-ended.
func (q *Queue) originalHeader(ctx context.Context, id string) ([]byte, error) {
	f, err := q.store.QueueBody(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, maxReturnedHeader))
	if err != nil {
		return nil, err
	}
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i+2]
	} else if i := bytes.LastIndex(head, []byte("\r\n")); i >= 0 {
		head = head[:i+2]
	}
	return head, nil
}

// oneLine makes an error text safe for one header or report line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 900 {
		s = s[:900]
	}
	return s
}
