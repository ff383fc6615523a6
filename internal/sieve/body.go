package sieve

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// Limits of the body test: how much of a message it reads, and how many
// MIME parts and levels it walks.
const (
	maxBodyRead  = 1 << 20
	maxBodyParts = 100
	maxBodyDepth = 10
)

// bodyTest is the body test (RFC 5173 §5).
type bodyTest struct {
	transform string   // raw, content, text
	types     []string // :content's content types
	m         matcher
	keys      []string
}

func (bodyTest) isTest() {}

var bodyTags = map[string]tagSpec{
	"raw": {group: "transform"}, "text": {group: "transform"},
	"content": {group: "transform", value: argStringList},
}

// body [COMPARATOR] [MATCH-TYPE] [BODY-TRANSFORM] <key-list>.
func (c *compiler) body(t *Test) (test, error) {
	if !c.required["body"] {
		return nil, errAt(t.Line, "body needs require \"body\"")
	}
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	tags, pos, err := c.splitArgs("body", t.Line, t.Args, matchTags, bodyTags)
	if err != nil {
		return nil, err
	}
	if err := positional("body", t.Line, pos, argStringList); err != nil {
		return nil, err
	}
	m, err := c.matcher(t, tags)
	if err != nil {
		return nil, err
	}
	bt := bodyTest{transform: tags.groups["transform"], m: m, keys: pos[0].Strings}
	if bt.transform == "" {
		bt.transform = "text" // RFC 5173 §5: the default
	}
	if bt.transform == "content" {
		bt.types = lowerAll(tags.set["content"].Strings)
	}
	return bt, nil
}

// evalBody runs a body test: each selected part is one value.
func (r *run) evalBody(t bodyTest) bool {
	if r.in.Message == nil {
		return false
	}
	msg, err := io.ReadAll(io.LimitReader(r.in.Message(), maxBodyRead))
	if err != nil {
		return false
	}
	var values []string
	switch t.transform {
	case "raw":
		// RFC 5173 §5.1: the body as it is, after the header.
		if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
			values = []string{string(msg[i+4:])}
		} else if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
			values = []string{string(msg[i+2:])}
		}
	case "text":
		values = bodyParts(msg, []string{"text"})
	default:
		values = bodyParts(msg, r.xs(t.types))
	}
	return r.matched(t.m.matchVars(values, r.xs(t.keys)))
}

// bodyParts returns the decoded content of the leaf parts whose content
// type matches one of types (RFC 5173 §5.2: a type, "type/subtype", or ""
// for every part).
func bodyParts(msg []byte, types []string) []string {
	var out []string
	n := 0
	var walk func(h textproto.MIMEHeader, body io.Reader, depth int)
	walk = func(h textproto.MIMEHeader, body io.Reader, depth int) {
		if n >= maxBodyParts {
			return
		}
		n++
		ctype, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil || ctype == "" {
			ctype, params = "text/plain", map[string]string{"charset": "us-ascii"}
		}
		if strings.HasPrefix(ctype, "multipart/") && depth < maxBodyDepth {
			raw, _ := io.ReadAll(io.LimitReader(body, maxBodyRead))
			if typeMatches(ctype, types) {
				// RFC 5173 §5.2: a multipart type selects the part's
				// prologue and epilogue.
				out = append(out, prologueEpilogue(raw, params["boundary"]))
			}
			mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header, p, depth+1)
			}
		}
		if !typeMatches(ctype, types) {
			return
		}
		out = append(out, decodePart(h, body, params["charset"]))
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, err := tp.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil
	}
	walk(h, tp.R, 0)
	return out
}

// prologueEpilogue returns the text before the first boundary line and
// after the closing one.
func prologueEpilogue(raw []byte, boundary string) string {
	delim := []byte("--" + boundary)
	var pro, epi []byte
	if i := bytes.Index(raw, delim); i >= 0 {
		pro = raw[:i]
	} else {
		return string(raw)
	}
	if i := bytes.LastIndex(raw, append(delim, '-', '-')); i >= 0 {
		rest := raw[i+len(delim)+2:]
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			epi = rest[j+1:]
		}
	}
	return string(pro) + string(epi)
}

func typeMatches(ctype string, types []string) bool {
	main, _, _ := strings.Cut(ctype, "/")
	for _, t := range types {
		if t == "" || t == ctype || (!strings.Contains(t, "/") && t == main) {
			return true
		}
	}
	return false
}

// decodePart undoes the transfer encoding and, for ISO-8859-1, the
// charset; other charsets pass as they are (the package is stdlib only).
func decodePart(h textproto.MIMEHeader, body io.Reader, charset string) string {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	b, _ := io.ReadAll(io.LimitReader(body, maxBodyRead))
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return string(b)
}

// newlineStripper drops CR and LF, which base64.NewDecoder refuses.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
