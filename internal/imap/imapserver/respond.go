package imapserver

import (
	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// Responses the handlers of several files share, written through the
// connection's imapwire.Encoder: the only IMAP encoder (issue 11).

// numbered writes "* n name": EXISTS, EXPUNGE, RECENT (RFC 9051 §7.4).
func (c *conn) numbered(n uint32, name string) {
	c.enc.Untagged().Number(n).SP().Atom(name).CRLF()
}

// writeModSeq writes the MODSEQ data item, "MODSEQ (n)" (RFC 7162 §3.1.4).
func writeModSeq(fw *imapwire.FetchWriter, m store.ModSeq) {
	e := fw.Item("MODSEQ")
	e.List(1, func(int) { e.ModSeq(uint64(m)) })
}

// nstring writes s as a string, or NIL when s is empty: the envelope and
// body structure fields that may be absent.
func nstring(e *imapwire.Encoder, s string) *imapwire.Encoder {
	if s == "" {
		return e.NIL()
	}
	return e.String(s)
}
