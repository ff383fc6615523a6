package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/message"
)

// The address and subject keys (BCC, CC, FROM, TO, SUBJECT) and the
// SENT* date keys are evaluated on the stored ENVELOPE: RFC 9051 §6.4.4
// defines them on "the envelope structure's" fields, and the envelope comes
// with the batch of message data SEARCH already loads, so these keys never
// open message files.

// envelope returns the envelope of the message as the client sees it (the
// Mail11 view rebuilds it), or nil when there is none.
func (m *searchMsg) envelope() *message.Envelope {
	if m.data == nil {
		return nil
	}
	if m.mv == nil {
		m.mv = m.c.s.view.view(m.t.MessageInfo, m.data)
	}
	if m.mv.part == nil {
		return nil
	}
	return m.mv.part.Envelope
}

// envelopeContains: the envelope field of a BCC, CC, FROM, TO or SUBJECT
// key, decoded (RFC 2047), contains s case-insensitively. An empty s
// matches any message whose field is not empty. ok is false when the
// message has no envelope, and the header must be read instead.
func envelopeContains(env *message.Envelope, op, s string) (match, ok bool) {
	if env == nil {
		return false, false
	}
	var text string
	var present bool
	switch op {
	case "SUBJECT":
		present = env.Subject != ""
		if present && s != "" {
			text = message.DecodeHeaderText(env.Subject)
		}
	default:
		list := envelopeAddrs(env, op)
		present = len(list) > 0
		if present && s != "" {
			text = addressText(list)
		}
	}
	if !present {
		return false, true
	}
	return s == "" || fieldContains(text, s), true
}

func envelopeAddrs(env *message.Envelope, op string) []message.Address {
	switch op {
	case "FROM":
		return env.From
	case "TO":
		return env.To
	case "CC":
		return env.Cc
	case "BCC":
		return env.Bcc
	}
	return nil
}

// addressText renders an address list the way it reads in a header, with
// display names decoded: `Name <mailbox@host>, other@host, group: a@b;`.
func addressText(list []message.Address) string {
	var b strings.Builder
	first := true
	for _, a := range list {
		if a.Group {
			if a.Mailbox != "" { // group start
				if !first {
					b.WriteString(", ")
				}
				b.WriteString(message.DecodeHeaderText(a.Mailbox))
				b.WriteString(": ")
				first = true
				continue
			}
			b.WriteString(";") // group end
			first = false
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		if a.Name != "" {
			b.WriteString(message.DecodeHeaderText(a.Name))
			b.WriteString(" <")
			b.WriteString(a.Mailbox)
			b.WriteString("@")
			b.WriteString(a.Host)
			b.WriteString(">")
		} else {
			b.WriteString(a.Mailbox)
			b.WriteString("@")
			b.WriteString(a.Host)
		}
	}
	return b.String()
}

// fieldContains reports whether s contains substr, compared the way the
// header keys always have: both lower-cased.
func fieldContains(s, substr string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(substr))
}
