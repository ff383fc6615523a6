package imapwire

import (
	"strings"
	"time"
)

// A SearchOp is the kind of a SearchKey node.
type SearchOp uint8

// The search keys of RFC 9051 §6.4.4, the IMAP4rev1 keys of RFC 3501
// §6.4.4 and MODSEQ of RFC 7162 §3.1.5, folded into fewer kinds: every flag
// test is SearchFlag or SearchNoFlag, NEW is AND(RECENT, UNSEEN) and OLD is
// NOT RECENT.
const (
	SearchAll               SearchOp = iota + 1 // ALL
	SearchAnd                                   // every one of Children: a list or the implicit AND
	SearchOr                                    // OR: Children[0] or Children[1]
	SearchNot                                   // NOT: not Children[0]
	SearchSeqSet                                // a sequence-set of message numbers, in SeqSet
	SearchUID                                   // UID sequence-set, in SeqSet
	SearchFlag                                  // Flag is set: ANSWERED, …, KEYWORD x, RECENT
	SearchNoFlag                                // Flag is not set: UNANSWERED, …, UNKEYWORD x
	SearchBefore                                // internal date before Date
	SearchOn                                    // internal date on Date
	SearchSince                                 // internal date on or after Date
	SearchSentBefore                            // Date: header before Date
	SearchSentOn                                // Date: header on Date
	SearchSentSince                             // Date: header on or after Date
	SearchLarger                                // RFC822.SIZE larger than Size
	SearchSmaller                               // RFC822.SIZE smaller than Size
	SearchHeader                                // HEADER Field Value: Value "" matches any message with the field
	SearchBcc                                   // BCC Value
	SearchCc                                    // CC Value
	SearchFrom                                  // FROM Value
	SearchTo                                    // TO Value
	SearchSubject                               // SUBJECT Value
	SearchBody                                  // BODY Value
	SearchText                                  // TEXT Value: header or body
	SearchModSeq                                // MODSEQ: mod-sequence at least ModSeq
	SearchOlder                                 // OLDER: internal date more than Interval seconds ago (RFC 5032)
	SearchYounger                               // YOUNGER: internal date at most Interval seconds ago (RFC 5032)
	SearchEmailID                               // EMAILID Value: an objectid (RFC 8474 §6)
	SearchThreadID                              // THREADID Value: an objectid (RFC 8474 §6)
	SearchSavedBefore                           // SAVEDBEFORE: save date before Date (RFC 8514 §4.3)
	SearchSavedOn                               // SAVEDON: save date on Date (RFC 8514 §4.3)
	SearchSavedSince                            // SAVEDSINCE: save date on or after Date (RFC 8514 §4.3)
	SearchSaveDateSupported                     // SAVEDATESUPPORTED: the mailbox keeps save dates (RFC 8514 §4.3)
)

// A SearchKey is a node of a parsed SEARCH program. Which fields are set
// depends on Op.
//
// Value holds the raw bytes the client sent, in the command's CHARSET:
// converting them is the caller's business (and so is answering
// [BADCHARSET]).
type SearchKey struct {
	Op       SearchOp
	Children []SearchKey // SearchAnd, SearchOr (2), SearchNot (1)
	SeqSet   SeqSet      // SearchSeqSet, SearchUID
	Flag     string      // SearchFlag, SearchNoFlag
	Date     time.Time   // date keys: midnight UTC of the given day
	Size     int64       // SearchLarger, SearchSmaller
	Field    string      // SearchHeader
	Value    string      // string keys
	ModSeq   uint64      // SearchModSeq
	Interval uint32      // SearchOlder, SearchYounger: seconds, at least 1
}

// flagKeys are the search keys that test a system flag.
var flagKeys = map[string]SearchKey{
	"ANSWERED": {Op: SearchFlag, Flag: FlagAnswered}, "UNANSWERED": {Op: SearchNoFlag, Flag: FlagAnswered},
	"DELETED": {Op: SearchFlag, Flag: FlagDeleted}, "UNDELETED": {Op: SearchNoFlag, Flag: FlagDeleted},
	"DRAFT": {Op: SearchFlag, Flag: FlagDraft}, "UNDRAFT": {Op: SearchNoFlag, Flag: FlagDraft},
	"FLAGGED": {Op: SearchFlag, Flag: FlagFlagged}, "UNFLAGGED": {Op: SearchNoFlag, Flag: FlagFlagged},
	"SEEN": {Op: SearchFlag, Flag: FlagSeen}, "UNSEEN": {Op: SearchNoFlag, Flag: FlagSeen},
	// IMAP4rev1 only (RFC 3501 §6.4.4).
	"RECENT": {Op: SearchFlag, Flag: FlagRecent}, "OLD": {Op: SearchNoFlag, Flag: FlagRecent},
}

// stringKeys are the search keys that take one astring.
var stringKeys = map[string]SearchOp{
	"BCC": SearchBcc, "CC": SearchCc, "FROM": SearchFrom, "TO": SearchTo,
	"SUBJECT": SearchSubject, "BODY": SearchBody, "TEXT": SearchText,
}

// dateKeys are the search keys that take a date.
var dateKeys = map[string]SearchOp{
	"BEFORE": SearchBefore, "ON": SearchOn, "SINCE": SearchSince,
	"SENTBEFORE": SearchSentBefore, "SENTON": SearchSentOn, "SENTSINCE": SearchSentSince,
	// RFC 8514 §5: search-key =/ "SAVEDBEFORE" SP date / "SAVEDON" SP date /
	// "SAVEDSINCE" SP date.
	"SAVEDBEFORE": SearchSavedBefore, "SAVEDON": SearchSavedOn, "SAVEDSINCE": SearchSavedSince,
}

// searchNameChars are the bytes of a search key name.
var searchNameChars = newClass(func(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
})

// SearchKey decodes one search-key.
func (dec *Decoder) SearchKey(ptr *SearchKey) bool {
	c, ok := dec.peek()
	if !ok {
		return false
	}
	switch {
	case c == '(':
		var keys []SearchKey
		ok := dec.List(func() bool {
			var k SearchKey
			if !dec.ExpectSearchKey(&k) {
				return false
			}
			keys = append(keys, k)
			return true
		})
		if ok && len(keys) == 0 {
			return dec.Expect(false, "search key")
		}
		*ptr = andOf(keys)
		return ok
	case c >= '0' && c <= '9' || c == '*' || c == '$':
		*ptr = SearchKey{Op: SearchSeqSet}
		return dec.SeqSet(&ptr.SeqSet)
	}
	var name string
	if !dec.token(&name, &searchNameChars) {
		return false
	}
	return dec.searchKeyArgs(strings.ToUpper(name), ptr)
}

// ExpectSearchKey decodes a search-key or records an error.
func (dec *Decoder) ExpectSearchKey(ptr *SearchKey) bool {
	return dec.Expect(dec.SearchKey(ptr), "search key")
}

// searchKeyArgs decodes the arguments of the key called name.
func (dec *Decoder) searchKeyArgs(name string, k *SearchKey) bool {
	if fk, ok := flagKeys[name]; ok {
		*k = fk
		return true
	}
	if op, ok := stringKeys[name]; ok {
		*k = SearchKey{Op: op}
		return dec.ExpectSP() && dec.ExpectAString(&k.Value)
	}
	if op, ok := dateKeys[name]; ok {
		*k = SearchKey{Op: op}
		return dec.ExpectSP() && dec.ExpectDate(&k.Date)
	}
	switch name {
	case "ALL":
		*k = SearchKey{Op: SearchAll}
	case "SAVEDATESUPPORTED":
		*k = SearchKey{Op: SearchSaveDateSupported} // RFC 8514 §5
	case "NEW":
		*k = andOf([]SearchKey{flagKeys["RECENT"], flagKeys["UNSEEN"]})
	case "KEYWORD", "UNKEYWORD":
		*k = SearchKey{Op: SearchFlag}
		if name == "UNKEYWORD" {
			k.Op = SearchNoFlag
		}
		return dec.ExpectSP() && dec.ExpectAtom(&k.Flag)
	case "LARGER", "SMALLER":
		*k = SearchKey{Op: SearchLarger}
		if name == "SMALLER" {
			k.Op = SearchSmaller
		}
		return dec.ExpectSP() && dec.ExpectNumber64(&k.Size)
	case "HEADER":
		*k = SearchKey{Op: SearchHeader}
		return dec.ExpectSP() && dec.ExpectAString(&k.Field) && dec.ExpectSP() && dec.ExpectAString(&k.Value)
	case "UID":
		*k = SearchKey{Op: SearchUID}
		return dec.ExpectSP() && dec.ExpectSeqSet(&k.SeqSet)
	case "NOT", "OR":
		return dec.searchOperands(name, k)
	case "MODSEQ":
		return dec.searchModSeq(k)
	case "OLDER", "YOUNGER":
		// RFC 5032 §4: ( "OLDER" / "YOUNGER" ) SP nz-number.
		*k = SearchKey{Op: SearchOlder}
		if name == "YOUNGER" {
			k.Op = SearchYounger
		}
		return dec.ExpectSP() && dec.ExpectNzNumber(&k.Interval)
	case "EMAILID", "THREADID":
		// RFC 8474 §7: "EMAILID" SP objectid / "THREADID" SP objectid.
		*k = SearchKey{Op: SearchEmailID}
		if name == "THREADID" {
			k.Op = SearchThreadID
		}
		return dec.ExpectSP() && dec.ExpectObjectID(&k.Value)
	default:
		return dec.setErr(syntaxErrorf("unknown search key %q", name))
	}
	return true
}

// searchOperands decodes the operands of NOT (one) or OR (two). Like a
// parenthesised list, NOT and OR count one level of nesting (MaxNesting).
func (dec *Decoder) searchOperands(name string, k *SearchKey) bool {
	if dec.depth++; dec.depth > MaxNesting {
		return dec.setErr(syntaxErrorf("search keys nested too deeply"))
	}
	defer func() { dec.depth-- }()
	*k = SearchKey{Op: SearchNot, Children: make([]SearchKey, 1, 2)}
	if name == "OR" {
		k.Op, k.Children = SearchOr, k.Children[:2]
	}
	for i := range k.Children {
		if !dec.ExpectSP() || !dec.ExpectSearchKey(&k.Children[i]) {
			return false
		}
	}
	return true
}

// searchModSeq decodes the arguments of MODSEQ (RFC 7162 §3.1.5).
func (dec *Decoder) searchModSeq(k *SearchKey) bool {
	*k = SearchKey{Op: SearchModSeq}
	return dec.ExpectSearchModSeq(&k.ModSeq)
}

// ExpectSearchModSeq decodes what follows the MODSEQ search key (RFC 7162
// §3.1.5 and §7): [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
// The entry name must be "/flags/" and a flag, the entry type priv, shared
// or all; both are checked and dropped, since per-flag mod-sequences are
// not kept and a message's MODSEQ bounds every one of its flags'.
func (dec *Decoder) ExpectSearchModSeq(ptr *uint64) bool {
	if !dec.ExpectSP() {
		return false
	}
	if dec.Peek('"') {
		var entry, typ string
		if !dec.Quoted(&entry) || !dec.ExpectSP() || !dec.ExpectAtom(&typ) || !dec.ExpectSP() {
			return dec.Expect(false, "MODSEQ entry")
		}
		flag, ok := strings.CutPrefix(strings.ToLower(entry), "/flags/")
		if !ok || !isEntryFlag(flag) {
			return dec.setErr(syntaxErrorf("invalid MODSEQ entry name %q", entry))
		}
		switch strings.ToLower(typ) {
		case "priv", "shared", "all":
		default:
			return dec.setErr(syntaxErrorf("invalid MODSEQ entry type %q", typ))
		}
	}
	return dec.ExpectModSeq(ptr)
}

// isEntryFlag reports whether s is the attr-flag of an entry-flag-name
// (RFC 7162 §7): a system flag with its backslash, or a keyword atom.
func isEntryFlag(s string) bool {
	return isAtom(strings.TrimPrefix(s, `\`))
}

// andOf returns the conjunction of keys, the key itself when there is one.
func andOf(keys []SearchKey) SearchKey {
	if len(keys) == 1 {
		return keys[0]
	}
	return SearchKey{Op: SearchAnd, Children: keys}
}

// SearchReturn holds the RETURN options of an extended SEARCH (RFC 9051
// §6.4.4, RFC 4731 ESEARCH, RFC 5182 SAVE).
type SearchReturn struct {
	// Extended is set when RETURN was given: the result goes out as
	// ESEARCH. RETURN () means ALL.
	Extended bool

	Min, Max, All, Count, Save bool

	// RFC 5267 §4 (CONTEXT=SEARCH, CONTEXT=SORT): CONTEXT, a hint
	// (§4.2); UPDATE, live notifications (§4.3); PARTIAL lo:hi, a window
	// of the result (§4.4), nil when absent.
	Context, Update bool
	Partial         *PartialRange
}

// PartialRange is the argument of PARTIAL (RFC 5267 §4.4): positions in
// the result, 1-based, Lo <= Hi ("500:400" is "400:500").
type PartialRange struct {
	Lo, Hi uint32
}

// SearchArgs are the arguments of SEARCH and UID SEARCH.
type SearchArgs struct {
	Return SearchReturn
	// Charset is the CHARSET argument as sent, "" when absent. The strings
	// in Key are raw bytes in that charset.
	Charset string
	Key     SearchKey
}

// ParseSearchArgs decodes the arguments of SEARCH after the command name:
// [SP "RETURN" SP "(" …")"] SP ["CHARSET" SP charset SP] search-key
// *(SP search-key). It stops before the CRLF.
func ParseSearchArgs(dec *Decoder) SearchArgs {
	var args SearchArgs
	if !dec.ExpectSP() {
		return args
	}
	if dec.Keyword("RETURN") {
		if !dec.ExpectSP() || !dec.searchReturn(&args.Return) || !dec.ExpectSP() {
			return args
		}
	}
	if dec.Keyword("CHARSET") {
		if !dec.ExpectSP() {
			return args
		}
		if !dec.ExpectAString(&args.Charset) { // RFC 9051 §9: "CHARSET" SP charset, an astring
			return args
		}
		if !dec.ExpectSP() {
			return args
		}
	}
	var keys []SearchKey
	for {
		var k SearchKey
		if !dec.ExpectSearchKey(&k) {
			return args
		}
		keys = append(keys, k)
		if !dec.SP() {
			break
		}
	}
	args.Key = andOf(keys)
	return args
}

// searchReturn decodes "(" [search-return-opt *(SP search-return-opt)] ")".
func (dec *Decoder) searchReturn(r *SearchReturn) bool {
	r.Extended = true
	ok := dec.ExpectList(func() bool {
		var opt string
		if !dec.ExpectAtom(&opt) {
			return false
		}
		switch strings.ToUpper(opt) {
		case "MIN":
			r.Min = true
		case "MAX":
			r.Max = true
		case "ALL":
			r.All = true
		case "COUNT":
			r.Count = true
		case "SAVE":
			r.Save = true
		case "CONTEXT":
			r.Context = true
		case "UPDATE":
			if r.Update {
				return dec.setErr(syntaxErrorf("UPDATE given twice"))
			}
			r.Update = true
		case "PARTIAL":
			if r.Partial != nil {
				return dec.setErr(syntaxErrorf("PARTIAL given twice"))
			}
			r.Partial = &PartialRange{}
			return dec.ExpectSP() && dec.partialRange(r.Partial)
		default:
			return dec.setErr(syntaxErrorf("unknown SEARCH return option %q", opt))
		}
		return true
	})
	if ok && r.Partial != nil && r.All {
		// RFC 5267 §4.4: one PARTIAL, one ALL, or neither.
		return dec.setErr(syntaxErrorf("PARTIAL and ALL together"))
	}
	if ok && !r.Min && !r.Max && !r.Count && !r.Save && !r.Update && r.Partial == nil {
		// RFC 4731 §3.1: RETURN () is RETURN (ALL); so is RETURN
		// (CONTEXT), a hint with no result of its own (RFC 5267 §4.2).
		r.All = true
	}
	return ok
}

// partialRange decodes partial-range (RFC 5267 §5): nz-number ":"
// nz-number, with no "*".
func (dec *Decoder) partialRange(p *PartialRange) bool {
	if !dec.ExpectNzNumber(&p.Lo) || !dec.ExpectSpecial(':') || !dec.ExpectNzNumber(&p.Hi) {
		return false
	}
	if p.Lo > p.Hi {
		p.Lo, p.Hi = p.Hi, p.Lo
	}
	return true
}
