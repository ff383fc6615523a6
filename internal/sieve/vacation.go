package sieve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Limits of vacation's :days (RFC 5230 §4.1: a site may bound it; 0 is
// raised to the minimum).
const (
	minVacationDays = 1
	maxVacationDays = 365
)

// vacation is a compiled vacation command (RFC 5230 §4).
type vacation struct {
	days      int
	subject   string
	hasSubj   bool
	from      string
	addresses []string
	mime      bool
	handle    string
	reason    string
}

// Reply is a vacation response the delivery should send, once per
// sender and handle within Days (RFC 5230 §4.2).
type Reply struct {
	// To is the envelope sender of the message being answered.
	To string
	// Handle identifies the response for the once-per-Days rule.
	Handle string
	// Days is how long one answer covers a sender.
	Days int
	// From is the From field of the reply: :from, else the recipient.
	From string
	// Subject is the reply's subject.
	Subject string
	// Body is the reason; with MIME set it is a MIME entity, header
	// included (RFC 5230 §4.4).
	Body string
	MIME bool
	// InReplyTo is the answered message's Message-ID, if any.
	InReplyTo string
	// References continues the answered message's References.
	References string
}

var vacationTags = map[string]tagSpec{
	"days": {value: argNumber}, "subject": {value: argString}, "from": {value: argString},
	"addresses": {value: argStringList}, "mime": {}, "handle": {value: argString},
}

func (c *compiler) vacation(cmd *Command) (node, error) {
	tags, pos, err := c.splitArgs("vacation", cmd.Line, cmd.Args, vacationTags)
	if err != nil {
		return nil, err
	}
	if err := positional("vacation", cmd.Line, pos, argString); err != nil {
		return nil, err
	}
	v := vacation{days: 7, reason: pos[0].Strings[0], mime: tags.has("mime")}
	if a, ok := tags.set["days"]; ok {
		v.days = int(min(max(a.Number, minVacationDays), maxVacationDays))
	}
	v.subject, v.hasSubj = tags.str("subject"), tags.has("subject")
	v.from = tags.str("from")
	if a, ok := tags.set["addresses"]; ok {
		v.addresses = a.Strings
	}
	v.handle = tags.str("handle")
	if !tags.has("handle") {
		// RFC 5230 §4.2: without :handle, responses that differ in
		// :subject, :from, :mime or the reason are different responses.
		sum := sha256.Sum256([]byte(fmt.Sprintf("%q %q %v %q", v.subject, v.from, v.mime, v.reason)))
		v.handle = hex.EncodeToString(sum[:12])
	}
	return vacationNode(v), nil
}

// vacation decides whether this message may be answered at all
// (RFC 5230 §4.5, §5); the once-per-days rule is the delivery's, which
// keeps the record.
func (r *run) vacation(v vacation) error {
	for _, a := range r.res.Actions {
		if a.Kind == ActVacation {
			return &RuntimeError{Msg: "vacation used twice"} // RFC 5230 §4.7
		}
	}
	if !r.mayAnswer(v) {
		return nil
	}
	subject := r.x(v.subject)
	if !v.hasSubj {
		// RFC 5230 §4.3: the default is "Auto:" and the original subject.
		orig := r.in.Header.values("subject")
		subject = "Auto: "
		if len(orig) > 0 {
			subject += orig[0]
		}
	}
	from := r.x(v.from)
	if from == "" {
		from = r.in.Envelope.To
	}
	reply := &Reply{To: r.in.Envelope.From, Handle: v.handle, Days: v.days, From: from,
		Subject: subject, Body: r.x(v.reason), MIME: v.mime}
	if ids := r.in.Header.values("message-id"); len(ids) > 0 {
		reply.InReplyTo = ids[0]
		refs := r.in.Header.values("references")
		if len(refs) > 0 {
			reply.References = refs[0] + " " + ids[0]
		} else {
			reply.References = ids[0]
		}
	}
	return r.add(Action{Kind: ActVacation, Vacation: reply})
}

// mayAnswer applies RFC 5230 §4.5 and RFC 3834 §2: never answer the null
// sender, a mailer daemon or list owner, an automatic message, bulk or
// list mail, or a message not addressed to the recipient.
func (r *run) mayAnswer(v vacation) bool {
	sender := strings.ToLower(r.in.Envelope.From)
	if sender == "" {
		return false
	}
	local, _, _ := splitAddress(sender)
	if local == "mailer-daemon" || local == "postmaster" || local == "listserv" || local == "majordomo" ||
		strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-request") || strings.HasPrefix(local, "bounce") {
		return false
	}
	for _, a := range r.in.Header.values("auto-submitted") {
		if !strings.EqualFold(strings.TrimSpace(strings.SplitN(a, ";", 2)[0]), "no") {
			return false
		}
	}
	for _, p := range r.in.Header.values("precedence") {
		switch strings.ToLower(p) {
		case "bulk", "list", "junk":
			return false
		}
	}
	for _, f := range r.in.Header {
		name := strings.ToLower(f.Name)
		if strings.HasPrefix(name, "list-") || name == "x-auto-response-suppress" {
			return false
		}
	}
	own := append([]string{r.in.Envelope.To}, r.in.Addresses...)
	own = append(own, r.xs(v.addresses)...)
	if containsFold(own, sender) {
		return false // never answer oneself
	}
	// RFC 5230 §4.5: only when one of the user's addresses is in a
	// recipient field.
	for _, h := range []string{"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"} {
		for _, a := range r.in.Header.addresses(h) {
			if containsFold(own, a) {
				return true
			}
		}
	}
	return false
}

// Message renders the reply as a message (RFC 5230 §5, RFC 3834 §3):
// Auto-Submitted: auto-replied, In-Reply-To and References.
func (rp *Reply) Message(now time.Time, messageID string) []byte {
	var b strings.Builder
	w := func(name, value string) {
		if value != "" {
			b.WriteString(name + ": " + value + "\r\n")
		}
	}
	w("Date", now.Format(time.RFC1123Z))
	w("From", rp.From)
	w("To", rp.To)
	w("Subject", encodeHeader(rp.Subject))
	w("Message-ID", messageID)
	w("In-Reply-To", rp.InReplyTo)
	w("References", rp.References)
	w("Auto-Submitted", "auto-replied (vacation)")
	w("Precedence", "bulk")
	w("MIME-Version", "1.0")
	body := strings.ReplaceAll(strings.ReplaceAll(rp.Body, "\r\n", "\n"), "\n", "\r\n")
	if rp.MIME {
		b.WriteString(body)
		return []byte(b.String())
	}
	w("Content-Type", "text/plain; charset=utf-8")
	w("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

func encodeHeader(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return mimeQ(s)
		}
	}
	return s
}
