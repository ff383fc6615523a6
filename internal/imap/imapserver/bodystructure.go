package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/message"
)

// writeEnvelope writes an ENVELOPE (RFC 9051 §7.5.2) from what the store
// parsed at delivery: date, subject, from, sender, reply-to, to, cc, bcc,
// in-reply-to and message-id. A string field is NIL when its header field
// is absent and "" when it is present but empty (§7.5.2).
func writeEnvelope(e *imapwire.Encoder, env *message.Envelope) {
	if env == nil {
		env = &message.Envelope{}
	}
	field := func(s string, bit message.EmptyFields) *imapwire.Encoder {
		if s == "" && env.Empty&bit != 0 {
			return e.String("")
		}
		return nstring(e, s)
	}
	e.Special('(')
	field(env.Date, message.EmptyDate).SP()
	field(env.Subject, message.EmptySubject)
	for _, list := range [][]message.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		writeAddresses(e.SP(), list)
	}
	e.SP()
	field(env.InReplyTo, message.EmptyInReplyTo).SP()
	field(env.MessageID, message.EmptyMessageID).Special(')')
}

// writeAddresses writes an address list (RFC 9051 §7.5.2): "("
// 1*address ")", the addresses side by side without spaces (§9); each
// address is (name adl mailbox host), adl being the source route; group
// syntax is a start marker (NIL NIL group-name NIL), the members and an
// end marker (NIL NIL NIL NIL).
func writeAddresses(e *imapwire.Encoder, list []message.Address) {
	if len(list) == 0 {
		e.NIL()
		return
	}
	e.Special('(')
	for _, a := range list {
		switch {
		case a.Group && a.Mailbox != "":
			e.Special('(').NIL().SP().NIL().SP()
			nstring(e, a.Mailbox).SP().NIL().Special(')')
		case a.Group:
			e.Special('(').NIL().SP().NIL().SP().NIL().SP().NIL().Special(')')
		default:
			e.Special('(')
			nstring(e, a.Name).SP()
			nstring(e, a.Route).SP()
			nstring(e, a.Mailbox).SP()
			nstring(e, a.Host).Special(')')
		}
	}
	e.Special(')')
}

// writeBodyStructure writes BODYSTRUCTURE (extended, with extension data)
// or BODY (not extended) for a part, RFC 9051 §7.5.2.
func writeBodyStructure(e *imapwire.Encoder, p *message.Part, extended bool) {
	if p.IsMultipart() {
		e.Special('(')
		for _, ch := range p.Parts {
			writeBodyStructure(e, ch, extended)
		}
		e.SP().String(p.Subtype)
		if extended {
			writeParams(e.SP(), p.Params, false)
			writeDisposition(e.SP(), p)
			writeLanguage(e.SP(), p.Language)
			nstring(e.SP(), p.Location)
		}
		e.Special(')')
		return
	}
	e.Special('(').String(p.Type).SP().String(p.Subtype).SP()
	writeParams(e, p.Params, p.Type == "text")
	nstring(e.SP(), p.ID).SP()
	nstring(e, p.Description).SP().String(p.Encoding).SP().Number64(p.End - p.BodyStart)
	if m := p.Message(); m != nil {
		writeEnvelope(e.SP(), m.Envelope)
		writeBodyStructure(e.SP(), m, extended)
		e.SP().Number64(p.BodyLines)
	} else if p.Type == "text" {
		e.SP().Number64(p.BodyLines)
	}
	if extended {
		nstring(e.SP(), p.MD5).SP()
		writeDisposition(e, p)
		writeLanguage(e.SP(), p.Language)
		nstring(e.SP(), p.Location)
	}
	e.Special(')')
}

// writeParams writes a body-fld-param. Text parts without a charset get
// charset=us-ascii, the RFC 2045 §5.2 default, as other servers show it.
func writeParams(e *imapwire.Encoder, ps []message.Param, text bool) {
	hasCharset := false
	for _, p := range ps {
		if p.Name == "charset" {
			hasCharset = true
		}
	}
	if text && !hasCharset {
		ps = append([]message.Param{{Name: "charset", Value: "us-ascii"}}, ps...)
	}
	if len(ps) == 0 {
		e.NIL()
		return
	}
	e.List(len(ps), func(i int) { e.String(ps[i].Name).SP().String(ps[i].Value) })
}

func writeDisposition(e *imapwire.Encoder, p *message.Part) {
	if p.Disposition == "" {
		e.NIL()
		return
	}
	e.Special('(').String(p.Disposition).SP()
	writeParams(e, p.DispositionParams, false)
	e.Special(')')
}

func writeLanguage(e *imapwire.Encoder, langs []string) {
	switch len(langs) {
	case 0:
		e.NIL()
	case 1:
		e.String(langs[0])
	default:
		e.List(len(langs), func(i int) { e.String(strings.TrimSpace(langs[i])) })
	}
}
