package search

import (
	"html"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/message"
)

// The preview of a message (RFC 8970 §3.1), in one place for the stores,
// which compute it once when a message is stored, and for the IMAP
// server, which computes it from its view of a message the store kept
// none for (docs/imap.md "PREVIEW"):
//
//  1. the first text/plain leaf in message order (through multiparts and
//     embedded messages, skipping parts marked as attachments), else the
//     first text/html leaf, else none: "";
//  2. its body decoded (transfer encoding, charset to UTF-8), at most
//     PreviewRead octets of it;
//  3. HTML: comments, <style> and <script> dropped, block tags made a
//     space and other tags nothing, entities decoded;
//  4. control characters made spaces, lines quoted with ">" dropped, and
//     whitespace runs made one space;
//  5. cut to PreviewChars characters (§3.1: "no more than 256
//     characters"), at a character boundary.

const (
	// PreviewChars is the longest preview, in characters (RFC 8970 §3.1).
	PreviewChars = 256
	// PreviewRead bounds the decoded octets a preview reads of its part.
	PreviewRead = 16 * 1024
)

// Preview computes the preview of a stored message: ra holds its size
// octets, top is its structure.
func Preview(ra io.ReaderAt, size int64, top *message.Part) string {
	p := PreviewPart(top)
	if p == nil {
		return ""
	}
	s, e := topRange(top, size)(p)
	return PreviewText(io.NewSectionReader(ra, s, e-s), p)
}

// PreviewPart returns the part a preview is made of (step 1), or nil.
func PreviewPart(top *message.Part) *message.Part {
	if p := firstText(top, "plain"); p != nil {
		return p
	}
	return firstText(top, "html")
}

// PreviewText makes the preview of part p from r, its body as it stands
// in the message (steps 2 to 5).
func PreviewText(r io.Reader, p *message.Part) string {
	b, _ := io.ReadAll(io.LimitReader(PartReader(r, p), PreviewRead))
	text := strings.ToValidUTF8(string(b), "")
	if p.Subtype == "html" {
		text = htmlText(text)
	}
	return cutPreview(text)
}

// noControl makes a control character a space, so that a preview can be
// stored as text (PostgreSQL refuses NUL) and sent as a quoted string.
func noControl(r rune) rune {
	if r < 0x20 && r != '\n' || r == 0x7f {
		return ' '
	}
	return r
}

// firstText finds the first text/<subtype> leaf that is not an
// attachment.
func firstText(p *message.Part, subtype string) *message.Part {
	if p.IsMultipart() {
		for _, kid := range p.Parts {
			if f := firstText(kid, subtype); f != nil {
				return f
			}
		}
		return nil
	}
	if sub := p.Message(); sub != nil {
		return firstText(sub, subtype)
	}
	if p.Type == "text" && p.Subtype == subtype && !strings.EqualFold(p.Disposition, "attachment") {
		return p
	}
	return nil
}

var (
	htmlDrop  = regexp.MustCompile(`(?is)<!--.*?-->|<(style|script)\b.*?</(style|script)\s*>`)
	htmlBlock = regexp.MustCompile(`(?is)</?(p|br|div|li|tr|td|th|h[1-6]|table|ul|ol|blockquote|body|head|html|title)\b[^>]*>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// htmlText reduces HTML to its text, crudely: enough for a preview.
func htmlText(s string) string {
	s = htmlDrop.ReplaceAllString(s, " ")
	s = htmlBlock.ReplaceAllString(s, " ") // a block breaks words,
	s = htmlTag.ReplaceAllString(s, "")    // an inline tag does not
	return html.UnescapeString(s)
}

// cutPreview drops quoted lines, folds whitespace and cuts the text to
// PreviewChars characters.
func cutPreview(text string) string {
	var words []string
	for _, line := range strings.Split(strings.Map(noControl, text), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		words = append(words, strings.Fields(line)...)
	}
	s := strings.Join(words, " ")
	if utf8.RuneCountInString(s) <= PreviewChars {
		return s
	}
	n := 0
	for i := range s {
		if n == PreviewChars {
			return s[:i]
		}
		n++
	}
	return s
}
