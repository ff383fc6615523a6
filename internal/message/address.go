package message

import (
	"strconv"
	"strings"
)

// An Address is one element of an ENVELOPE address list (RFC 9051 §7.5.2).
//
// Group syntax (RFC 5322 §3.4) is flattened the way IMAP does it: a group
// start marker (Group true, Mailbox = group name, Name and Host empty), the
// member addresses, then a group end marker (Group true, all else empty).
type Address struct {
	// Name is the display name, unquoted but otherwise raw: RFC 2047
	// encoded words are kept, since ENVELOPE sends them undecoded.
	Name string
	// Mailbox is the local part (unquoted), or the group name of a group
	// start marker.
	Mailbox string
	// Host is the domain. It is never empty for a non-group address, since
	// a NIL host means group syntax on the wire.
	Host string
	// Route is the obsolete source route of a name-addr, as the ENVELOPE's
	// at-domain-list (adl, RFC 9051 §7.5.2; RFC 5322 §4.4 obs-route):
	// "<@relay.example,@b.example:user@host>" has Route
	// "@relay.example,@b.example". Empty without one.
	Route string
	// Group marks a group start or end marker.
	Group bool
}

// Placeholders for the parts of a broken address, the same as Dovecot's, so
// that a non-group address never has an empty mailbox or host.
const (
	missingMailbox = "MISSING_MAILBOX"
	missingDomain  = "MISSING_DOMAIN"
)

// addrTokKind classifies address-list tokens.
type addrTokKind uint8

const (
	tokAtom    addrTokKind = iota // atext run, dots included ("john.doe", "Q.")
	tokQuoted                     // quoted-string, unquoted
	tokLiteral                    // domain literal, brackets included
	tokComment                    // comment content, without the outer parens
	tokSpecial                    // one of < > @ , : ;
)

type addrTok struct {
	kind  addrTokKind
	text  string
	space bool // white space or a comment precedes the token
}

func (t addrTok) is(special byte) bool {
	return t.kind == tokSpecial && t.text[0] == special
}

// tokenizeAddresses splits an address-list header value into tokens
// (RFC 5322 §3.2). Stray characters that fit nowhere are dropped.
func tokenizeAddresses(s string) []addrTok {
	var toks []addrTok
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			space = true
			i++
			continue
		case c == '(':
			l := valueLexer{s: s, i: i}
			l.skipComment()
			text := strings.TrimSuffix(s[i+1:l.i], ")")
			toks = append(toks, addrTok{kind: tokComment, text: text, space: true})
			i = l.i
			space = true
			continue
		case c == '"':
			l := valueLexer{s: s, i: i}
			v := l.value()
			toks = append(toks, addrTok{kind: tokQuoted, text: v, space: space})
			i = l.i
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				j = len(s) - i - 1
			}
			toks = append(toks, addrTok{kind: tokLiteral, text: s[i : i+j+1], space: space})
			i += j + 1
		case strings.IndexByte("<>@,:;", c) >= 0:
			toks = append(toks, addrTok{kind: tokSpecial, text: s[i : i+1], space: space})
			i++
		case strings.IndexByte(`)]\`, c) >= 0 || c < ' ' || c == 0x7f:
			i++
			continue
		default:
			j := i
			for j < len(s) && !isAddrDelim(s[j]) {
				j++
			}
			toks = append(toks, addrTok{kind: tokAtom, text: s[i:j], space: space})
			i = j
		}
		space = false
	}
	return toks
}

func isAddrDelim(c byte) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0
}

// parseAddressList parses an address-list header value (RFC 5322 §3.4) into
// ENVELOPE addresses. It never fails: what cannot be parsed degrades the way
// Dovecot degrades it (MISSING_MAILBOX / MISSING_DOMAIN placeholders), so
// clients always receive a well-formed ENVELOPE.
//
// QUIRK: go-message's mail.ParseAddressList (net/mail) is not used because
// it decodes RFC 2047 display names (ENVELOPE must send them raw), drops
// group names and markers (ENVELOPE must send them), and rejects the whole
// list on the first broken address.
func parseAddressList(s string) []Address {
	p := addrParser{toks: tokenizeAddresses(s)}
	var out []Address
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.kind == tokSpecial && t.text != "<" && t.text != "@" {
			p.i++ // stray separator: empty list element, ">", ";" or ":"
			continue
		}
		out = p.address(out)
	}
	return out
}

type addrParser struct {
	toks []addrTok
	i    int
}

// address parses a group or a mailbox.
func (p *addrParser) address(out []Address) []Address {
	j := p.i
	for j < len(p.toks) && p.toks[j].kind != tokSpecial {
		j++
	}
	if j == len(p.toks) || !p.toks[j].is(':') {
		return p.mailbox(out)
	}
	if j+1 < len(p.toks) && p.toks[j+1].is(':') {
		return p.decnet(out)
	}
	// RFC 5322 §3.4: group = display-name ":" [group-list] ";"
	out = append(out, Address{Group: true, Mailbox: phrase(p.toks[p.i:j])})
	p.i = j + 1
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.is(';') {
			p.i++
			break
		}
		if t.kind == tokSpecial && t.text != "<" && t.text != "@" {
			p.i++
			continue
		}
		out = p.mailbox(out)
	}
	return append(out, Address{Group: true})
}

// decnet takes an OpenVMS DECnet address ("NODE::USER",
// `NODE::"user@host"`, multi-hop routes) as one address whose mailbox is
// the whole address as written: "NODE:" is not a group name. Such
// addresses reach a header when the Mail11 view passes them through
// unchanged (Decnet-Rewrite NONE); reading them as RFC 5322 groups would
// show a group named after the node and lose the route.
func (p *addrParser) decnet(out []Address) []Address {
	var b strings.Builder
	for ; p.i < len(p.toks); p.i++ {
		t := p.toks[p.i]
		if t.is(',') {
			break
		}
		if t.space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch t.kind {
		case tokQuoted:
			b.WriteString(strconv.Quote(t.text))
		case tokComment:
			continue
		default:
			b.WriteString(t.text)
		}
	}
	return append(out, Address{Mailbox: b.String(), Host: missingDomain})
}

// mailbox parses one name-addr or addr-spec, up to the next "," or ";"
// outside angle brackets.
func (p *addrParser) mailbox(out []Address) []Address {
	start, angle := p.i, false
	for ; p.i < len(p.toks); p.i++ {
		t := p.toks[p.i]
		if t.kind != tokSpecial {
			continue
		}
		if t.is('<') {
			angle = true
		} else if t.is('>') {
			angle = false
		} else if !angle && (t.is(',') || t.is(';')) {
			// ";" ends a group; outside one it is a common mistake for ","
			// and separates addresses as well.
			break
		}
	}
	seg := p.toks[start:p.i]
	if !hasWord(seg) {
		return out
	}
	var a Address
	if lt := indexSpecial(seg, '<'); lt >= 0 {
		// name-addr = [display-name] "<" [obs-route] addr-spec ">"
		a.Name = phrase(seg[:lt])
		inner := seg[lt+1:]
		if gt := indexSpecial(inner, '>'); gt >= 0 {
			inner = inner[:gt]
		}
		if len(inner) > 0 && (inner[0].is('@') || inner[0].is(',')) {
			if c := indexSpecial(inner, ':'); c >= 0 {
				a.Route = route(inner[:c])
				inner = inner[c+1:]
			}
		}
		a.Mailbox, a.Host = addrSpec(inner)
	} else {
		a = bareAddrSpec(seg)
	}
	if a.Mailbox == "" {
		a.Mailbox = missingMailbox
	}
	if a.Host == "" {
		a.Host = missingDomain
	}
	return append(out, a)
}

// bareAddrSpec handles a mailbox without angle brackets: "a@b (Name)",
// or broken forms such as "Name a@b" or a lone word.
func bareAddrSpec(seg []addrTok) Address {
	var a Address
	at := indexSpecial(seg, '@')
	if at < 0 {
		a.Mailbox = phrase(seg)
	} else {
		// The local part is the run of tokens glued to the "@"; words
		// before it are taken as a display name.
		ls := at
		for ls > 0 && !seg[ls].space && (seg[ls-1].kind == tokAtom || seg[ls-1].kind == tokQuoted) {
			ls--
		}
		de := at + 1
		for de < len(seg) && (de == at+1 || !seg[de].space) && (seg[de].kind == tokAtom || seg[de].kind == tokLiteral) {
			de++
		}
		a.Name = phrase(seg[:ls])
		a.Mailbox, a.Host = addrSpec(seg[ls:de])
	}
	if a.Name == "" {
		// RFC 5322 §3.4 obsolete form "addr (Name)": a comment names it.
		for i := len(seg) - 1; i >= 0; i-- {
			if seg[i].kind == tokComment {
				a.Name = strings.TrimSpace(seg[i].text)
				break
			}
		}
	}
	return a
}

// route renders an obs-domain-list (RFC 5322 §4.4: *(CFWS / ",") "@"
// domain *("," [CFWS] ["@" domain])) the way ENVELOPE's at-domain-list
// writes it: "@a,@b", comments, white space and empty elements dropped.
func route(toks []addrTok) string {
	var doms []string
	for i := 0; i < len(toks); i++ {
		if toks[i].is('@') && i+1 < len(toks) && (toks[i+1].kind == tokAtom || toks[i+1].kind == tokLiteral) {
			doms = append(doms, "@"+toks[i+1].text)
			i++
		}
	}
	return strings.Join(doms, ",")
}

// addrSpec splits the tokens of an addr-spec at the first "@". Comments,
// white space and specials are dropped (obs-local-part allows "a . b").
func addrSpec(toks []addrTok) (mailbox, host string) {
	at := indexSpecial(toks, '@')
	if at < 0 {
		return glue(toks), ""
	}
	return glue(toks[:at]), glue(toks[at+1:])
}

// glue concatenates the words of toks without separators.
func glue(toks []addrTok) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind != tokComment && t.kind != tokSpecial {
			b.WriteString(t.text)
		}
	}
	return b.String()
}

// phrase joins the words of a display name with single spaces, dropping
// comments. Quoted strings are unquoted.
func phrase(toks []addrTok) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tokComment {
			continue
		}
		if t.space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

func hasWord(toks []addrTok) bool {
	for _, t := range toks {
		if t.kind != tokComment && !t.is(',') && !t.is(';') {
			return true
		}
	}
	return false
}

func indexSpecial(toks []addrTok, c byte) int {
	for i, t := range toks {
		if t.is(c) {
			return i
		}
	}
	return -1
}
