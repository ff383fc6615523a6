package differential

import (
	"fmt"
	"strconv"
	"strings"
)

// node is one parsed IMAP value. Quoted strings and literals are the same
// kind: RFC 9051 §4.3 makes them interchangeable, so a server may choose.
type node struct {
	kind byte // 'a' atom or number, 's' string, 'N' NIL, 'l' list
	s    string
	l    []node
}

func (n node) String() string {
	switch n.kind {
	case 's':
		return strconv.Quote(n.s)
	case 'N':
		return "NIL"
	case 'l':
		parts := make([]string, len(n.l))
		for i, c := range n.l {
			parts[i] = c.String()
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return n.s
}

// parser reads IMAP response data from one response (literals inline).
type parser struct {
	b   []byte
	pos int
	err error
}

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("at %d: %s", p.pos, fmt.Sprintf(format, args...))
	}
	p.pos = len(p.b)
}

func (p *parser) atEnd() bool {
	return p.pos >= len(p.b) || p.b[p.pos] == '\r' || p.b[p.pos] == '\n'
}

func (p *parser) skipSpace() {
	for p.pos < len(p.b) && p.b[p.pos] == ' ' {
		p.pos++
	}
}

// values parses space-separated values up to the end of the line or a
// closing parenthesis.
func (p *parser) values() []node {
	var out []node
	for {
		p.skipSpace()
		if p.atEnd() || p.b[p.pos] == ')' {
			return out
		}
		out = append(out, p.value())
		if p.err != nil {
			return out
		}
	}
}

func (p *parser) value() node {
	switch c := p.b[p.pos]; {
	case c == '(':
		p.pos++
		l := p.values()
		if p.pos >= len(p.b) || p.b[p.pos] != ')' {
			p.fail("unclosed list")
			return node{kind: 'l', l: l}
		}
		p.pos++
		return node{kind: 'l', l: l}
	case c == '"':
		return p.quoted()
	case c == '{' || (c == '~' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '{'):
		return p.literal()
	}
	return p.atom()
}

func (p *parser) quoted() node {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '\\':
			if p.pos < len(p.b) {
				b.WriteByte(p.b[p.pos])
				p.pos++
			}
		case '"':
			return node{kind: 's', s: b.String()}
		default:
			b.WriteByte(c)
		}
	}
	p.fail("unterminated quoted string")
	return node{}
}

func (p *parser) literal() node {
	if p.b[p.pos] == '~' {
		p.pos++
	}
	end := strings.Index(string(p.b[p.pos:]), "}\r\n")
	if end < 0 {
		p.fail("bad literal")
		return node{}
	}
	n, err := strconv.Atoi(strings.TrimSuffix(string(p.b[p.pos+1:p.pos+end]), "+"))
	if err != nil {
		p.fail("bad literal size")
		return node{}
	}
	start := p.pos + end + 3
	if start+n > len(p.b) {
		p.fail("short literal")
		return node{}
	}
	p.pos = start + n
	return node{kind: 's', s: string(p.b[start : start+n])}
}

// atom reads an atom, a number, a flag (\Seen, \*) or a fetch item name
// with its section and partial (BODY[HEADER.FIELDS (A B)]<0>).
func (p *parser) atom() node {
	start := p.pos
	depth := 0
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if depth == 0 && (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n') {
			break
		}
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		}
		p.pos++
	}
	s := string(p.b[start:p.pos])
	if s == "" {
		p.fail("empty atom at %q", string(p.b[start:min(start+10, len(p.b))]))
	}
	if strings.EqualFold(s, "NIL") {
		return node{kind: 'N'}
	}
	return node{kind: 'a', s: s}
}

// response is one parsed response line.
type response struct {
	tag    string // "*" for untagged
	fields []node // the data after the tag (for status responses: just the status word)
	code   []node // resp-text-code of a status response, nil if none
	text   string // human text of a status response
}

// parseResponse parses one response line (with its literals).
func parseResponse(b []byte) (response, error) {
	p := &parser{b: b}
	sp := strings.IndexByte(string(b), ' ')
	if sp < 0 {
		return response{}, fmt.Errorf("no tag in %q", b)
	}
	r := response{tag: string(b[:sp])}
	p.pos = sp + 1
	// A status response: OK/NO/BAD/BYE/PREAUTH, then resp-text.
	word := p.peekWord()
	switch strings.ToUpper(word) {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		p.pos += len(word)
		r.fields = []node{{kind: 'a', s: strings.ToUpper(word)}}
		p.skipSpace()
		if p.pos < len(p.b) && p.b[p.pos] == '[' {
			p.pos++
			r.code = p.codeValues()
		}
		r.text = strings.TrimSpace(string(p.b[p.pos:]))
		return r, p.err
	}
	r.fields = p.values()
	if p.err == nil && !p.atEnd() {
		p.fail("trailing %q", string(p.b[p.pos:]))
	}
	return r, p.err
}

func (p *parser) peekWord() string {
	end := p.pos
	for end < len(p.b) && p.b[end] != ' ' && p.b[end] != '\r' && p.b[end] != '[' {
		end++
	}
	return string(p.b[p.pos:end])
}

// codeValues parses a response code up to its closing bracket.
func (p *parser) codeValues() []node {
	var out []node
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			p.fail("unclosed response code")
			return out
		}
		if p.b[p.pos] == ']' {
			p.pos++
			return out
		}
		c := p.b[p.pos]
		if c == '(' || c == '"' || c == '{' {
			out = append(out, p.value())
			continue
		}
		// Atoms in a code end at the bracket too.
		start := p.pos
		for p.pos < len(p.b) && !strings.ContainsRune(" ]\r\n(", rune(p.b[p.pos])) {
			p.pos++
		}
		s := string(p.b[start:p.pos])
		if strings.EqualFold(s, "NIL") {
			out = append(out, node{kind: 'N'})
		} else {
			out = append(out, node{kind: 'a', s: s})
		}
		if p.err != nil {
			return out
		}
	}
}
