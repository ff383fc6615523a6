package imapserver

import (
	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// UIDONLY (RFC 9586). After ENABLE UIDONLY (§3.1) the session names
// messages by UID alone, both ways:
//   - a command that takes or returns message sequence numbers (FETCH,
//     STORE, SEARCH, COPY, MOVE, SORT, THREAD, REPLACE without the UID
//     prefix: the seqNums entries of the dispatch table), a sequence-set
//     search key in UID SEARCH, UID SORT or UID THREAD, and QRESYNC's
//     seq-match-data are answered "BAD [UIDREQUIRED]" (§3). EXPUNGE names
//     no message and stays allowed; "*" in a UID set is the highest UID
//     and stays allowed too;
//   - every FETCH response, solicited or not, is a UIDFETCH response
//     ("* uid UIDFETCH (…)", §3), which carries the UID in front: the UID
//     data item that UID FETCH, STORE and CONDSTORE add by themselves is
//     left out, and sent only when the client asks for it;
//   - every EXPUNGE response is a VANISHED response (RFC 7162 §3.2.10),
//     QRESYNC enabled or not;
//   - SELECT and EXAMINE send no [UNSEEN n], a message number.
// The view keeps its sequence numbers (the rest of the server still uses
// them); only the wire changes.

// uidRequired is the BAD of a message number after ENABLE UIDONLY.
func uidRequired() error {
	return &syntaxError{code: imapwire.CodeUIDRequired, msg: "Message sequence numbers are not allowed after ENABLE UIDONLY"}
}

// checkSearchNumbers refuses a search program that names messages by
// sequence number once UIDONLY is enabled (RFC 9586 §3).
func (c *conn) checkSearchNumbers(k imapwire.SearchKey) error {
	if c.uidOnly && k.UsesMessageNumbers() {
		return uidRequired()
	}
	return nil
}

// beginFetch starts the FETCH response of a message: "* seq FETCH (", or
// "* uid UIDFETCH (" once UIDONLY is enabled (RFC 9586 §3).
func (c *conn) beginFetch(seq uint32, uid store.UID) *imapwire.FetchWriter {
	if c.uidOnly {
		return c.enc.BeginUIDFetch(uint32(uid))
	}
	return c.enc.BeginFetch(seq)
}

// vanishedOnly reports whether expunges are announced as VANISHED, never
// EXPUNGE: after ENABLE QRESYNC (RFC 7162 §3.2.7) or ENABLE UIDONLY
// (RFC 9586 §3).
func (c *conn) vanishedOnly() bool { return c.qresync || c.uidOnly }
