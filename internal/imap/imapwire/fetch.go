package imapwire

import (
	"strconv"
	"strings"
)

// A FetchAttr is the kind of a FETCH data item (RFC 9051 §6.4.5).
type FetchAttr uint8

// The FETCH data items. Each FetchItem has one.
const (
	FetchEnvelope      FetchAttr = iota + 1 // ENVELOPE
	FetchFlags                              // FLAGS
	FetchInternalDate                       // INTERNALDATE
	FetchRFC822Size                         // RFC822.SIZE
	FetchUID                                // UID
	FetchBodyStructure                      // BODYSTRUCTURE
	FetchBody                               // BODY, without a section: the non-extensible structure
	FetchBodySection                        // BODY[…] and BODY.PEEK[…], with Section, Peek, Partial
	FetchBinarySection                      // BINARY[…] and BINARY.PEEK[…] (RFC 3516)
	FetchBinarySize                         // BINARY.SIZE[…] (RFC 3516)
	FetchRFC822                             // RFC822 (IMAP4rev1): BODY[] in the response as RFC822
	FetchRFC822Header                       // RFC822.HEADER (IMAP4rev1): like BODY.PEEK[HEADER]
	FetchRFC822Text                         // RFC822.TEXT (IMAP4rev1): like BODY[TEXT]
	FetchModSeq                             // MODSEQ (RFC 7162 §3.1.4)
	FetchPreview                            // PREVIEW [(LAZY)] (RFC 8970 §3.1)
	FetchEmailID                            // EMAILID (RFC 8474 §5.1)
	FetchThreadID                           // THREADID (RFC 8474 §5.2)
	FetchSaveDate                           // SAVEDATE (RFC 8514 §4.2)
)

// simpleFetchAttrs maps the names of data items without a section.
var simpleFetchAttrs = map[string]FetchAttr{
	"ENVELOPE": FetchEnvelope, "FLAGS": FetchFlags, "INTERNALDATE": FetchInternalDate,
	"RFC822.SIZE": FetchRFC822Size, "UID": FetchUID, "BODYSTRUCTURE": FetchBodyStructure,
	"BODY": FetchBody, "RFC822": FetchRFC822, "RFC822.HEADER": FetchRFC822Header,
	"RFC822.TEXT": FetchRFC822Text, "MODSEQ": FetchModSeq, "PREVIEW": FetchPreview,
	"EMAILID": FetchEmailID, "THREADID": FetchThreadID, "SAVEDATE": FetchSaveDate,
}

// fetchAttrNames is the reverse of simpleFetchAttrs.
var fetchAttrNames = func() map[FetchAttr]string {
	m := make(map[FetchAttr]string, len(simpleFetchAttrs))
	for k, v := range simpleFetchAttrs {
		m[v] = k
	}
	return m
}()

// fetchMacros are ALL, FAST and FULL (RFC 9051 §6.4.5).
var fetchMacros = map[string][]FetchAttr{
	"ALL":  {FetchFlags, FetchInternalDate, FetchRFC822Size, FetchEnvelope},
	"FAST": {FetchFlags, FetchInternalDate, FetchRFC822Size},
	"FULL": {FetchFlags, FetchInternalDate, FetchRFC822Size, FetchEnvelope, FetchBody},
}

// A SectionSpecifier is the text part of a section-spec.
type SectionSpecifier uint8

// The section specifiers of RFC 9051 §6.4.5.
const (
	SectionAll             SectionSpecifier = iota // the whole part: BODY[] or BODY[1.2]
	SectionHeader                                  // HEADER
	SectionHeaderFields                            // HEADER.FIELDS (…)
	SectionHeaderFieldsNot                         // HEADER.FIELDS.NOT (…)
	SectionText                                    // TEXT
	SectionMIME                                    // MIME, only after a part number
)

var sectionSpecifierNames = [...]string{"", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"}

// A Section names part of a message: BODY[1.2.HEADER.FIELDS (From)] has
// Part [1 2], Specifier SectionHeaderFields and Fields ["From"].
type Section struct {
	Part      []uint32 // MIME part path; empty for the whole message
	Specifier SectionSpecifier
	Fields    []string // header field names, as the client spelled them
}

// String returns the section-spec, what goes between the brackets.
func (s Section) String() string {
	var b strings.Builder
	for i, p := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(p), 10))
	}
	if s.Specifier != SectionAll {
		if len(s.Part) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(sectionSpecifierNames[s.Specifier])
	}
	if s.Specifier == SectionHeaderFields || s.Specifier == SectionHeaderFieldsNot {
		b.WriteString(" (")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(astringForm(f))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// A Partial is the <offset.count> suffix of BODY[…] and BINARY[…].
// RFC 9051's grammar requires the count; a client that leaves it out
// (<offset>, as Dovecot accepts) asks for everything from offset to the
// end, which Count 0 stands for.
type Partial struct {
	Offset int64
	Count  int64 // 0: to the end
}

// Window returns the start and length of the partial in data of size n;
// a nil Partial is the whole.
func (p *Partial) Window(n int64) (start, count int64) {
	if p == nil {
		return 0, n
	}
	start = min(p.Offset, n)
	count = n - start
	if p.Count > 0 {
		count = min(p.Count, count)
	}
	return start, count
}

// A FetchItem is one FETCH data item.
type FetchItem struct {
	Attr    FetchAttr
	Peek    bool     // .PEEK: do not set \Seen
	Section Section  // for FetchBodySection, FetchBinarySection, FetchBinarySize
	Partial *Partial // for FetchBodySection, FetchBinarySection
	Lazy    bool     // PREVIEW (LAZY), RFC 8970 §3.1
}

// String returns the item as a client writes it in a FETCH command.
func (it FetchItem) String() string {
	s := it.name(true)
	if p := it.Partial; p != nil {
		s += "<" + strconv.FormatInt(p.Offset, 10)
		if p.Count > 0 {
			s += "." + strconv.FormatInt(p.Count, 10)
		}
		s += ">"
	}
	return s
}

// ResponseName returns the name under which the server returns the item in
// a FETCH response (RFC 9051 §7.5.2): without .PEEK, and with a partial
// reduced to its origin, as "BODY[HEADER]<0>".
func (it FetchItem) ResponseName() string {
	s := it.name(false)
	if it.Partial != nil {
		s += "<" + strconv.FormatInt(it.Partial.Offset, 10) + ">"
	}
	return s
}

// name returns the item's name and section.
func (it FetchItem) name(withPeek bool) string {
	var base string
	switch it.Attr {
	case FetchBodySection:
		base = "BODY"
	case FetchBinarySection:
		base = "BINARY"
	case FetchBinarySize:
		return "BINARY.SIZE[" + it.Section.String() + "]"
	default:
		return fetchAttrNames[it.Attr]
	}
	if withPeek && it.Peek {
		base += ".PEEK"
	}
	return base + "[" + it.Section.String() + "]"
}

// SetsSeen reports whether fetching the item sets \Seen (RFC 9051 §6.4.5):
// BODY[…], BINARY[…], RFC822 and RFC822.TEXT without .PEEK.
func (it FetchItem) SetsSeen() bool {
	switch it.Attr {
	case FetchBodySection, FetchBinarySection:
		return !it.Peek
	case FetchRFC822, FetchRFC822Text:
		return true
	}
	return false
}

// fetchNameChars are the bytes of a FETCH item name, before any "[".
var fetchNameChars = newClass(func(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '-'
})

// FetchItem decodes one fetch-att.
func (dec *Decoder) FetchItem(ptr *FetchItem) bool {
	raw := dec.readWhile(&fetchNameChars)
	if len(raw) == 0 {
		return false
	}
	name := strings.ToUpper(string(raw))
	var it FetchItem
	switch name {
	case "BODY", "BODY.PEEK":
		if name == "BODY" && !dec.Peek('[') {
			*ptr = FetchItem{Attr: FetchBody}
			return true
		}
		it = FetchItem{Attr: FetchBodySection, Peek: name == "BODY.PEEK"}
		if !dec.expectSection(&it.Section) || !dec.partial(&it.Partial) {
			return false
		}
	case "BINARY", "BINARY.PEEK", "BINARY.SIZE":
		it = FetchItem{Attr: FetchBinarySection, Peek: name == "BINARY.PEEK"}
		if name == "BINARY.SIZE" {
			it = FetchItem{Attr: FetchBinarySize}
		}
		if !dec.expectSection(&it.Section) {
			return false
		}
		if name != "BINARY.SIZE" && !dec.partial(&it.Partial) {
			return false
		}
	default:
		attr, ok := simpleFetchAttrs[name]
		if !ok {
			return dec.setErr(syntaxErrorf("unknown FETCH item %q", name))
		}
		it = FetchItem{Attr: attr}
		if attr == FetchPreview && !dec.previewMods(&it) {
			return false
		}
	}
	*ptr = it
	return true
}

// previewMods decodes PREVIEW's optional SP "(" preview-mod *(SP
// preview-mod) ")", preview-mod = "LAZY" (RFC 8970 §6). The space is
// taken only when a "(" follows it: in a list of items a space also
// separates the next item, which never starts with "(".
func (dec *Decoder) previewMods(it *FetchItem) bool {
	if !dec.ready() {
		return false
	}
	if b, _ := dec.r.Peek(2); len(b) < 2 || b[0] != ' ' || b[1] != '(' {
		return true
	}
	dec.SP()
	n := 0
	return dec.ExpectList(func() bool {
		n++
		if !dec.Keyword("LAZY") {
			return dec.Expect(false, "LAZY")
		}
		it.Lazy = true
		return true
	}) && dec.Expect(n > 0, "LAZY")
}

// ExpectFetchItem decodes a fetch-att or records an error.
func (dec *Decoder) ExpectFetchItem(ptr *FetchItem) bool {
	return dec.Expect(dec.FetchItem(ptr), "FETCH item")
}

// ExpectFetchItems decodes the item part of a FETCH command: a macro (ALL,
// FAST, FULL, expanded), one fetch-att, or a parenthesised list of them.
func (dec *Decoder) ExpectFetchItems(ptr *[]FetchItem) bool {
	var items []FetchItem
	add := func() bool {
		var it FetchItem
		if !dec.ExpectFetchItem(&it) {
			return false
		}
		items = append(items, it)
		return true
	}
	if dec.Peek('(') {
		if !dec.List(add) {
			return false
		}
		if len(items) == 0 {
			return dec.Expect(false, "FETCH item")
		}
	} else {
		for _, kw := range []string{"ALL", "FAST", "FULL"} {
			if dec.Keyword(kw) {
				for _, a := range fetchMacros[kw] {
					items = append(items, FetchItem{Attr: a})
				}
				*ptr = items
				return true
			}
		}
		if !add() {
			return false
		}
	}
	*ptr = items
	return dec.err == nil
}

// expectSection decodes "[" [section-spec] "]".
func (dec *Decoder) expectSection(s *Section) bool {
	if !dec.ExpectSpecial('[') {
		return false
	}
	*s = Section{}
	if dec.Special(']') {
		return true
	}
	if !dec.sectionPart(&s.Part) {
		return false
	}
	if len(s.Part) > 0 && !dec.Special('.') {
		return dec.ExpectSpecial(']')
	}
	var spec string
	if !dec.Expect(dec.token(&spec, &fetchNameChars), "section text") {
		return false
	}
	switch strings.ToUpper(spec) {
	case "HEADER":
		s.Specifier = SectionHeader
	case "HEADER.FIELDS":
		s.Specifier = SectionHeaderFields
	case "HEADER.FIELDS.NOT":
		s.Specifier = SectionHeaderFieldsNot
	case "TEXT":
		s.Specifier = SectionText
	case "MIME":
		if len(s.Part) == 0 {
			// RFC 9051 §9: MIME is section-text, only after a section-part.
			return dec.setErr(syntaxErrorf("MIME needs a part number"))
		}
		s.Specifier = SectionMIME
	default:
		return dec.setErr(syntaxErrorf("unknown section %q", spec))
	}
	if s.Specifier == SectionHeaderFields || s.Specifier == SectionHeaderFieldsNot {
		if !dec.ExpectSP() || !dec.expectHeaderList(&s.Fields) {
			return false
		}
	}
	return dec.ExpectSpecial(']')
}

// expectHeaderList decodes "(" header-fld-name *(SP header-fld-name) ")".
func (dec *Decoder) expectHeaderList(fields *[]string) bool {
	ok := dec.ExpectList(func() bool {
		var f string
		if !dec.ExpectAString(&f) {
			return false
		}
		if !isFieldName(f) {
			return dec.setErr(syntaxErrorf("invalid header field name %q", f))
		}
		*fields = append(*fields, f)
		return true
	})
	if ok && len(*fields) == 0 {
		return dec.Expect(false, "header field name")
	}
	return ok
}

// sectionPart decodes nz-number *("." nz-number), leaving a "." that is not
// followed by a number for the caller. It succeeds, with no part, when
// there is no number.
func (dec *Decoder) sectionPart(part *[]uint32) bool {
	for {
		var n uint32
		if !dec.NzNumber(&n) {
			return dec.err == nil
		}
		*part = append(*part, n)
		if c, _ := dec.r.Peek(2); len(c) == 2 && c[0] == '.' && c[1] >= '0' && c[1] <= '9' {
			dec.accept('.')
			continue
		}
		return true
	}
}

// partial decodes an optional "<" number64 ["." nz-number64] ">" (the
// count is optional here, see Partial).
func (dec *Decoder) partial(ptr **Partial) bool {
	if !dec.Special('<') {
		return dec.err == nil
	}
	var p Partial
	if !dec.ExpectNumber64(&p.Offset) {
		return false
	}
	if dec.Special('.') {
		if !dec.ExpectNumber64(&p.Count) {
			return false
		}
		if p.Count == 0 {
			return dec.setErr(syntaxErrorf("partial count must not be zero"))
		}
	}
	*ptr = &p
	return dec.ExpectSpecial('>')
}

// astringForm returns a header field name as an astring: bare when it can
// be, else quoted. Field names are printable US-ASCII (checked when they
// are decoded), so they never need a literal.
func astringForm(s string) string {
	if isAStringAtom(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// isFieldName reports whether s is an RFC 5322 field-name: 1*ftext,
// printable US-ASCII except ":".
func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 || s[i] == ':' {
			return false
		}
	}
	return true
}
