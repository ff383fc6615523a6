package imapserver

import (
	"strings"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// maxSearchDepth bounds NOT/OR/parenthesis nesting in SEARCH.
const maxSearchDepth = 50

// searchKey is one node of a SEARCH key tree (RFC 9051 §6.4.4).
//
// TODO(imapwire): replace with the imapwire SEARCH key tree once it lands.
type searchKey struct {
	op    string // ALL, AND, OR, NOT, SEQ, UID, FLAG, UNFLAG, NONE, header and body keys…
	kids  []*searchKey
	field string // HEADER field, FLAG/UNFLAG flag
	str   string
	date  time.Time
	num   int64
	set   imapwire.SeqSet
	mod   store.ModSeq // MODSEQ (RFC 7162 §3.1.5)

	// Filled by prepare, before any message is evaluated, so that SEARCH
	// workers only read the tree.
	members    map[store.UID]bool // SEQ and UID: the resolved set
	lower      string             // strings.ToLower(str): TEXT's header half
	lowerBytes []byte             // lower as bytes
	folded     []byte             // str with ASCII letters lower-cased: BODY, TEXT
}

// searchArgs is a parsed SEARCH command.
type searchArgs struct {
	ret     []string // RETURN options; nil when absent
	hasRet  bool
	charset string
	key     *searchKey
}

// flagKeys map flag search keys to a flag and whether it must be set.
var flagKeys = map[string]struct {
	flag string
	set  bool
}{
	"ANSWERED": {`\Answered`, true}, "DELETED": {`\Deleted`, true}, "DRAFT": {`\Draft`, true},
	"FLAGGED": {`\Flagged`, true}, "SEEN": {`\Seen`, true},
	"UNANSWERED": {`\Answered`, false}, "UNDELETED": {`\Deleted`, false}, "UNDRAFT": {`\Draft`, false},
	"UNFLAGGED": {`\Flagged`, false}, "UNSEEN": {`\Seen`, false},
}

// stringKeys take one string argument.
var stringKeys = map[string]bool{"BCC": true, "BODY": true, "CC": true, "FROM": true, "SUBJECT": true, "TEXT": true, "TO": true}

// dateKeys take one date argument.
var dateKeys = map[string]bool{"BEFORE": true, "ON": true, "SINCE": true, "SENTBEFORE": true, "SENTON": true, "SENTSINCE": true}

// parseSearch decodes the arguments of SEARCH after the verb.
func parseSearch(dec *imapwire.Decoder) (*searchArgs, error) {
	a := &searchArgs{}
	if !dec.ExpectSP() {
		return nil, dec.Err()
	}
	// QUIRK: imapwire's Keyword peeks len(keyword)+1 bytes and so blocks on
	// a shorter rest of line ("SEARCH ALL"); read the first atom instead
	// and decide from it. TODO(imapwire): use Keyword once it is fixed.
	var first string
	if isLetterNext(dec) && dec.ExpectAtom(&first) && strings.EqualFold(first, "RETURN") {
		a.hasRet = true
		first = ""
		dec.ExpectSP()
		dec.ExpectList(func() bool {
			var o string
			if !dec.ExpectAtom(&o) {
				return false
			}
			o = strings.ToUpper(o)
			switch o {
			case "MIN", "MAX", "COUNT", "ALL", "SAVE":
				a.ret = append(a.ret, o)
				return true
			}
			dec.Fail("unknown SEARCH return option " + o)
			return false
		})
		dec.ExpectSP()
		if isLetterNext(dec) {
			dec.ExpectAtom(&first)
		}
	}
	if strings.EqualFold(first, "CHARSET") {
		first = ""
		if !(dec.ExpectSP() && dec.ExpectAString(&a.charset) && dec.ExpectSP()) {
			return nil, dec.Err()
		}
	}
	if dec.Err() != nil {
		return nil, dec.Err()
	}
	var keys []*searchKey
	for {
		var k *searchKey
		if first != "" {
			k = parseNamedKey(dec, first, 0)
			first = ""
		} else {
			k = parseSearchKey(dec, 0)
		}
		if k == nil {
			return nil, dec.Err()
		}
		keys = append(keys, k)
		if !dec.SP() {
			break
		}
	}
	if !dec.ExpectCRLF() {
		return nil, dec.Err()
	}
	a.key = &searchKey{op: "AND", kids: keys}
	return a, nil
}

// parseSearchKey decodes one search-key; nil after recording an error.
func parseSearchKey(dec *imapwire.Decoder, depth int) *searchKey {
	if depth > maxSearchDepth {
		dec.Fail("search keys nested too deeply")
		return nil
	}
	if dec.Peek('(') {
		k := &searchKey{op: "AND"}
		dec.ExpectList(func() bool {
			kid := parseSearchKey(dec, depth+1)
			if kid == nil {
				return false
			}
			k.kids = append(k.kids, kid)
			return true
		})
		if dec.Err() != nil || len(k.kids) == 0 {
			dec.Expect(false, "search key")
			return nil
		}
		return k
	}
	if dec.Peek('$') || dec.Peek('*') || peekDigit(dec) {
		k := &searchKey{op: "SEQ"}
		if !dec.ExpectSeqSet(&k.set) {
			return nil
		}
		return k
	}
	var name string
	if !dec.ExpectAtom(&name) {
		return nil
	}
	return parseNamedKey(dec, name, depth)
}

// parseNamedKey decodes the arguments of a search key whose name was read.
func parseNamedKey(dec *imapwire.Decoder, name string, depth int) *searchKey {
	name = strings.ToUpper(name)
	k := &searchKey{op: name}
	ok := true
	switch {
	case name == "ALL" || name == "NEW" || name == "OLD" || name == "RECENT":
	case flagKeys[name].flag != "":
	case stringKeys[name]:
		ok = dec.ExpectSP() && dec.ExpectAString(&k.str)
	case dateKeys[name]:
		ok = dec.ExpectSP() && dec.ExpectDate(&k.date)
	case name == "KEYWORD" || name == "UNKEYWORD":
		ok = dec.ExpectSP() && dec.ExpectFlag(&k.field)
	case name == "HEADER":
		ok = dec.ExpectSP() && dec.ExpectAString(&k.field) && dec.ExpectSP() && dec.ExpectAString(&k.str)
	case name == "LARGER" || name == "SMALLER":
		ok = dec.ExpectSP() && dec.ExpectNumber64(&k.num)
	case name == "UID":
		ok = dec.ExpectSP() && dec.ExpectSeqSet(&k.set)
	case name == "MODSEQ":
		var m uint64
		ok = dec.ExpectSearchModSeq(&m)
		k.mod = store.ModSeq(m)
	case name == "NOT":
		if ok = dec.ExpectSP(); ok {
			kid := parseSearchKey(dec, depth+1)
			ok = kid != nil
			k.kids = []*searchKey{kid}
		}
	case name == "OR":
		for range 2 {
			if !ok || !dec.ExpectSP() {
				ok = false
				break
			}
			kid := parseSearchKey(dec, depth+1)
			ok = kid != nil
			k.kids = append(k.kids, kid)
		}
	default:
		dec.Fail("unknown search key " + name)
		return nil
	}
	if !ok {
		return nil
	}
	return k
}

func isLetterNext(dec *imapwire.Decoder) bool {
	for b := byte('A'); b <= 'Z'; b++ {
		if dec.Peek(b) || dec.Peek(b+'a'-'A') {
			return true
		}
	}
	return false
}

func peekDigit(dec *imapwire.Decoder) bool {
	for b := byte('1'); b <= '9'; b++ {
		if dec.Peek(b) {
			return true
		}
	}
	return false
}

// needs reports what evaluating the key requires: the structure and
// header (hdr) and the message text (body).
func (k *searchKey) needs() (hdr, body bool) {
	switch k.op {
	case "BCC", "CC", "FROM", "SUBJECT", "TO", "HEADER", "SENTBEFORE", "SENTON", "SENTSINCE":
		return true, false
	case "BODY", "TEXT":
		return true, true
	}
	for _, kid := range k.kids {
		h, b := kid.needs()
		hdr, body = hdr || h, body || b
	}
	return hdr, body
}

// usesModSeq reports whether the key holds MODSEQ (RFC 7162 §3.1.5),
// which makes the SEARCH a CONDSTORE enabling command and adds the
// highest MODSEQ of the result to the response (§3.1.6).
func (k *searchKey) usesModSeq() bool {
	if k.op == "MODSEQ" {
		return true
	}
	for _, kid := range k.kids {
		if kid.usesModSeq() {
			return true
		}
	}
	return false
}

// usesSize reports whether the key compares message sizes.
func (k *searchKey) usesSize() bool {
	if k.op == "LARGER" || k.op == "SMALLER" {
		return true
	}
	for _, kid := range k.kids {
		if kid.usesSize() {
			return true
		}
	}
	return false
}

// prepare resolves what every message's evaluation shares: the sets of
// SEQ and UID keys (against the view as it is now) and the lower-cased
// strings of BODY and TEXT.
func (k *searchKey) prepare(sel *selected) {
	switch k.op {
	case "SEQ", "UID":
		k.members = map[store.UID]bool{}
		ts, _ := sel.resolve(k.set, k.op == "UID")
		for _, t := range ts {
			k.members[t.UID] = true
		}
	case "BODY", "TEXT":
		k.lower = strings.ToLower(k.str)
		k.lowerBytes = []byte(k.lower)
		k.folded = foldASCII([]byte(k.str))
	}
	for _, kid := range k.kids {
		kid.prepare(sel)
	}
}

// readsFiles reports whether the key reads message files as a rule: BODY,
// TEXT and HEADER. (The envelope keys read the header only for a message
// without a stored envelope.)
func (k *searchKey) readsFiles() bool {
	switch k.op {
	case "BODY", "TEXT", "HEADER":
		return true
	}
	for _, kid := range k.kids {
		if kid.readsFiles() {
			return true
		}
	}
	return false
}
