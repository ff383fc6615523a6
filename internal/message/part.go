package message

// A Part is the structure of one MIME entity: the whole message, a part of a
// multipart, or the message embedded in a message/rfc822 part. It holds what
// IMAP needs for ENVELOPE, BODYSTRUCTURE, BODY[section] and BINARY[section];
// the bytes themselves stay in the stored, CRLF-normalised message file.
type Part struct {
	// HeaderStart, BodyStart and End are byte offsets from the start of
	// the message. The header block is [HeaderStart, BodyStart) and
	// includes the blank line that ends it, if there is one. The body is
	// [BodyStart, End). Inside a multipart, End excludes the CRLF before the
	// next boundary delimiter line (RFC 2046 §5.1.1: that CRLF belongs to
	// the delimiter), as Dovecot does. HeaderStart <= BodyStart <= End.
	HeaderStart, BodyStart, End int64

	// BodyLines is the number of LF bytes in the body, which is what IMAP
	// BODYSTRUCTURE reports as the size in lines of text/* and
	// message/rfc822 parts (the same count as Dovecot: a last line without
	// a line terminator is not counted).
	BodyLines int64

	// Type and Subtype are lower-case. The default is text/plain, or
	// message/rfc822 for the parts of a multipart/digest (RFC 2046 §5.1.5).
	// A Content-Type that does not parse yields text/plain (RFC 2045 §5.2).
	Type, Subtype string
	// Params are the Content-Type parameters in message order. No defaults
	// are added (such as charset=us-ascii for text): that is for the
	// BODYSTRUCTURE writer.
	Params []Param

	// ID, Description, MD5 and Location are the unfolded, trimmed raw
	// values of Content-ID, Content-Description (RFC 2047 words not
	// decoded), Content-MD5 and Content-Location.
	ID, Description, MD5, Location string
	// Encoding is the Content-Transfer-Encoding token, upper-case as IMAP
	// shows it: "7BIT" if absent.
	Encoding string

	// Disposition is the lower-case Content-Disposition type (RFC 2183),
	// "" if absent, with its parameters.
	Disposition       string
	DispositionParams []Param
	// Language holds the Content-Language tags (RFC 3282).
	Language []string

	// Envelope is set for the top-level message and for the message
	// embedded in a message/rfc822 (or message/global) part.
	Envelope *Envelope

	// Parts are the children. A multipart always has at least one (a
	// multipart without any delimiter line gets one empty text/plain part,
	// which is what Dovecot's BODYSTRUCTURE shows). A message/rfc822 or
	// message/global part has exactly one, the embedded message (whose
	// HeaderStart is this part's BodyStart), unless its Content-Transfer-
	// Encoding is not 7bit/8bit/binary or a limit was hit: then it has none
	// and IMAP must render it as a basic body. Other parts have none.
	Parts []*Part
}

// IsMultipart reports whether p is a multipart with children.
func (p *Part) IsMultipart() bool {
	return p.Type == "multipart" && len(p.Parts) > 0
}

// Message returns the embedded message of a message/rfc822 or
// message/global part, or nil if p is not such a part or was left opaque.
func (p *Part) Message() *Part {
	if p.Type == "message" && (p.Subtype == "rfc822" || p.Subtype == "global") && len(p.Parts) == 1 {
		return p.Parts[0]
	}
	return nil
}

// Param returns the value of the named (lower-case) Content-Type parameter,
// or "".
func (p *Part) Param(name string) string {
	return paramValue(p.Params, name)
}

// Section returns the part that an IMAP section part number (such as 1.2.3,
// given as []int{1, 2, 3}) designates, following RFC 9051 §6.4.5: a
// non-multipart message or part has part number 1 for itself; the parts of a
// multipart are numbered from 1; the number after a message/rfc822 part
// addresses the parts of the embedded message (or, when that message is not
// multipart, 1 is the embedded message itself). An empty path returns p.
// As in Dovecot, a final 1 after a non-multipart part designates that part
// again ("1.1" is "1" when part 1 is text/plain).
//
// For HEADER, TEXT and HEADER.FIELDS of a message/rfc822 section, use the
// embedded message, p.Message(); MIME uses the section's own header.
func (p *Part) Section(path []int) (*Part, bool) {
	cur := p
	for i, n := range path {
		if n < 1 {
			return nil, false
		}
		more := i+1 < len(path)
		if cur.IsMultipart() {
			if n > len(cur.Parts) {
				return nil, false
			}
			cur = cur.Parts[n-1]
		} else if n != 1 || more && cur.Message() == nil {
			return nil, false
		}
		if more {
			if m := cur.Message(); m != nil {
				cur = m
			}
		}
	}
	return cur, true
}
