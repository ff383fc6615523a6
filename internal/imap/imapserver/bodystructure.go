package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/message"
)

// writeEnvelope writes an ENVELOPE (RFC 9051 §7.5.2) from what the store
// parsed at delivery.
func (c *conn) writeEnvelope(env *message.Envelope) {
	e := c.enc
	if env == nil {
		e.raw("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")
		return
	}
	e.raw("(").nstr(env.Date).sp().nstr(env.Subject)
	for _, list := range [][]message.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		e.sp()
		c.writeAddresses(list)
	}
	e.sp().nstr(env.InReplyTo).sp().nstr(env.MessageID).raw(")")
}

// writeAddresses writes an address list, with group markers as RFC 9051
// §7.5.2 describes them.
func (c *conn) writeAddresses(list []message.Address) {
	e := c.enc
	if len(list) == 0 {
		e.raw("NIL")
		return
	}
	e.raw("(")
	for _, a := range list {
		switch {
		case a.Group && a.Mailbox != "":
			e.raw("(NIL NIL ").nstr(a.Mailbox).raw(" NIL)")
		case a.Group:
			e.raw("(NIL NIL NIL NIL)")
		default:
			e.raw("(").nstr(a.Name).raw(" NIL ").nstr(a.Mailbox).sp().nstr(a.Host).raw(")")
		}
	}
	e.raw(")")
}

// writeBodyStructure writes BODYSTRUCTURE (extended, with extension data)
// or BODY (not extended) for a part, RFC 9051 §7.5.2.
func (c *conn) writeBodyStructure(p *message.Part, extended bool) {
	e := c.enc
	if p.IsMultipart() {
		e.raw("(")
		for _, ch := range p.Parts {
			c.writeBodyStructure(ch, extended)
		}
		e.sp().str(p.Subtype)
		if extended {
			e.sp()
			c.writeParams(p.Params, false)
			e.sp()
			c.writeDisposition(p)
			e.sp()
			c.writeLanguage(p.Language)
			e.sp().nstr(p.Location)
		}
		e.raw(")")
		return
	}
	e.raw("(").str(p.Type).sp().str(p.Subtype).sp()
	c.writeParams(p.Params, p.Type == "text")
	e.sp().nstr(p.ID).sp().nstr(p.Description).sp().str(p.Encoding).sp().num64(p.End - p.BodyStart)
	if m := p.Message(); m != nil {
		e.sp()
		c.writeEnvelope(m.Envelope)
		e.sp()
		c.writeBodyStructure(m, extended)
		e.sp().num64(p.BodyLines)
	} else if p.Type == "text" {
		e.sp().num64(p.BodyLines)
	}
	if extended {
		e.sp().nstr(p.MD5).sp()
		c.writeDisposition(p)
		e.sp()
		c.writeLanguage(p.Language)
		e.sp().nstr(p.Location)
	}
	e.raw(")")
}

// writeParams writes a body-fld-param. Text parts without a charset get
// charset=us-ascii, the RFC 2045 §5.2 default, as other servers show it.
func (c *conn) writeParams(ps []message.Param, text bool) {
	e := c.enc
	hasCharset := false
	for _, p := range ps {
		if p.Name == "charset" {
			hasCharset = true
		}
	}
	if len(ps) == 0 && !(text && !hasCharset) {
		e.raw("NIL")
		return
	}
	e.raw("(")
	first := true
	if text && !hasCharset {
		e.str("charset").sp().str("us-ascii")
		first = false
	}
	for _, p := range ps {
		if !first {
			e.sp()
		}
		first = false
		e.str(p.Name).sp().str(p.Value)
	}
	e.raw(")")
}

func (c *conn) writeDisposition(p *message.Part) {
	if p.Disposition == "" {
		c.enc.raw("NIL")
		return
	}
	c.enc.raw("(").str(p.Disposition).sp()
	c.writeParams(p.DispositionParams, false)
	c.enc.raw(")")
}

func (c *conn) writeLanguage(langs []string) {
	e := c.enc
	switch len(langs) {
	case 0:
		e.raw("NIL")
	case 1:
		e.str(langs[0])
	default:
		e.raw("(")
		for i, l := range langs {
			if i > 0 {
				e.sp()
			}
			e.str(strings.TrimSpace(l))
		}
		e.raw(")")
	}
}
