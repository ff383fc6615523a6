package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// DSN actions (RFC 3464 §2.3.3).
const (
	actionFailed  = "failed"
	actionDelayed = "delayed"
)

// maxReturnedHeader bounds the original header returned in a DSN.
const maxReturnedHeader = 64 << 10

// sendDSN queues a delivery status notification to e's sender about
// rcpts, with a null reverse-path so that it can never bounce back.
func (q *Queue) sendDSN(ctx context.Context, e *envelope, rcpts []*rcptState, action string) error {
	msg, err := q.buildDSN(e, rcpts, action)
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
func (q *Queue) buildDSN(e *envelope, rcpts []*rcptState, action string) ([]byte, error) {
	now := q.opts.Clock()
	host := q.opts.Hostname
	boundary := "=_dsn_" + strings.ToLower(rand.Text())
	subject := "Undelivered Mail Returned to Sender"
	intro := "Your message could not be delivered to the recipients below. This is a permanent error;\r\nthe message will not be retried."
	if action == actionDelayed {
		subject = "Delayed Mail (still being retried)"
		intro = fmt.Sprintf("Your message has not yet been delivered to the recipients below. It is still\r\nbeing retried, and will be returned if it cannot be delivered by %s.",
			e.Created.Add(q.opts.Lifetime).Format(time.RFC1123Z))
	}
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
		fmt.Fprintf(&b, "<%s>: %s\r\n", r.Addr, oneLine(r.LastError))
	}
	b.WriteString("\r\n")

	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\nX-Postern-Queue-ID: %s\r\nArrival-Date: %s\r\n", host, e.ID, e.Created.Format(time.RFC1123Z))
	for _, r := range rcpts {
		status := r.Status
		if status == "" {
			status = "4.0.0"
		}
		if action == actionFailed && status[0] == '4' && status != "4.4.7" {
			status = "5" + status[1:]
		}
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n", r.Addr, action, status)
		if r.LastError != "" {
			fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.LastError))
		}
		fmt.Fprintf(&b, "Last-Attempt-Date: %s\r\n", r.Updated.Format(time.RFC1123Z))
		if action == actionDelayed {
			fmt.Fprintf(&b, "Will-Retry-Until: %s\r\n", e.Created.Add(q.opts.Lifetime).Format(time.RFC1123Z))
		}
	}
	b.WriteString("\r\n")

	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary)
	hdr, err := q.originalHeader(e.ID)
	if err != nil {
		return nil, err
	}
	b.Write(hdr)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// originalHeader returns the header block of a queued message, CRLF-ended.
func (q *Queue) originalHeader(id string) ([]byte, error) {
	f, err := os.Open(q.disk.msgPath(id))
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
