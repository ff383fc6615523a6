package search

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/postern/postern/internal/message"
)

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
	for _, f := range h {
		d.Fields = append(d.Fields, DocField{Name: FoldName(f.Name), Value: Fold(FieldValue(f))})
		if f.Name != "" && slices.ContainsFunc(keep, func(k string) bool { return strings.EqualFold(k, f.Name) }) {
			d.Kept = append(d.Kept, f.Raw...)
		}
	}
	return d, nil
}
