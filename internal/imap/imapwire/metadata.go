package imapwire

import (
	"bytes"
	"io"
	"strings"
)

// METADATA (RFC 5464): the arguments of GETMETADATA and SETMETADATA and
// the METADATA response.

// DepthInfinity is GETMETADATA's DEPTH infinity (RFC 5464 §4.2.2).
const DepthInfinity = -1

// GetMetadataArgs are the arguments of GETMETADATA (RFC 5464 §4.2):
// MaxSize is -1 without the MAXSIZE option; Depth is 0, 1 or
// DepthInfinity. Entry names are in lower case (§3.2: they are
// case-insensitive).
type GetMetadataArgs struct {
	MaxSize int64
	Depth   int
	Mailbox string // "" for the server
	Entries []string
}

// MetadataValue is one entry of SETMETADATA: Nil removes the entry.
type MetadataValue struct {
	Name  string
	Value []byte
	Nil   bool
}

// SetMetadataArgs are the arguments of SETMETADATA (RFC 5464 §4.3).
type SetMetadataArgs struct {
	Mailbox string
	Entries []MetadataValue
}

// ParseGetMetadataArgs decodes SP ["(" getmetadata-option *(SP
// getmetadata-option) ")" SP] mailbox SP entries (RFC 5464 §5).
func ParseGetMetadataArgs(dec *Decoder) GetMetadataArgs {
	a := GetMetadataArgs{MaxSize: -1}
	if !dec.ExpectSP() {
		return a
	}
	if dec.Peek('(') {
		n := 0
		if !dec.ExpectList(func() bool { n++; return dec.getMetadataOption(&a) }) ||
			!dec.Expect(n > 0, "MAXSIZE or DEPTH") || !dec.ExpectSP() {
			return a
		}
	}
	if !dec.ExpectMailbox(&a.Mailbox) || !dec.ExpectSP() {
		return a
	}
	// entries = entry / "(" entry *(SP entry) ")"
	add := func() bool {
		var e string
		if !dec.metadataEntry(&e) {
			return false
		}
		a.Entries = append(a.Entries, e)
		return true
	}
	if dec.Peek('(') {
		_ = dec.ExpectList(add) && dec.Expect(len(a.Entries) > 0, "entry")
	} else {
		add()
	}
	return a
}

// getMetadataOption decodes "MAXSIZE" SP number / "DEPTH" SP ("0" / "1"
// / "infinity").
func (dec *Decoder) getMetadataOption(a *GetMetadataArgs) bool {
	switch {
	case dec.Keyword("MAXSIZE"):
		var n uint32
		if !dec.ExpectSP() || !dec.Expect(dec.Number(&n), "number") {
			return false
		}
		a.MaxSize = int64(n)
		return true
	case dec.Keyword("DEPTH"):
		if !dec.ExpectSP() {
			return false
		}
		switch {
		case dec.Keyword("infinity"):
			a.Depth = DepthInfinity
		case dec.Keyword("0"):
			a.Depth = 0
		case dec.Keyword("1"):
			a.Depth = 1
		default:
			return dec.Expect(false, "0, 1 or infinity")
		}
		return true
	}
	return dec.Expect(false, "MAXSIZE or DEPTH")
}

// ParseSetMetadataArgs decodes SP mailbox SP "(" entry SP value *(SP entry
// SP value) ")" (RFC 5464 §5), value = nstring / literal8. A literal
// value is read into memory, bounded by Options.MaxLineLength as any
// string.
func ParseSetMetadataArgs(dec *Decoder) SetMetadataArgs {
	var a SetMetadataArgs
	if !dec.ExpectSP() || !dec.ExpectMailbox(&a.Mailbox) || !dec.ExpectSP() {
		return a
	}
	_ = dec.ExpectList(func() bool {
		var v MetadataValue
		if !dec.metadataEntry(&v.Name) || !dec.ExpectSP() || !dec.metadataValue(&v) {
			return false
		}
		a.Entries = append(a.Entries, v)
		return true
	}) && dec.Expect(len(a.Entries) > 0, "entry")
	return a
}

// metadataValue decodes value = nstring / literal8.
func (dec *Decoder) metadataValue(v *MetadataValue) bool {
	if dec.Keyword("NIL") {
		v.Nil = true
		return true
	}
	if dec.Peek('~') {
		return dec.literal8Bytes(&v.Value)
	}
	var s string
	if !dec.ExpectString(&s) {
		return false
	}
	v.Value = []byte(s)
	return true
}

// literal8Bytes reads a literal8 into memory (RFC 3516 §4.1: NUL
// allowed), under the same bound and consent as a literal string.
func (dec *Decoder) literal8Bytes(out *[]byte) bool {
	var info LiteralInfo
	if !dec.literalHeader(&info, true) {
		return false
	}
	if room := int64(dec.opts.MaxLineLength - dec.n); info.Size > room {
		return dec.setErr(&LiteralTooBigError{Size: info.Size, Limit: room, NonSync: info.NonSync})
	}
	if dec.opts.OnLiteral != nil {
		if err := dec.opts.OnLiteral(info); err != nil {
			return dec.setErr(&LiteralRefusedError{Info: info, Err: err})
		}
	}
	dec.pending = false
	data := make([]byte, info.Size)
	if _, err := io.ReadFull(dec.r, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dec.setErr(err)
	}
	dec.count(len(data))
	if len(data) > 0 {
		dec.crlf = false
	}
	*out = data
	return true
}

// metadataEntry decodes an entry name (an astring) and checks it against
// RFC 5464 §3.2: "/private" or "/shared" first, no "*" or "%", no "//",
// no trailing "/", no control characters. It is lowered: names are
// case-insensitive.
func (dec *Decoder) metadataEntry(ptr *string) bool {
	var e string
	if !dec.ExpectAString(&e) {
		return false
	}
	e = strings.ToLower(e)
	lower := e + "/"
	switch {
	case !strings.HasPrefix(lower, "/private/") && !strings.HasPrefix(lower, "/shared/"):
		return dec.setErr(syntaxErrorf("metadata entry %q must begin with /private or /shared", e))
	case strings.ContainsAny(e, "*%"):
		return dec.setErr(syntaxErrorf("metadata entry %q contains a wildcard", e))
	case strings.Contains(e, "//") || strings.HasSuffix(e, "/"):
		return dec.setErr(syntaxErrorf("metadata entry %q has an empty level", e))
	case strings.IndexFunc(e, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return dec.setErr(syntaxErrorf("metadata entry %q contains a control character", e))
	}
	*ptr = e
	return true
}

// MetadataEntry is one entry of a METADATA response: Value nil is NIL.
type MetadataEntry struct {
	Name  string
	Value []byte
}

// Metadata writes "* METADATA mailbox (entry value …)" (RFC 5464 §4.4.1),
// each value a string, or a literal8 when it holds NUL.
func (enc *Encoder) Metadata(mailbox string, entries []MetadataEntry) error {
	e := enc.Untagged().Atom("METADATA").SP().Mailbox(mailbox).SP()
	e.List(len(entries), func(i int) {
		e.AString(entries[i].Name).SP()
		switch v := entries[i].Value; {
		case v == nil:
			e.NIL()
		case bytes.IndexByte(v, 0) >= 0:
			e.Literal8(string(v))
		default:
			e.String(string(v))
		}
	})
	return e.CRLF()
}

// MetadataChanged writes the unsolicited "* METADATA mailbox entry …" of
// RFC 5464 §4.4.2 (the entry-list form of §5's metadata-resp), naming
// entries whose values changed, without their values; mailbox "" is the
// server.
func (enc *Encoder) MetadataChanged(mailbox string, entries []string) error {
	e := enc.Untagged().Atom("METADATA").SP().Mailbox(mailbox)
	for _, name := range entries {
		e.SP().AString(name)
	}
	return e.CRLF()
}
