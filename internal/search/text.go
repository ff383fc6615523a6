package search

import (
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message/charset"

	"github.com/postern/postern/internal/message"
)

// Key names an envelope search key.
type Key int

// The envelope keys of RFC 9051 §6.4.4.
const (
	From Key = iota
	To
	Cc
	Bcc
	Subject
)

// EnvelopeKeys lists the envelope keys in order.
var EnvelopeKeys = []Key{From, To, Cc, Bcc, Subject}

// EnvelopeText returns the text an envelope key compares, decoded
// (RFC 2047) and not yet folded, and whether the field is present: a
// non-empty address list, a non-empty Subject. A key with an empty string
// matches every message whose field is present; any other string matches
// when Fold(text) contains Fold(string).
func EnvelopeText(env *message.Envelope, k Key) (text string, present bool) {
	if env == nil {
		return "", false
	}
	if k == Subject {
		if env.Subject == "" {
			return "", false
		}
		return message.DecodeHeaderText(env.Subject), true
	}
	list := envelopeAddrs(env, k)
	if len(list) == 0 {
		return "", false
	}
	return addressText(list), true
}

func envelopeAddrs(env *message.Envelope, k Key) []message.Address {
	switch k {
	case From:
		return env.From
	case To:
		return env.To
	case Cc:
		return env.Cc
	case Bcc:
		return env.Bcc
	}
	return nil
}

// addressText renders an address list the way it reads in a header, with
// display names decoded: `Name <mailbox@host>, other@host, group: a@b;`.
func addressText(list []message.Address) string {
	var b strings.Builder
	first := true
	for _, a := range list {
		if a.Group {
			if a.Mailbox != "" { // group start
				if !first {
					b.WriteString(", ")
				}
				b.WriteString(message.DecodeHeaderText(a.Mailbox))
				b.WriteString(": ")
				first = true
				continue
			}
			b.WriteString(";") // group end
			first = false
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		if a.Name != "" {
			b.WriteString(message.DecodeHeaderText(a.Name))
			b.WriteString(" <")
			b.WriteString(a.Mailbox)
			b.WriteString("@")
			b.WriteString(a.Host)
			b.WriteString(">")
		} else {
			b.WriteString(a.Mailbox)
			b.WriteString("@")
			b.WriteString(a.Host)
		}
	}
	return b.String()
}

// Fold is the folding of the header keys (envelope keys, HEADER and TEXT's
// header half): Unicode lower case; bytes that are not UTF-8 become
// U+FFFD.
func Fold(s string) string { return strings.ToLower(s) }

// FieldValue is the text HEADER <name> compares for one field: its
// unfolded value with encoded words decoded. A key with an empty string
// matches any message with the field.
func FieldValue(f message.Field) string { return message.DecodeHeaderText(f.Value()) }

// FieldLine is the text TEXT's header half compares for one field:
// "Name: decoded value".
func FieldLine(f message.Field) string { return f.Name + ": " + FieldValue(f) }

// FoldName is the form of a field name that HEADER compares: two names
// are the same field exactly when strings.EqualFold holds, which is when
// their FoldName forms are equal (each rune replaced by the smallest of
// its simple case-folding orbit, which for ASCII is the upper-case
// letter).
func FoldName(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(name)
	}
	var b strings.Builder
	for _, r := range name {
		b.WriteRune(minFold(r))
	}
	return b.String()
}

// FoldBody is the folding of BODY and TEXT's body half: ASCII letters
// lower-cased in place, every other octet compared as it is.
func FoldBody(b []byte) []byte {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// Texts calls fn, in order, with the decoded text of each part that BODY
// and TEXT search (RFC 9051 §6.4.4 "in the body of the message"): the
// text/* leaves of the tree below top, through multiparts and embedded
// messages, and top itself whatever its type. bodyRange gives a part's
// body as byte offsets in ra. The reader removes the transfer encoding
// (an unknown one is read raw) and converts a charset other than UTF-8
// or US-ASCII to UTF-8 (an unknown one is read raw); it ends at the
// body's end or at the first decoding error. Texts stops when fn returns
// true or an error.
func Texts(ra io.ReaderAt, top *message.Part, bodyRange func(*message.Part) (int64, int64), fn func(io.Reader) (bool, error)) (bool, error) {
	return texts(ra, top, top, bodyRange, fn)
}

func texts(ra io.ReaderAt, top, p *message.Part, bodyRange func(*message.Part) (int64, int64), fn func(io.Reader) (bool, error)) (bool, error) {
	var stop bool
	var err error
	eachText(top, p, func(p *message.Part) bool {
		s, e := bodyRange(p)
		stop, err = fn(PartReader(io.NewSectionReader(ra, s, e-s), p))
		return stop || err != nil
	})
	return stop, err
}

// eachText calls fn, in order, for each part below p whose text BODY
// searches, until fn returns true; it reports whether fn did.
func eachText(top, p *message.Part, fn func(*message.Part) bool) bool {
	if p.IsMultipart() {
		for _, kid := range p.Parts {
			if eachText(top, kid, fn) {
				return true
			}
		}
		return false
	}
	if sub := p.Message(); sub != nil {
		return eachText(top, sub, fn)
	}
	if p.Type != "text" && p != top {
		return false
	}
	return fn(p)
}

// PartReader returns the decoded text of a part's body r: transfer
// encoding removed, charset converted to UTF-8, as Texts reads it.
func PartReader(r io.Reader, p *message.Part) io.Reader {
	if d, err := DecodeTransfer(r, p.Encoding); err == nil {
		r = d
	}
	if cs := p.Param("charset"); cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if cr, err := charset.Reader(strings.ToLower(cs), r); err == nil {
			r = cr
		}
	}
	return r
}

// ErrUnknownEncoding is DecodeTransfer's error for a
// Content-Transfer-Encoding it does not know.
var ErrUnknownEncoding = errors.New("unknown Content-Transfer-Encoding")

// DecodeTransfer returns a reader removing a Content-Transfer-Encoding
// (RFC 2045 §6): base64 skipping bytes outside its alphabet, as lenient
// decoders do, and quoted-printable. ErrUnknownEncoding for any other
// but 7bit, 8bit and binary.
func DecodeTransfer(r io.Reader, enc string) (io.Reader, error) {
	switch strings.ToUpper(enc) {
	case "", "7BIT", "8BIT", "BINARY":
		return r, nil
	case "BASE64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r}), nil
	case "QUOTED-PRINTABLE":
		return quotedprintable.NewReader(r), nil
	}
	return nil, ErrUnknownEncoding
}

// base64Filter drops bytes outside the base64 alphabet (line breaks,
// stray spaces).
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
