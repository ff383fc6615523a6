package message

import (
	"bytes"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Param is one Content-Type or Content-Disposition parameter.
type Param struct {
	// Name is lower-case, without any RFC 2231 "*" or "*N" suffix.
	Name string
	// Value is unquoted. RFC 2231 continuations are joined, percent-encoding
	// is removed and the charset is converted to UTF-8. RFC 2047 encoded
	// words (not allowed in parameters, but common in filenames) are left
	// as they are, as IMAP servers send them.
	Value string
}

// paramValue returns the value of the named parameter, or "".
func paramValue(ps []Param, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// tspecials are the RFC 2045 §5.1 characters that may not appear in tokens.
const tspecials = `()<>@,;:\"/[]?=`

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte(tspecials, c) < 0
}

// valueLexer walks a structured MIME header value.
type valueLexer struct {
	s string
	i int
}

// skipCFWS skips white space and RFC 5322 comments (nested, with quoted
// pairs). An unterminated comment runs to the end.
func (l *valueLexer) skipCFWS() {
	for l.i < len(l.s) {
		switch c := l.s[l.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.i++
		case c == '(':
			l.skipComment()
		default:
			return
		}
	}
}

// skipComment skips the comment that starts at the current "(".
func (l *valueLexer) skipComment() {
	depth := 0
	for ; l.i < len(l.s); l.i++ {
		switch l.s[l.i] {
		case '\\':
			l.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				l.i++
				return
			}
		}
	}
	l.i = len(l.s) // unterminated, or ended by a lone backslash
}

// token returns the RFC 2045 token at the current position.
func (l *valueLexer) token() string {
	start := l.i
	for l.i < len(l.s) && isTokenChar(l.s[l.i]) {
		l.i++
	}
	return l.s[start:l.i]
}

// skipTo advances to the next c (or the end) without consuming it.
func (l *valueLexer) skipTo(c byte) {
	if j := strings.IndexByte(l.s[l.i:], c); j >= 0 {
		l.i += j
	} else {
		l.i = len(l.s)
	}
}

// parseContentType parses a Content-Type value (RFC 2045 §5.1). It reports
// ok=false if the type/subtype is not syntactically valid, in which case the
// caller applies the RFC 2045 §5.2 default.
func parseContentType(v string) (typ, sub string, params []Param, ok bool) {
	l := valueLexer{s: v}
	l.skipCFWS()
	typ = l.token()
	l.skipCFWS()
	if typ == "" || l.i >= len(l.s) || l.s[l.i] != '/' {
		return "", "", nil, false
	}
	l.i++
	l.skipCFWS()
	sub = l.token()
	if sub == "" {
		return "", "", nil, false
	}
	return strings.ToLower(typ), strings.ToLower(sub), l.params(), true
}

// parseDisposition parses a Content-Disposition value (RFC 2183 §2).
func parseDisposition(v string) (disp string, params []Param) {
	l := valueLexer{s: v}
	l.skipCFWS()
	disp = strings.ToLower(l.token())
	if disp == "" {
		return "", nil
	}
	return disp, l.params()
}

// rawParam is one parameter before RFC 2231 processing.
type rawParam struct {
	name, value string
}

// params parses the parameter list that follows a media type or
// disposition. It is lenient, as real mail needs: junk before a ";" is
// skipped, unquoted values run to the next ";" (so an unquoted
// "boundary=----=_Part_1" works), an unterminated quoted string runs to the
// end, and parameters without "=" are dropped.
func (l *valueLexer) params() []Param {
	var raw []rawParam
	for {
		l.skipTo(';')
		if l.i >= len(l.s) {
			break
		}
		l.i++
		l.skipCFWS()
		start := l.i
		for l.i < len(l.s) && l.s[l.i] != '=' && l.s[l.i] != ';' {
			l.i++
		}
		name := strings.ToLower(strings.TrimRight(l.s[start:l.i], " \t\r\n"))
		if l.i >= len(l.s) || l.s[l.i] != '=' || name == "" {
			continue
		}
		l.i++
		l.skipCFWS()
		raw = append(raw, rawParam{name, l.value()})
	}
	return combine2231(raw)
}

// value returns a quoted-string (unquoted) or a lenient unquoted value.
func (l *valueLexer) value() string {
	if l.i < len(l.s) && l.s[l.i] == '"' {
		l.i++
		var b strings.Builder
		for l.i < len(l.s) {
			c := l.s[l.i]
			l.i++
			switch {
			case c == '"':
				return b.String()
			case c == '\\' && l.i < len(l.s):
				b.WriteByte(l.s[l.i])
				l.i++
			case c == '\r' || c == '\n':
				// Folding inside a quoted string: drop the line break.
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	start := l.i
	l.skipTo(';')
	return strings.TrimRight(l.s[start:l.i], " \t\r\n")
}

// paramSeg is one piece of an RFC 2231 parameter.
type paramSeg struct {
	index int  // continuation number, or -1 without one
	ext   bool // charset'language'percent-encoded form
	value string
}

// combine2231 applies RFC 2231: it joins "name*0", "name*1*"… continuations
// and decodes "name*" extended values. A parameter keeps the position of its
// first piece. When both a plain and an RFC 2231 form exist, the RFC 2231
// form wins (RFC 2231 §4.1); of repeated plain parameters the first wins.
func combine2231(raw []rawParam) []Param {
	var order []string
	segs := make(map[string][]paramSeg)
	for _, r := range raw {
		base, seg := split2231(r.name)
		seg.value = r.value
		if _, seen := segs[base]; !seen {
			order = append(order, base)
		}
		segs[base] = append(segs[base], seg)
	}
	if len(order) == 0 {
		return nil
	}
	params := make([]Param, 0, len(order))
	for _, name := range order {
		params = append(params, Param{Name: name, Value: joinSegs(segs[name])})
	}
	return params
}

// split2231 splits an RFC 2231 parameter name into its base name and
// continuation number and whether the value is extended.
func split2231(name string) (string, paramSeg) {
	seg := paramSeg{index: -1}
	if strings.HasSuffix(name, "*") {
		seg.ext = true
		name = name[:len(name)-1]
	}
	if i := strings.LastIndexByte(name, '*'); i > 0 {
		digits := name[i+1:]
		if n, err := strconv.Atoi(digits); err == nil && n >= 0 && (digits == "0" || digits[0] != '0') && digits[0] != '+' {
			return name[:i], paramSeg{index: n, ext: seg.ext}
		}
	}
	if seg.ext && name == "" {
		// A parameter literally named "*".
		return "*", paramSeg{index: -1}
	}
	return name, seg
}

// joinSegs produces the value of one parameter from its pieces.
func joinSegs(segs []paramSeg) string {
	var cont []paramSeg
	var ext, plain *paramSeg
	for i := range segs {
		s := &segs[i]
		switch {
		case s.index >= 0:
			cont = append(cont, *s)
		case s.ext && ext == nil:
			ext = s
		case !s.ext && plain == nil:
			plain = s
		}
	}
	if len(cont) > 0 {
		sort.SliceStable(cont, func(i, j int) bool { return cont[i].index < cont[j].index })
		if cont[0].index == 0 {
			return decodeContinuations(cont)
		}
	}
	if ext != nil {
		cs, rest := splitCharset(ext.value)
		return decodeCharset(cs, percentDecode(rest))
	}
	if plain != nil {
		return plain.value
	}
	return ""
}

// decodeContinuations joins continuations 0, 1, 2… up to the first gap or
// duplicate (RFC 2231 §3).
func decodeContinuations(cont []paramSeg) string {
	var b []byte
	cs := ""
	for i, s := range cont {
		if s.index != i {
			break
		}
		v := s.value
		if s.ext {
			if i == 0 {
				cs, v = splitCharset(v)
			}
			b = append(b, percentDecode(v)...)
		} else {
			b = append(b, v...)
		}
	}
	return decodeCharset(cs, b)
}

// splitCharset splits an RFC 2231 extended value "charset'language'value".
// Without the two quotes the whole string is the value.
func splitCharset(v string) (cs, rest string) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "", v
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "", v
	}
	return v[:i], v[i+1+j+1:]
}

// percentDecode removes RFC 2231 %XX encoding; a malformed escape is kept.
func percentDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return b
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeCharset converts b from charset cs to UTF-8. If the charset is
// unknown or conversion fails, the bytes are kept as they are.
func decodeCharset(cs string, b []byte) string {
	switch strings.ToLower(cs) {
	case "", "us-ascii", "utf-8", "utf8":
		return string(b)
	}
	r, err := charsetReader(cs, bytes.NewReader(b))
	if err != nil {
		return string(b)
	}
	out, err := io.ReadAll(r)
	if err != nil || !utf8.Valid(out) {
		return string(b)
	}
	return string(out)
}
