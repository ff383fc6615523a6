package imapwire

import "strings"

// The sort keys of RFC 5256 §3 and RFC 5957 §2 (SORT=DISPLAY), as
// SortCriterion.Key holds them.
const (
	SortArrival     = "ARRIVAL"
	SortCc          = "CC"
	SortDate        = "DATE"
	SortFrom        = "FROM"
	SortSize        = "SIZE"
	SortSubject     = "SUBJECT"
	SortTo          = "TO"
	SortDisplayFrom = "DISPLAYFROM"
	SortDisplayTo   = "DISPLAYTO"
)

// sortKeys is the set of sort-key names.
var sortKeys = map[string]bool{
	SortArrival: true, SortCc: true, SortDate: true, SortFrom: true, SortSize: true,
	SortSubject: true, SortTo: true, SortDisplayFrom: true, SortDisplayTo: true,
}

// SortCriterion is one sort-criterion: ["REVERSE" SP] sort-key.
type SortCriterion struct {
	Key     string // one of the Sort… constants
	Reverse bool
}

// SortArgs are the arguments of SORT and UID SORT (RFC 5256 §3).
type SortArgs struct {
	// Return holds the RETURN options of ESORT (RFC 5267 §3), the same
	// as SEARCH's; Return.Extended is set when RETURN was given.
	Return   SearchReturn
	Criteria []SortCriterion
	// Charset is mandatory in SORT; the strings of Key are raw bytes in
	// it (answering [BADCHARSET] is the caller's business).
	Charset string
	Key     SearchKey
}

// ParseSortArgs decodes the arguments of SORT after the command name
// (RFC 5256 §5):
//
//	sort            = ["UID" SP] "SORT" [search-return-opts]
//	                  SP sort-criteria SP search-criteria
//	sort-criteria   = "(" sort-criterion *(SP sort-criterion) ")"
//	sort-criterion  = ["REVERSE" SP] sort-key
//	search-criteria = charset 1*(SP search-key)
//
// with RFC 5267 §5's search-return-opts (SP "RETURN" SP "(" … ")"), the
// options of ESEARCH. It stops before the CRLF.
func ParseSortArgs(dec *Decoder) SortArgs {
	var args SortArgs
	if !dec.ExpectSP() {
		return args
	}
	if dec.Keyword("RETURN") {
		if !dec.ExpectSP() || !dec.searchReturn(&args.Return) || !dec.ExpectSP() {
			return args
		}
	}
	ok := dec.ExpectList(func() bool {
		var c SortCriterion
		if !dec.sortCriterion(&c) {
			return false
		}
		args.Criteria = append(args.Criteria, c)
		return true
	})
	if !ok {
		return args
	}
	if len(args.Criteria) == 0 {
		dec.Expect(false, "sort criterion")
		return args
	}
	if !dec.ExpectSP() || !dec.charset(&args.Charset) {
		return args
	}
	// Accepted beyond RFC 5267 §3's grammar: RETURN after the charset
	// (SORT (DATE) UTF-8 RETURN (ALL) ALL), where conformance suites
	// write it. "RETURN" is no search key, so nothing else is read
	// differently.
	if !args.Return.Extended && dec.aheadFold(" RETURN ") {
		dec.ExpectSP()
		dec.Keyword("RETURN")
		if !dec.ExpectSP() || !dec.searchReturn(&args.Return) {
			return args
		}
	}
	args.Key = dec.searchKeys()
	return args
}

// sortCriterion decodes ["REVERSE" SP] sort-key.
func (dec *Decoder) sortCriterion(c *SortCriterion) bool {
	var name string
	if !dec.ExpectAtom(&name) {
		return false
	}
	name = strings.ToUpper(name)
	if name == "REVERSE" {
		c.Reverse = true
		if !dec.ExpectSP() || !dec.ExpectAtom(&name) {
			return false
		}
		name = strings.ToUpper(name)
	}
	if !sortKeys[name] {
		return dec.setErr(syntaxErrorf("unknown sort key %q", name))
	}
	c.Key = name
	return true
}

// searchCriteria decodes the search-criteria of SORT and THREAD (RFC 5256
// §5): charset 1*(SP search-key), charset = atom / quoted.
func (dec *Decoder) searchCriteria() (charset string, key SearchKey) {
	if !dec.charset(&charset) {
		return "", key
	}
	return charset, dec.searchKeys()
}

// charset decodes the charset of search-criteria: an atom or a quoted
// string.
func (dec *Decoder) charset(charset *string) bool {
	return dec.Quoted(charset) || dec.ExpectAtom(charset)
}

// searchKeys decodes 1*(SP search-key), ANDed; the zero key when one
// failed (the decoder then holds the error).
func (dec *Decoder) searchKeys() (key SearchKey) {
	var keys []SearchKey
	for dec.ExpectSP() {
		var k SearchKey
		if !dec.ExpectSearchKey(&k) {
			return key
		}
		keys = append(keys, k)
		if !dec.Peek(' ') {
			break
		}
	}
	if len(keys) == 0 {
		return key
	}
	return andOf(keys)
}

// Sort writes the untagged response of SORT (RFC 5256 §4): "* SORT" and
// the numbers in sorted order, then, when modSeq is not zero, the
// "(MODSEQ n)" of RFC 7162 §3.1.6 (a SORT whose search used MODSEQ).
func (enc *Encoder) Sort(nums []uint32, modSeq uint64) error {
	enc.Untagged().raw("SORT")
	for _, n := range nums {
		enc.SP().Number(n)
	}
	if modSeq != 0 {
		enc.raw(" (MODSEQ ").ModSeq(modSeq).rawByte(')')
	}
	return enc.CRLF()
}

// SeqSetInOrder returns the numbers as a sequence-set that keeps their
// order, for the ALL of an ESORT result (RFC 5267 §3: the messages in
// the requested sort order): a run of consecutive ascending numbers
// becomes a range "a:b", every other number stands alone. No range is
// written descending, since RFC 9051 §9 gives "b:a" the meaning of "a:b".
func SeqSetInOrder(nums ...uint32) SeqSet {
	var set SeqSet
	for _, n := range nums {
		if n == 0 {
			continue
		}
		if k := len(set.Ranges); k > 0 && set.Ranges[k-1].Stop+1 == n && set.Ranges[k-1].Stop != 0 {
			set.Ranges[k-1].Stop = n
			continue
		}
		set.Ranges = append(set.Ranges, SeqRange{n, n})
	}
	return set
}

// aheadFold reports whether the input continues with s (ASCII case
// folded), consuming nothing. It peeks byte by byte, as Keyword does, so
// that a complete line shorter than s never blocks: the line's CRLF
// differs from s before the buffer runs out.
func (dec *Decoder) aheadFold(s string) bool {
	for i := 1; i <= len(s); i++ {
		b, _ := dec.r.Peek(i)
		if len(b) < i || !strings.EqualFold(string(b[i-1:i]), s[i-1:i]) {
			return false
		}
	}
	return true
}
