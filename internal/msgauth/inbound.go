package msgauth

import (
	"context"
	"log/slog"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/observe"
)

// EventMsgAuth is the event log's kind for the checks of one inbound
// message (attrs: remote, from, spf, dkim, dmarc, action).
const EventMsgAuth = "MSGAUTH"

// Inbound is the policy of inbound SMTP: the checks, the authserv-id of
// the Authentication-Results field, and what is refused.
type Inbound struct {
	Checker *Checker
	// AuthservID names us in Authentication-Results (RFC 8601 §2.5): the
	// Hostname.
	AuthservID string
	// DMARCReject refuses at DATA, with 550 5.7.1, a message that fails
	// DMARC when the From domain's policy is p=reject (Dmarc-Reject).
	DMARCReject bool
	Events      *observe.EventLog
	Logger      *slog.Logger
}

// Decision is what Inbound decides for one message: the header field to
// add, or the reply refusing it.
type Decision struct {
	Header string
	Refuse *smtp.SMTPError
}

// Replies of Decide.
var (
	// RFC 7489 §10.3 suggests 5.7.1 for a DMARC rejection.
	errDMARCReject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "Message rejected: it fails the DMARC policy (p=reject) of its From domain"}
	// RFC 3463 4.4.3: a directory (DNS) failure; the sender retries.
	errTemp = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 3},
		Message: "Temporary DNS failure checking SPF/DKIM/DMARC; try again later"}
)

// Decide checks one message and decides: a DMARC fail under p=reject is
// refused when DMARCReject is on; a DMARC temperror (the policy could not
// be found, or no check passed and one could not finish) is deferred with
// 451 unless the domain's policy is known to be p=none, so that a DNS
// failure is never taken for a pass (docs/mail-auth.md); everything else
// gets its Authentication-Results field.
func (ib *Inbound) Decide(ctx context.Context, in Input) Decision {
	res := ib.Checker.Check(ctx, in)
	d := Decision{Header: Header(ib.AuthservID, res)}
	action := "accept"
	switch {
	case res.DMARC.Result == ResultFail && res.DMARC.Policy == dmarc.PolicyReject && ib.DMARCReject:
		d.Refuse, action = errDMARCReject, "reject"
	case res.DMARC.Result == ResultTempError && res.DMARC.Policy != dmarc.PolicyNone:
		d.Refuse, action = errTemp, "tempfail"
	}
	ib.record(in, res, action)
	return d
}

// record feeds the metrics, the event log and the log.
func (ib *Inbound) record(in Input, res Results, action string) {
	checkResults.WithLabelValues("spf", res.SPF).Inc()
	dkims := make([]string, 0, len(res.DKIM))
	for _, d := range res.DKIM {
		checkResults.WithLabelValues("dkim", d.Result).Inc()
		dkims = append(dkims, d.Result+":"+d.Domain)
	}
	if len(res.DKIM) == 0 {
		checkResults.WithLabelValues("dkim", ResultNone).Inc()
	}
	checkResults.WithLabelValues("dmarc", res.DMARC.Result).Inc()
	checkActions.WithLabelValues(action).Inc()
	attrs := []slog.Attr{slog.String("remote", in.IP.String()), slog.String("mail_from", in.MailFrom),
		slog.String("from_domain", res.DMARC.From), slog.String("spf", res.SPF),
		slog.String("dkim", strings.Join(dkims, ",")), slog.String("dmarc", res.DMARC.Result),
		slog.String("policy", string(res.DMARC.Policy)), slog.String("action", action)}
	if ib.Events != nil {
		ib.Events.Event(EventMsgAuth, attrs...)
	}
	if ib.Logger != nil {
		ib.Logger.LogAttrs(context.Background(), slog.LevelInfo, "message authentication", attrs...)
	}
}
