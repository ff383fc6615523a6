package search

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/postern/postern/internal/message"
)

// MaxBodyText bounds the text a store indexes for BODY and TEXT in one
// message: the octets of the parts Texts reads, before decoding. A
// message with more is not text-indexed (Doc.Text is nil) and is
// scanned; its delivery then costs no memory for its text.
const MaxBodyText = 4 << 20

// Doc is what a store indexes for one stored message, in the folded,
// index forms the keys compare. A store fills it at delivery and APPEND
// (and `postern reindex` for mail stored before), from the stored content
// and the structure parsed then.
type Doc struct {
	// Envelope holds, per envelope key (From, To, Cc, Bcc, Subject), the
	// folded text, or nil when the field is absent.
	Envelope [5]*string
	// Fields are the top-level header fields, in order.
	Fields []DocField
	// Kept holds the raw top-level header fields whose names Extract was
	// asked to keep, in order, each with its line terminator.
	Kept []byte
	// Text is what BODY and TEXT compare, in index form; nil when the
	// message's text parts pass MaxBodyText.
	Text *DocText
}

// DocText is the text a substring index keeps for BODY and TEXT.
type DocText struct {
	// Header is TEXT's header half: each field's Fold(FieldLine),
	// separated by Sep, in index form.
	Header string
	// Body is BODY's text: each text part's FoldBody text, separated by
	// Sep, in index form.
	Body string
}

// DocField is one header field as HEADER compares it.
type DocField struct {
	Name  string // FoldName of the name
	Value string // Fold of FieldValue
}

// Extract builds the Doc of a stored message: ra holds its size octets,
// top is its parsed structure; keep names the fields to keep raw.
func Extract(ra io.ReaderAt, size int64, top *message.Part, keep []string) (*Doc, error) {
	d := &Doc{Kept: []byte{}}
	for i, k := range EnvelopeKeys {
		if text, ok := EnvelopeText(top.Envelope, k); ok {
			folded := Fold(text)
			d.Envelope[i] = &folded
		}
	}
	end := min(top.BodyStart, size)
	start := min(top.HeaderStart, end)
	h, err := message.ReadHeader(io.NewSectionReader(ra, start, end-start), int(end-start)+1)
	if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
		return nil, err
	}
	var hdr []byte
	for i, f := range h {
		d.Fields = append(d.Fields, DocField{Name: FoldName(f.Name), Value: Fold(FieldValue(f))})
		if f.Name != "" && slices.ContainsFunc(keep, func(k string) bool { return strings.EqualFold(k, f.Name) }) {
			d.Kept = append(d.Kept, f.Raw...)
		}
		if i > 0 {
			hdr = append(hdr, Sep...)
		}
		hdr = append(hdr, Fold(FieldLine(f))...)
	}
	if textSize(top, size) > MaxBodyText {
		return d, nil
	}
	body, err := bodyText(ra, size, top)
	if err != nil {
		return nil, err
	}
	d.Text = &DocText{Header: IndexText(hdr), Body: IndexText(body)}
	return d, nil
}

// topRange returns the body range Texts reads of a part of a stored
// message of size octets: the top-level body runs to the end.
func topRange(top *message.Part, size int64) func(*message.Part) (int64, int64) {
	return func(p *message.Part) (int64, int64) {
		s, e := p.BodyStart, p.End
		if p == top {
			e = size
		}
		return min(s, size), min(max(s, e), size)
	}
}

// textSize is the octets Texts would read of a stored message.
func textSize(top *message.Part, size int64) int64 {
	var n int64
	rng := topRange(top, size)
	eachText(top, top, func(p *message.Part) bool {
		s, e := rng(p)
		n += e - s
		return n > MaxBodyText
	})
	return n
}

// bodyText concatenates the ASCII-folded texts Texts reads, separated by
// Sep. Each text ends where the scan's reading ends: at the body's end or
// the first decoding error.
func bodyText(ra io.ReaderAt, size int64, top *message.Part) ([]byte, error) {
	var buf []byte
	first := true
	chunk := make([]byte, 32<<10)
	_, err := Texts(ra, top, topRange(top, size), func(r io.Reader) (bool, error) {
		if !first {
			buf = append(buf, Sep...)
		}
		first = false
		for {
			n, rerr := r.Read(chunk)
			buf = append(buf, FoldBody(chunk[:n])...)
			if rerr != nil {
				return false, nil
			}
		}
	})
	return buf, err
}
