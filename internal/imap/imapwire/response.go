package imapwire

import "strings"

// StatusResponse writes a whole status response: tag ("*" when empty),
// the type (OK, NO, BAD, PREAUTH or BYE), an optional response code given
// as its wire text (such as "TOOBIG" or "APPENDUID 38505 3955"), and the
// text, then CRLF.
func (enc *Encoder) StatusResponse(tag, typ, code, text string) error {
	if tag == "" {
		enc.Untagged()
	} else {
		enc.Tagged(tag)
	}
	enc.Atom(typ).SP()
	if code != "" {
		if strings.ContainsAny(code, "\x00\r\n]") {
			enc.setErr(encodeErrorf("invalid response code"))
		}
		enc.rawByte('[').raw(code).raw("] ")
	}
	if text == "" {
		// RFC 9051 §9: text is 1*TEXT-CHAR.
		text = typ
	}
	return enc.Text(text).CRLF()
}

// A FetchWriter writes one "* n FETCH (…)" response, item by item. Nothing
// is written before the first item, so that a caller may still decide,
// item by item, to leave an item out (one that fails before its name is
// written, as BINARY of an unknown encoding, RFC 3516 §4.3) and a response
// left with no item is not written at all: msg-att holds at least one
// (RFC 9051 §9).
type FetchWriter struct {
	enc   *Encoder
	seq   uint32 // the message number, or the UID of a UIDFETCH
	items int
	// uidFetch writes "* uid UIDFETCH (" (RFC 9586 §3, BeginUIDFetch).
	uidFetch bool
}

// BeginFetch starts the response for message seq.
func (enc *Encoder) BeginFetch(seq uint32) *FetchWriter {
	return &FetchWriter{enc: enc, seq: seq}
}

// Item writes the name of the next data item and the space after it,
// preceded by "* seq FETCH (" for the first, and returns the encoder to
// write its value with: for instance fw.Item("UID").Number(uid), or
// fw.Item(it.ResponseName()).WriteLiteralFrom(body, size) to stream a
// body section.
func (fw *FetchWriter) Item(name string) *Encoder {
	switch {
	case fw.items == 0 && fw.uidFetch:
		fw.enc.Untagged().Number(fw.seq).raw(" UIDFETCH (")
	case fw.items == 0:
		fw.enc.Untagged().Number(fw.seq).raw(" FETCH (")
	default:
		fw.enc.SP()
	}
	fw.items++
	return fw.enc.raw(name).SP()
}

// End writes ")" CRLF, unless no item was written, and returns the first
// error of the response.
func (fw *FetchWriter) End() error {
	if fw.items == 0 {
		return fw.enc.err
	}
	return fw.enc.rawByte(')').CRLF()
}

// Search writes the untagged response of a SEARCH without RETURN (RFC 9051
// §7.3.4, kept for IMAP4rev1 clients): "* SEARCH" and the numbers, then,
// when modSeq is not zero, the "(MODSEQ n)" of RFC 7162 §3.1.5.
func (enc *Encoder) Search(nums []uint32, modSeq uint64) error {
	enc.Untagged().raw("SEARCH")
	for _, n := range nums {
		enc.SP().Number(n)
	}
	if modSeq != 0 {
		enc.raw(" (MODSEQ ").ModSeq(modSeq).rawByte(')')
	}
	return enc.CRLF()
}

// ESearchData is the content of an ESEARCH response (RFC 9051 §7.3.4,
// RFC 4731). Zero fields are left out.
type ESearchData struct {
	Tag      string // the command's tag, for the (TAG "…") correlator
	UID      bool   // the result holds UIDs
	Min, Max uint32
	All      SeqSet
	Count    uint32
	HasCount bool   // write COUNT even when it is zero
	ModSeq   uint64 // RFC 7162 §3.2.5
	// Partial is the PARTIAL result (RFC 5267 §4.4): the range asked
	// for and the results in it, written NIL when there are none.
	Partial *PartialResult
	// Updates are the ADDTO and REMOVEFROM items of an update
	// notification (RFC 5267 §4.3), written in order.
	Updates []ContextUpdate
}

// PartialResult is the PARTIAL return data (RFC 5267 §4.4).
type PartialResult struct {
	Range PartialRange
	Set   SeqSet // empty: NIL
}

// ContextUpdate is one ADDTO or REMOVEFROM item (RFC 5267 §4.3.3,
// §4.3.4): pairs of a context position (0 for SEARCH results: anywhere,
// in mailbox order) and the results added or removed from there on, in
// the requested order.
type ContextUpdate struct {
	Remove bool // REMOVEFROM; ADDTO otherwise
	Pairs  []ContextPair
}

// ContextPair is one (context-position sequence-set) pair.
type ContextPair struct {
	Pos uint32
	Set SeqSet
}

// ESearch writes "* ESEARCH (TAG "t") [UID] MIN … MAX … ALL … COUNT …".
func (enc *Encoder) ESearch(d ESearchData) error {
	enc.Untagged().raw("ESEARCH")
	if d.Tag != "" {
		enc.raw(" (TAG ").Quoted(d.Tag).rawByte(')')
	}
	if d.UID {
		enc.raw(" UID")
	}
	if d.Min != 0 {
		enc.raw(" MIN ").Number(d.Min)
	}
	if d.Max != 0 {
		enc.raw(" MAX ").Number(d.Max)
	}
	if !d.All.IsEmpty() {
		enc.raw(" ALL ").SeqSet(d.All)
	}
	if p := d.Partial; p != nil {
		enc.raw(" PARTIAL (").Number(p.Range.Lo).rawByte(':').Number(p.Range.Hi).SP()
		if p.Set.IsEmpty() {
			enc.NIL()
		} else {
			enc.SeqSet(p.Set)
		}
		enc.rawByte(')')
	}
	if d.HasCount || d.Count != 0 {
		enc.raw(" COUNT ").Number(d.Count)
	}
	if d.ModSeq != 0 {
		enc.raw(" MODSEQ ").ModSeq(d.ModSeq)
	}
	for _, u := range d.Updates {
		if u.Remove {
			enc.raw(" REMOVEFROM (")
		} else {
			enc.raw(" ADDTO (")
		}
		for i, p := range u.Pairs {
			if i > 0 {
				enc.SP()
			}
			enc.Number(p.Pos).SP().SeqSet(p.Set)
		}
		enc.rawByte(')')
	}
	return enc.CRLF()
}
