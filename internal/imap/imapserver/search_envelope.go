package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
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
// key, decoded (RFC 2047), contains s case-insensitively
// (search.EnvelopeText). An empty s matches any message whose field is
// not empty. ok is false when the message has no envelope, and the header
// must be read instead.
func envelopeContains(env *message.Envelope, op, s string) (match, ok bool) {
	if env == nil {
		return false, false
	}
	text, present := search.EnvelopeText(env, envelopeSearchKeys[op])
	if !present {
		return false, true
	}
	return s == "" || strings.Contains(search.Fold(text), search.Fold(s)), true
}

// envelopeSearchKeys maps the key names of envelopeKeys to search's.
var envelopeSearchKeys = map[string]search.Key{
	"FROM": search.From, "TO": search.To, "CC": search.Cc, "BCC": search.Bcc, "SUBJECT": search.Subject,
}
