package imapwire

import "strings"

// QRESYNC (RFC 7162 §3.2): the SELECT/EXAMINE parameter and the VANISHED
// response. The VANISHED FETCH modifier is FetchArgs.Vanished.

// QResyncParam is the QRESYNC parameter of SELECT and EXAMINE
// (RFC 7162 §3.2.5): what the client last knew of the mailbox.
type QResyncParam struct {
	UIDValidity uint32
	ModSeq      uint64 // mod-sequence-value, 1 to 2^63-1
	// KnownUIDs is known-uids, the UIDs the client holds; empty when
	// absent. It never holds "*" or "$".
	KnownUIDs SeqSet
	// SeqMatch is seq-match-data (§3.2.5.2); nil when absent.
	SeqMatch *SeqMatch
}

// SeqMatch is seq-match-data (RFC 7162 §3.2.5.2): message sequence
// numbers the client knows and the UID it holds for each, pairwise: the
// two sets have as many numbers each, neither holds "*" or "$".
type SeqMatch struct {
	Seqs, UIDs SeqSet
}

// qresyncParam decodes the part of select-param after "QRESYNC" (RFC 7162
// §7): SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
// [SP seq-match-data] ")".
func (dec *Decoder) qresyncParam(p *QResyncParam) bool {
	if !dec.ExpectSP() || !dec.ExpectSpecial('(') || !dec.ExpectNzNumber(&p.UIDValidity) ||
		!dec.ExpectSP() || !dec.ExpectNzModSeq(&p.ModSeq) {
		return false
	}
	if dec.SP() && !dec.Peek('(') {
		if !dec.knownSet(&p.KnownUIDs, "known-uids") {
			return false
		}
		if !dec.SP() {
			return dec.ExpectSpecial(')')
		}
		if !dec.Peek('(') {
			return dec.Expect(false, "seq-match-data")
		}
	}
	if dec.Peek('(') {
		var m SeqMatch
		if !dec.ExpectSpecial('(') || !dec.knownSet(&m.Seqs, "known-sequence-set") || !dec.ExpectSP() ||
			!dec.knownSet(&m.UIDs, "known-uid-set") || !dec.ExpectSpecial(')') {
			return false
		}
		// §3.2.5.2: the UIDs correspond one to one to the sequence numbers.
		if m.Seqs.Count(0) != m.UIDs.Count(0) {
			return dec.setErr(syntaxErrorf("seq-match-data has %d sequence numbers and %d UIDs",
				m.Seqs.Count(0), m.UIDs.Count(0)))
		}
		p.SeqMatch = &m
	}
	return dec.ExpectSpecial(')')
}

// knownSet decodes a sequence-set in which RFC 7162 §7 allows neither
// "*" nor "$" (known-uids, known-sequence-set, known-uid-set).
func (dec *Decoder) knownSet(ptr *SeqSet, what string) bool {
	if !dec.Expect(dec.SeqSet(ptr), what) {
		return false
	}
	if ptr.Saved || ptr.Dynamic() {
		return dec.setErr(syntaxErrorf("%s may not contain * or $", what))
	}
	return true
}

// maxVanishedRanges bounds the UID ranges of one VANISHED response, so
// that no line exceeds about 8 KB (RFC 7162 §4: clients should accept
// lines of 8192 octets); longer lists go out as several responses.
const maxVanishedRanges = 400

// Vanished writes "* VANISHED [(EARLIER)] uids" (RFC 7162 §3.2.10) for
// the UIDs of set, which must hold neither "*" nor "$", as one or more
// responses. It writes nothing for an empty set.
func (enc *Encoder) Vanished(earlier bool, set SeqSet) error {
	if set.Saved || set.Dynamic() {
		enc.setErr(encodeErrorf("VANISHED of * or $"))
		return enc.err
	}
	set = set.Resolve(0)
	for len(set.Ranges) > 0 {
		n := min(len(set.Ranges), maxVanishedRanges)
		enc.Untagged().raw("VANISHED ")
		if earlier {
			enc.raw("(EARLIER) ")
		}
		enc.SeqSet(SeqSet{Ranges: set.Ranges[:n]}).CRLF()
		set.Ranges = set.Ranges[n:]
	}
	return enc.err
}

// selectParam decodes one select-param: CONDSTORE (RFC 7162 §3.1.8) or
// QRESYNC (§3.2.5).
func (dec *Decoder) selectParam(a *SelectArgs) bool {
	var p string
	if !dec.ExpectAtom(&p) {
		return false
	}
	switch strings.ToUpper(p) {
	case "CONDSTORE":
		a.CondStore = true
		return true
	case "QRESYNC":
		if a.QResync != nil {
			return dec.setErr(syntaxErrorf("QRESYNC given twice"))
		}
		a.QResync = &QResyncParam{}
		return dec.qresyncParam(a.QResync)
	}
	return dec.setErr(syntaxErrorf("unknown SELECT parameter %q", p))
}
