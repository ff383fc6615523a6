package imapwire

import (
	"strings"
	"time"
)

// The Parse…Args functions decode a command's arguments from just after
// its name, leading SP included, up to but not including the final CRLF:
// the handler ends its parse phase with ExpectCRLF and one check of Err.

// LoginArgs are the arguments of LOGIN.
type LoginArgs struct {
	Username, Password string
}

// ParseLoginArgs decodes SP userid SP password.
func ParseLoginArgs(dec *Decoder) LoginArgs {
	var a LoginArgs
	_ = dec.ExpectSP() && dec.ExpectAString(&a.Username) && dec.ExpectSP() && dec.ExpectAString(&a.Password)
	return a
}

// AuthenticateArgs are the arguments of AUTHENTICATE.
type AuthenticateArgs struct {
	Mechanism string // upper-cased
	// InitialResponse is the SASL-IR initial response (RFC 4959), still in
	// base64; "=" (an empty response) is returned as "". Nil when absent.
	InitialResponse *string
}

// base64Chars are the bytes of base64 with padding.
var base64Chars = newClass(func(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '='
})

// ParseAuthenticateArgs decodes SP auth-type [SP initial-resp].
func ParseAuthenticateArgs(dec *Decoder) AuthenticateArgs {
	var a AuthenticateArgs
	if !dec.ExpectSP() || !dec.ExpectAtom(&a.Mechanism) {
		return a
	}
	a.Mechanism = strings.ToUpper(a.Mechanism)
	if dec.SP() {
		var ir string
		if dec.Expect(dec.token(&ir, &base64Chars), "initial response") {
			if ir == "=" {
				ir = ""
			}
			a.InitialResponse = &ir
		}
	}
	return a
}

// Line decodes the rest of a line, possibly empty, and its CRLF: a line of
// an AUTHENTICATE exchange or the DONE that ends IDLE.
func (dec *Decoder) Line(ptr *string) bool {
	var s string
	dec.Text(&s)
	if !dec.ExpectCRLF() {
		return false
	}
	*ptr = s
	return true
}

// EnableArgs are the arguments of ENABLE (RFC 5161).
type EnableArgs struct {
	Capabilities []string // upper-cased
}

// ParseEnableArgs decodes 1*(SP capability).
func ParseEnableArgs(dec *Decoder) EnableArgs {
	var a EnableArgs
	for {
		var c string
		if !dec.ExpectSP() || !dec.ExpectAtom(&c) {
			return a
		}
		a.Capabilities = append(a.Capabilities, strings.ToUpper(c))
		if !dec.Peek(' ') {
			return a
		}
	}
}

// SelectArgs are the arguments of SELECT and EXAMINE.
type SelectArgs struct {
	Mailbox   string
	CondStore bool          // (CONDSTORE), RFC 7162 §3.1.8
	QResync   *QResyncParam // (QRESYNC (…)), RFC 7162 §3.2.5; nil when absent
}

// ParseSelectArgs decodes SP mailbox [SP "(" select-param *(SP …) ")"].
func ParseSelectArgs(dec *Decoder) SelectArgs {
	var a SelectArgs
	if !dec.ExpectSP() || !dec.ExpectMailbox(&a.Mailbox) || !dec.SP() {
		return a
	}
	dec.ExpectList(func() bool { return dec.selectParam(&a) })
	return a
}

// MailboxArgs are the arguments of DELETE, SUBSCRIBE and UNSUBSCRIBE.
type MailboxArgs struct {
	Mailbox string
}

// ParseMailboxArgs decodes SP mailbox.
func ParseMailboxArgs(dec *Decoder) MailboxArgs {
	var a MailboxArgs
	_ = dec.ExpectSP() && dec.ExpectMailbox(&a.Mailbox)
	return a
}

// CreateArgs are the arguments of CREATE.
type CreateArgs struct {
	Mailbox string
	// SpecialUse holds the attributes of "(USE (…))", CREATE-SPECIAL-USE
	// (RFC 6154 §3), as sent (for instance `\Sent`).
	SpecialUse []string
}

// ParseCreateArgs decodes SP mailbox [SP "(" "USE" SP "(" …")" ")"].
func ParseCreateArgs(dec *Decoder) CreateArgs {
	var a CreateArgs
	if !dec.ExpectSP() || !dec.ExpectMailbox(&a.Mailbox) || !dec.SP() {
		return a
	}
	dec.ExpectList(func() bool {
		if !dec.ExpectKeyword("USE") || !dec.ExpectSP() {
			return false
		}
		return dec.ExpectList(func() bool {
			var f string
			if !dec.ExpectFlag(&f) {
				return false
			}
			a.SpecialUse = append(a.SpecialUse, f)
			return true
		})
	})
	return a
}

// RenameArgs are the arguments of RENAME.
type RenameArgs struct {
	From, To string
}

// ParseRenameArgs decodes SP mailbox SP mailbox.
func ParseRenameArgs(dec *Decoder) RenameArgs {
	var a RenameArgs
	_ = dec.ExpectSP() && dec.ExpectMailbox(&a.From) && dec.ExpectSP() && dec.ExpectMailbox(&a.To)
	return a
}

// StatusArgs are the arguments of STATUS.
type StatusArgs struct {
	Mailbox string
	Items   []StatusItem
}

// ParseStatusArgs decodes SP mailbox SP "(" status-att *(SP status-att) ")".
func ParseStatusArgs(dec *Decoder) StatusArgs {
	var a StatusArgs
	_ = dec.ExpectSP() && dec.ExpectMailbox(&a.Mailbox) && dec.ExpectSP() && dec.ExpectStatusItems(&a.Items)
	return a
}

// AppendMessage is one message of APPEND (MULTIAPPEND, RFC 3502, allows
// several): its options and the header of its literal, whose data the
// caller reads with LiteralReader after deciding to accept it. With
// Catenate (RFC 4469 §5: "CATENATE (" cat-part *(SP cat-part) ")") there
// is no literal: the caller reads the parts with ParseCatPart.
type AppendMessage struct {
	Flags    []string
	Date     time.Time // zero when absent
	Literal  LiteralInfo
	Catenate bool
	// Parts are the parts of a CATENATE as ParseCommand returns them; a
	// server reads them one by one instead.
	Parts []CatPart
}

// CatPart is one part of a CATENATE (RFC 4469 §5): a TEXT literal, whose
// data the caller reads with LiteralReader after deciding to accept it,
// or an IMAP URL (an astring, not yet parsed: see ParseIMAPURL).
type CatPart struct {
	Text    bool
	Literal LiteralInfo // Text
	URL     string      // !Text
}

// ParseCatPart decodes one cat-part ("TEXT" SP literal / "URL" SP
// astring), reading no literal data. After the caller has read a TEXT
// part's data, CatPartEnd tells whether another part follows.
func ParseCatPart(dec *Decoder) CatPart {
	var p CatPart
	switch {
	case dec.Keyword("TEXT"):
		p.Text = true
		// RFC 4469 §5: a literal, not a literal8.
		_ = dec.ExpectSP() && dec.ExpectLiteralHeader(&p.Literal)
	case dec.Keyword("URL"):
		_ = dec.ExpectSP() && dec.ExpectAString(&p.URL)
	default:
		dec.Expect(false, "TEXT or URL")
	}
	return p
}

// CatPartEnd decodes what follows a cat-part: SP (another part follows:
// more is true) or ")" (the last part).
func CatPartEnd(dec *Decoder) (more bool) {
	if dec.SP() {
		return true
	}
	dec.ExpectSpecial(')')
	return false
}

// ParseAppendMailbox decodes the first argument of APPEND: SP mailbox.
// ParseAppendMessage follows, once per message.
func ParseAppendMailbox(dec *Decoder) string {
	var name string
	_ = dec.ExpectSP() && dec.ExpectMailbox(&name)
	return name
}

// ParseAppendMessage decodes SP [flag-list SP] [date-time SP] and the
// header of a literal or literal8 (RFC 3516 §4.4). It reads no data.
//
// The caller then checks m.Literal.Size (answering NO [TOOBIG] to refuse
// it: DiscardLine skips the data of a non-synchronising literal), sends
// "+ Ready" for a synchronising literal, reads LiteralReader(m.Literal) to
// its end. Another message follows when Peek(' ') reports true (call
// ParseAppendMessage again); otherwise the command ends with CRLF.
func ParseAppendMessage(dec *Decoder) AppendMessage {
	var m AppendMessage
	if !dec.ExpectSP() {
		return m
	}
	if dec.Peek('(') {
		if !dec.ExpectFlagList(&m.Flags) || !dec.ExpectSP() {
			return m
		}
	}
	if dec.DateTime(&m.Date) && !dec.ExpectSP() {
		return m
	}
	if dec.Keyword("CATENATE") {
		// RFC 4469 §5; the parts follow (ParseCatPart).
		m.Catenate = true
		_ = dec.ExpectSP() && dec.ExpectSpecial('(')
		return m
	}
	if !dec.LiteralHeader(&m.Literal) && !dec.Literal8Header(&m.Literal) {
		dec.Expect(false, "literal")
	}
	return m
}

// ReplaceArgs are the leading arguments of REPLACE and UID REPLACE (RFC
// 8508 §5: "REPLACE" SP seq-number SP mailbox append-message): the message
// to replace and the mailbox to append to. One message to append follows,
// as with APPEND (ParseAppendMessage), then CRLF: REPLACE has no
// MULTIAPPEND form (RFC 8508 §4.7).
type ReplaceArgs struct {
	Msg     uint32 // a sequence number or, for UID REPLACE, a UID; Star for "*"
	Mailbox string
}

// ParseReplaceArgs decodes SP seq-number SP mailbox.
func ParseReplaceArgs(dec *Decoder) ReplaceArgs {
	var a ReplaceArgs
	if !dec.ExpectSP() {
		return a
	}
	if !dec.Special('*') && !dec.ExpectNzNumber(&a.Msg) {
		return a
	}
	_ = dec.ExpectSP() && dec.ExpectMailbox(&a.Mailbox)
	return a
}

// SeqSet returns the message of a as a sequence set of one number.
func (a ReplaceArgs) SeqSet() SeqSet {
	return SeqSet{Ranges: []SeqRange{{Start: a.Msg, Stop: a.Msg}}}
}

// FetchArgs are the arguments of FETCH and UID FETCH.
type FetchArgs struct {
	SeqSet SeqSet
	Items  []FetchItem
	// ChangedSince is the CHANGEDSINCE modifier (RFC 7162 §3.1.4), 0 when
	// absent.
	ChangedSince uint64
	Vanished     bool // VANISHED (RFC 7162 §3.2.6), UID FETCH only
}

// ParseFetchArgs decodes SP sequence-set SP items [SP fetch-modifiers].
func ParseFetchArgs(dec *Decoder) FetchArgs {
	var a FetchArgs
	if !dec.ExpectSP() || !dec.ExpectSeqSet(&a.SeqSet) || !dec.ExpectSP() || !dec.ExpectFetchItems(&a.Items) {
		return a
	}
	if !dec.SP() {
		return a
	}
	dec.ExpectList(func() bool {
		var m string
		if !dec.ExpectAtom(&m) {
			return false
		}
		switch strings.ToUpper(m) {
		case "CHANGEDSINCE":
			return dec.ExpectSP() && dec.ExpectNzModSeq(&a.ChangedSince)
		case "VANISHED":
			a.Vanished = true
			return true
		}
		return dec.setErr(syntaxErrorf("unknown FETCH modifier %q", m))
	})
	return a
}

// StoreMode says how STORE changes flags.
type StoreMode uint8

// The STORE modes.
const (
	StoreReplace StoreMode = iota // FLAGS
	StoreAdd                      // +FLAGS
	StoreRemove                   // -FLAGS
)

// StoreArgs are the arguments of STORE and UID STORE.
type StoreArgs struct {
	SeqSet SeqSet
	Mode   StoreMode
	Silent bool // .SILENT
	Flags  []string
	// UnchangedSince is the UNCHANGEDSINCE modifier (RFC 7162 §3.1.3);
	// HasUnchangedSince tells 0 apart from absent.
	UnchangedSince    uint64
	HasUnchangedSince bool
}

// ParseStoreArgs decodes SP sequence-set [SP store-modifiers] SP
// store-att-flags.
func ParseStoreArgs(dec *Decoder) StoreArgs {
	var a StoreArgs
	if !dec.ExpectSP() || !dec.ExpectSeqSet(&a.SeqSet) || !dec.ExpectSP() {
		return a
	}
	if dec.Peek('(') {
		ok := dec.ExpectList(func() bool {
			a.HasUnchangedSince = true
			return dec.ExpectKeyword("UNCHANGEDSINCE") && dec.ExpectSP() && dec.ExpectModSeq(&a.UnchangedSince)
		})
		if !ok || !dec.ExpectSP() {
			return a
		}
	}
	switch {
	case dec.Special('+'):
		a.Mode = StoreAdd
	case dec.Special('-'):
		a.Mode = StoreRemove
	}
	var name string
	if !dec.ExpectAtom(&name) {
		return a
	}
	switch strings.ToUpper(name) {
	case "FLAGS":
	case "FLAGS.SILENT":
		a.Silent = true
	default:
		dec.Expect(false, "FLAGS")
		return a
	}
	if !dec.ExpectSP() {
		return a
	}
	if dec.Peek('(') {
		dec.ExpectFlagList(&a.Flags)
		return a
	}
	for {
		var f string
		if !dec.ExpectFlag(&f) {
			return a
		}
		a.Flags = append(a.Flags, f)
		if !dec.SP() {
			return a
		}
	}
}

// CopyArgs are the arguments of COPY, MOVE and their UID forms.
type CopyArgs struct {
	SeqSet  SeqSet
	Mailbox string
}

// ParseCopyArgs decodes SP sequence-set SP mailbox.
func ParseCopyArgs(dec *Decoder) CopyArgs {
	var a CopyArgs
	_ = dec.ExpectSP() && dec.ExpectSeqSet(&a.SeqSet) && dec.ExpectSP() && dec.ExpectMailbox(&a.Mailbox)
	return a
}

// ParseSeqSetArgs decodes SP sequence-set, the argument of UID EXPUNGE.
func ParseSeqSetArgs(dec *Decoder) SeqSet {
	var s SeqSet
	_ = dec.ExpectSP() && dec.ExpectSeqSet(&s)
	return s
}

// IDParam is one field of the ID command (RFC 2971).
type IDParam struct {
	Key   string
	Value *string // nil for NIL
}

// ParseIDArgs decodes SP ("(" *(string SP nstring) ")" / NIL). NIL and
// "()" both give no parameters.
func ParseIDArgs(dec *Decoder) []IDParam {
	var params []IDParam
	if !dec.ExpectSP() || dec.NIL() {
		return nil
	}
	dec.ExpectList(func() bool {
		var p IDParam
		if !dec.ExpectString(&p.Key) || !dec.ExpectSP() || !dec.ExpectNString(&p.Value) {
			return false
		}
		params = append(params, p)
		return true
	})
	return params
}

// ParseCancelUpdateArgs decodes the arguments of CANCELUPDATE (RFC 5267
// §4.3.5, §5): 1*(SP quoted), the tags of the searching commands whose
// updates end.
func ParseCancelUpdateArgs(dec *Decoder) []string {
	var tags []string
	for {
		var t string
		if !dec.ExpectSP() || !dec.Expect(dec.Quoted(&t), "quoted tag") {
			return tags
		}
		tags = append(tags, t)
		if !dec.Peek(' ') {
			return tags
		}
	}
}
