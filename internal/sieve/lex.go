package sieve

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits on script text, so that no script can exhaust memory or stack.
const (
	// MaxScriptSize is the largest script Parse accepts, in octets.
	MaxScriptSize = 1 << 20
	// MaxNesting is how deeply blocks and test lists may nest.
	MaxNesting = 32
	// maxNumber bounds a number after its quantifier (RFC 5228 §2.4.1:
	// implementations MUST support at least 2^31-1... we keep 2^63-1).
	maxNumber = 1<<63 - 1
)

// tokKind is the kind of a lexical token (RFC 5228 §8.1).
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokTag
	tokNumber
	tokString
	tokPunct // one of ; , ( ) [ ] { }
)

type token struct {
	kind tokKind
	text string // identifier/tag name (lower-cased), string value or punctuation
	num  int64
	line int
}

// SyntaxError is an error in a script, with the line it is on.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// lexer splits script text into tokens. Line endings may be CRLF or a
// bare LF: scripts uploaded from Unix editors use LF.
type lexer struct {
	src  string
	pos  int
	line int
}

func (lx *lexer) errf(format string, args ...any) error {
	return &SyntaxError{Line: lx.line, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next token, skipping white space and comments
// (RFC 5228 §2.3).
func (lx *lexer) next() (token, error) {
	if err := lx.skipSpace(); err != nil {
		return token{}, err
	}
	if lx.pos >= len(lx.src) {
		return token{kind: tokEOF, line: lx.line}, nil
	}
	c := lx.src[lx.pos]
	switch {
	case strings.IndexByte(";,()[]{}", c) >= 0:
		lx.pos++
		return token{kind: tokPunct, text: string(c), line: lx.line}, nil
	case c == '"':
		return lx.quoted()
	case c == ':':
		lx.pos++
		id := lx.ident()
		if id == "" {
			return token{}, lx.errf("':' not followed by a tag name")
		}
		return token{kind: tokTag, text: id, line: lx.line}, nil
	case isDigit(c):
		return lx.number()
	case isAlpha(c) || c == '_':
		line := lx.line
		id := lx.ident()
		if id == "text" && lx.pos < len(lx.src) && lx.src[lx.pos] == ':' {
			lx.pos++
			return lx.multiline(line)
		}
		return token{kind: tokIdent, text: id, line: line}, nil
	}
	return token{}, lx.errf("unexpected character %q", c)
}

func (lx *lexer) skipSpace() error {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\n':
			lx.line++
			lx.pos++
		case c == ' ' || c == '\t' || c == '\r':
			lx.pos++
		case c == '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case strings.HasPrefix(lx.src[lx.pos:], "/*"):
			end := strings.Index(lx.src[lx.pos+2:], "*/")
			if end < 0 {
				return lx.errf("unterminated comment")
			}
			lx.line += strings.Count(lx.src[lx.pos:lx.pos+2+end], "\n")
			lx.pos += 2 + end + 2
		default:
			return nil
		}
	}
	return nil
}

func (lx *lexer) ident() string {
	start := lx.pos
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if !isAlpha(c) && c != '_' && !(isDigit(c) && lx.pos > start) {
			break
		}
		lx.pos++
	}
	return strings.ToLower(lx.src[start:lx.pos])
}

// number reads 1*DIGIT [QUANTIFIER] (RFC 5228 §2.4.1).
func (lx *lexer) number() (token, error) {
	start := lx.pos
	for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
		lx.pos++
	}
	n, err := strconv.ParseInt(lx.src[start:lx.pos], 10, 64)
	if err != nil {
		return token{}, lx.errf("number %s is too large", lx.src[start:lx.pos])
	}
	mult := int64(1)
	if lx.pos < len(lx.src) {
		switch lx.src[lx.pos] | 0x20 {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			lx.pos++
		}
	}
	if n > maxNumber/mult {
		return token{}, lx.errf("number is too large")
	}
	return token{kind: tokNumber, num: n * mult, line: lx.line}, nil
}

// quoted reads a quoted string (RFC 5228 §2.4.2): a backslash takes the
// next character literally, so "\a" is "a"; the string may span lines.
func (lx *lexer) quoted() (token, error) {
	line := lx.line
	lx.pos++
	var b strings.Builder
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch c {
		case '"':
			lx.pos++
			return token{kind: tokString, text: b.String(), line: line}, nil
		case '\\':
			lx.pos++
			if lx.pos >= len(lx.src) {
				continue
			}
			c = lx.src[lx.pos]
		}
		if c == '\n' {
			lx.line++
		}
		b.WriteByte(c)
		lx.pos++
	}
	return token{}, &SyntaxError{Line: line, Msg: "unterminated string"}
}

// multiline reads the rest of a "text:" string (RFC 5228 §2.4.2): the
// lines up to one holding a single ".", with a leading ".." unstuffed.
// Lines end with CRLF in the value whatever the script used.
func (lx *lexer) multiline(line int) (token, error) {
	for lx.pos < len(lx.src) && (lx.src[lx.pos] == ' ' || lx.src[lx.pos] == '\t') {
		lx.pos++
	}
	rest := lx.src[lx.pos:]
	if strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "\r\n") || strings.HasPrefix(rest, "\n") {
		nl := strings.IndexByte(rest, '\n')
		if nl < 0 {
			return token{}, lx.errf("unterminated multi-line string")
		}
		lx.pos += nl + 1
		lx.line++
	} else {
		return token{}, lx.errf("text: must be followed by the end of the line")
	}
	var b strings.Builder
	for {
		nl := strings.IndexByte(lx.src[lx.pos:], '\n')
		if nl < 0 {
			if strings.TrimSuffix(lx.src[lx.pos:], "\r") == "." {
				lx.pos = len(lx.src)
				return token{kind: tokString, text: b.String(), line: line}, nil
			}
			return token{}, &SyntaxError{Line: line, Msg: "unterminated multi-line string"}
		}
		l := strings.TrimSuffix(lx.src[lx.pos:lx.pos+nl], "\r")
		lx.pos += nl + 1
		lx.line++
		if l == "." {
			return token{kind: tokString, text: b.String(), line: line}, nil
		}
		if strings.HasPrefix(l, "..") {
			l = l[1:]
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
