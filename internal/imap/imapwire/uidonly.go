package imapwire

// UIDONLY (RFC 9586): the UIDFETCH response, and the test for message
// numbers in a search program. Which commands take message numbers, and
// the [UIDREQUIRED] answer, are the server's business; the grammar only
// tells what a parsed value names.

// CodeUIDRequired is the response code of the BAD that answers a message
// sequence number once UIDONLY is enabled (RFC 9586 §3).
const CodeUIDRequired = "UIDREQUIRED"

// BeginUIDFetch starts "* uid UIDFETCH (…)", the response that replaces
// "* n FETCH (…)" once UIDONLY is enabled (RFC 9586 §3; formal syntax:
// message-data =/ uidfetch-resp, uidfetch-resp = uniqueid SP "UIDFETCH"
// SP msg-att). The UID leads the response, so a UID data item follows
// only when the client asked for it. The writer works as BeginFetch's.
func (enc *Encoder) BeginUIDFetch(uid uint32) *FetchWriter {
	return &FetchWriter{enc: enc, seq: uid, uidFetch: true}
}

// UsesMessageNumbers reports whether the search program names messages by
// sequence number: a sequence-set search key anywhere in it (RFC 9051
// §6.4.4), "*" included. The "$" of SEARCHRES (RFC 5182) is a saved set
// of messages, not numbers, and UID keys name UIDs: neither counts.
func (k SearchKey) UsesMessageNumbers() bool {
	if k.Op == SearchSeqSet && len(k.SeqSet.Ranges) > 0 {
		return true
	}
	for _, ch := range k.Children {
		if ch.UsesMessageNumbers() {
			return true
		}
	}
	return false
}
