package imapserver

import (
	"html"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
)

// PREVIEW (RFC 8970). The preview is computed when fetched, from the
// stored message, so PREVIEW (LAZY) gets it at once too and NIL is never
// sent (§3.1). The algorithm (docs/imap.md):
//
//  1. the first text/plain leaf in message order (through multiparts and
//     embedded messages, skipping parts marked as attachments), else the
//     first text/html leaf, else none: "";
//  2. its body decoded (transfer encoding, charset to UTF-8), at most
//     previewRead octets of it;
//  3. HTML: comments, <style> and <script> dropped, block tags made a
//     space and other tags nothing, entities decoded;
//  4. lines quoted with ">" dropped, and whitespace runs made one space;
//  5. cut to previewChars characters (§3.1: "no more than 256
//     characters"), at a character boundary.

const (
	previewChars = 256
	previewRead  = 16 * 1024
)

// preview computes a message's preview text.
func preview(mv *msgView) string {
	p := firstText(mv.part, "plain")
	if p == nil {
		p = firstText(mv.part, "html")
	}
	if p == nil {
		return ""
	}
	s, e := mv.bodyRange(p)
	r := search.PartReader(io.NewSectionReader(mv.readerAt(), s, e-s), p)
	b, _ := io.ReadAll(io.LimitReader(r, previewRead))
	text := strings.ToValidUTF8(string(b), "")
	if p.Subtype == "html" {
		text = htmlText(text)
	}
	return cutPreview(text)
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
// previewChars characters.
func cutPreview(text string) string {
	var words []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		words = append(words, strings.Fields(line)...)
	}
	s := strings.Join(words, " ")
	if utf8.RuneCountInString(s) <= previewChars {
		return s
	}
	n := 0
	for i := range s {
		if n == previewChars {
			return s[:i]
		}
		n++
	}
	return s
}
