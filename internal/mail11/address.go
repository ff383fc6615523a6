package mail11

import "strings"

// Class is the kind of an OpenVMS Mail address (hp-system §3.2). Each class
// has its own rewriting rule.
type Class int

// The address classes, in the order Classify tests them (hp-system §3.2,
// the suggested classification order).
const (
	// ClassOther is everything the other classes do not match, such as a
	// multi-hop DECnet or MRGATE route (rule R6).
	ClassOther Class = iota
	// ClassSMTP is SMTP%"legal-address" (rule R1).
	ClassSMTP
	// ClassCluster is cluster-forwarding SMTP, node::SMTP%"user@domain"
	// (rule R5).
	ClassCluster
	// ClassQuotedDECnet is DECnet with a quoted address, node::"user@host"
	// (rule R4).
	ClassQuotedDECnet
	// ClassDECnet is simple DECnet, node::user (rule R2).
	ClassDECnet
	// ClassUser is a user name alone (rule R3).
	ClassUser
)

var classNames = [...]string{
	ClassOther:        "other",
	ClassSMTP:         "smtp",
	ClassCluster:      "cluster-forwarding",
	ClassQuotedDECnet: "quoted-decnet",
	ClassDECnet:       "decnet",
	ClassUser:         "user",
}

// String returns a short lower-case name of the class.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// IsSMTP reports whether addresses of the class are SMTP addresses: the
// class for which Ignore-Mail11-Headers serves a message's own header
// (hp-system §3.3 R7). Cluster-forwarding addresses are SMTP addresses
// that passed through another cluster member.
func (c Class) IsSMTP() bool { return c == ClassSMTP || c == ClassCluster }

// An Address is a classified OpenVMS Mail address: the parts the rewriting
// rules need. Raw is always set; the other fields depend on Class.
type Address struct {
	// Class is the address class.
	Class Class
	// Raw is the address as stored, with surrounding white space removed
	// and, if it was not valid UTF-8, read as ISO 8859-1 (see clean).
	Raw string
	// Node is the DECnet node name, as written, for ClassDECnet,
	// ClassQuotedDECnet and ClassCluster.
	Node string
	// User is the user name, as written, for ClassDECnet and ClassUser.
	User string
	// Quoted is the text inside the quotes: for ClassSMTP and ClassCluster
	// the SMTP address with every cent sign turned back into a double quote
	// (R1); for ClassQuotedDECnet the quoted address, unchanged.
	Quoted string
}

// smtpPrefix introduces an SMTP address in OpenVMS Mail (the "foreign
// protocol" prefix of the SMTP transport).
const smtpPrefix = "SMTP%"

// Classify parses an OpenVMS Mail address and sorts it into its class,
// testing the classes in the order of hp-system §3.2:
//  1. an SMTP% prefix (case-insensitive) → ClassSMTP;
//  2. exactly one node:: followed by SMTP%… → ClassCluster;
//  3. exactly one node:: followed by a quoted string containing @ →
//     ClassQuotedDECnet;
//  4. exactly one node:: followed by a bare user name → ClassDECnet;
//  5. a bare user name with no ::, %, quotes or @ → ClassUser;
//  6. anything else → ClassOther.
//
// A node name is letters, digits, "_", "$" and "-". A user name is an
// RFC 5322 dot-atom without "%" (VMS user names are letters, digits, "_"
// and "$"). Neither may contain white space or control characters, so the
// addresses that rule NONE passes through unchanged never contain CR or LF.
func Classify(vms string) Address {
	s := strings.Trim(toUTF8(vms), " \t")
	a := Address{Class: ClassOther, Raw: s}
	if hasPrefixFold(s, smtpPrefix) {
		a.Class = ClassSMTP
		a.Quoted = smtpInner(s[len(smtpPrefix):])
		return a
	}
	node, rest, ok := cutNode(s)
	if !ok {
		if isUserName(s) {
			a.Class, a.User = ClassUser, s
		}
		return a
	}
	switch {
	case hasPrefixFold(rest, smtpPrefix):
		a.Class, a.Node = ClassCluster, node
		a.Quoted = smtpInner(rest[len(smtpPrefix):])
	case isQuotedAddress(rest):
		a.Class, a.Node = ClassQuotedDECnet, node
		a.Quoted = rest[1 : len(rest)-1]
	case isUserName(rest):
		a.Class, a.Node, a.User = ClassDECnet, node, rest
	}
	return a
}

// cutNode splits "node::rest" at the first "::" when what precedes it is
// a node name. The "::" must come before any quote, so that a "::" inside
// a quoted address does not count.
func cutNode(s string) (node, rest string, ok bool) {
	i := strings.Index(s, "::")
	if i <= 0 || strings.Contains(s[:i], `"`) || !isNodeName(s[:i]) {
		return "", "", false
	}
	return s[:i], s[i+2:], true
}

// smtpInner returns the address inside SMTP%"…" with the cent signs
// unquoted. The quotes are the first and the last double quote; when the
// closing one is missing the rest of the text is taken. Without quotes the
// text is taken as it is.
func smtpInner(s string) string {
	if strings.HasPrefix(s, `"`) {
		s = s[1:]
		if i := strings.LastIndexByte(s, '"'); i >= 0 {
			s = s[:i]
		}
	}
	return unquoteCents(s)
}

// centSign is the character VMS SMTP stores in place of a double quote
// nested inside SMTP%"…" (hp-system §3.3 R1).
const centSign = '\u00a2'

// unquoteCents turns every cent sign back into a double quote and keeps
// every other character (hp-system §3.3 R1, the plain substitution the
// [INF] asks for). A cent sign stored as the ISO 8859-1 byte A2 has been
// made U+00A2 by Classify (toUTF8).
func unquoteCents(s string) string {
	return strings.ReplaceAll(s, string(centSign), `"`)
}

// hideQuotes is the inverse of unquoteCents, used when an SMTP address is
// stored as SMTP%"…" (DeriveEnvelope).
func hideQuotes(s string) string {
	return strings.ReplaceAll(s, `"`, string(centSign))
}

// isQuotedAddress reports whether s is one quoted string, with no quote
// or control character inside, that contains an "@".
func isQuotedAddress(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	inner := s[1 : len(s)-1]
	return strings.Contains(inner, "@") && !strings.Contains(inner, `"`) && !hasControl(inner) && validText(inner)
}

// isNodeName reports whether s can be a DECnet node name.
func isNodeName(s string) bool {
	if s == "" || len(s) > maxNodeName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '$' && c != '-' {
			return false
		}
	}
	return true
}

// maxNodeName bounds a node name: DECnet Phase IV names have at most six
// characters, Phase V names are longer; the bound only keeps absurd input
// out of the DECnet classes.
const maxNodeName = 64

// isUserName reports whether s can be a VMS user name that, lower-cased,
// is also a valid RFC 5322 local part: a dot-atom without "%" (which would
// make it a foreign-protocol address).
func isUserName(s string) bool {
	return isDotAtom(s) && !strings.ContainsAny(s, "%")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// hasControl reports whether s contains an ASCII control character
// (including tab, CR and LF) or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// splitList splits a VMS address list (the To: or CC: field) at the commas
// that are outside double quotes, trims each item and drops empty ones.
func splitList(s string) []string {
	var items []string
	inQuote, start := false, 0
	add := func(item string) {
		if item = strings.Trim(item, " \t"); item != "" {
			items = append(items, item)
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				add(s[start:i])
				start = i + 1
			}
		}
	}
	add(s[start:])
	return items
}

// routePrefix returns the DECnet routing prefix of a sender: every leading
// "node::" of the address ("ORDERS::" for ORDERS::J_SMITH, "A::B::" for
// A::B::USER), or "" when the address is not a DECnet address. An SMTP or
// cluster-forwarding address has no DECnet route.
func routePrefix(a Address) string {
	if a.Class.IsSMTP() {
		return ""
	}
	rest, n := a.Raw, 0
	for {
		node, after, ok := cutNode(rest)
		if !ok {
			break
		}
		n += len(node) + 2
		rest = after
	}
	return a.Raw[:n]
}
