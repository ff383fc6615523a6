package smtpserver

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// errSyntax is a command argument that does not follow the grammar.
var errSyntax = errors.New("syntax error")

// splitCommand splits a command line into its upper-cased verb and its
// argument (RFC 5321 §4.1.1: a verb, then SP and the argument). A verb is
// letters only; ok is false for anything else, such as an HTTP request
// sent to the port or binary garbage.
func splitCommand(line string) (verb, arg string, ok bool) {
	verb, arg, _ = strings.Cut(line, " ")
	if verb == "" || len(verb) > 10 {
		return "", "", false
	}
	for i := 0; i < len(verb); i++ {
		if c := verb[i] | 0x20; c < 'a' || c > 'z' {
			return "", "", false
		}
	}
	return strings.ToUpper(verb), strings.TrimSpace(arg), true
}

// cutPrefixFold is strings.CutPrefix, ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// parsePath parses the Path at the start of s (RFC 5321 §4.1.2):
//
//	Path = "<" [ A-d-l ":" ] Mailbox ">"
//
// and returns the mailbox, as written, without the source route (which
// §4.1.1.3 says to ignore), and what follows the ">". null allows the
// null reverse-path "<>"; postmaster allows RCPT's domainless
// "<Postmaster>" (§4.1.1.3).
func parsePath(s string, null, postmaster bool) (addr, rest string, err error) {
	if !strings.HasPrefix(s, "<") {
		return "", "", errSyntax
	}
	s = s[1:]
	if strings.HasPrefix(s, ">") {
		if !null {
			return "", "", errSyntax
		}
		return "", s[1:], nil
	}
	if strings.HasPrefix(s, "@") { // A-d-l: @one,@two:
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return "", "", errSyntax
		}
		s = s[i+1:]
	}
	local, s, err := parseLocalPart(s)
	if err != nil {
		return "", "", err
	}
	if strings.HasPrefix(s, ">") {
		if !postmaster || !strings.EqualFold(local, "postmaster") {
			return "", "", errSyntax
		}
		return local, s[1:], nil
	}
	if !strings.HasPrefix(s, "@") {
		return "", "", errSyntax
	}
	domain, s, err := parseDomain(s[1:])
	if err != nil || !strings.HasPrefix(s, ">") {
		return "", "", errSyntax
	}
	return local + "@" + domain, s[1:], nil
}

// parseLocalPart parses a Dot-string or a Quoted-string (RFC 5321
// §4.1.2), with UTF-8 allowed (RFC 6531 §3.3); the session decides
// whether UTF-8 needs SMTPUTF8.
func parseLocalPart(s string) (local, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 >= len(s) || s[i+1] < 0x20 || s[i+1] == 0x7f {
					return "", "", errSyntax
				}
				i++
			case '"':
				return s[:i+1], s[i+1:], nil
			default:
				if s[i] < 0x20 || s[i] == 0x7f {
					return "", "", errSyntax
				}
			}
		}
		return "", "", errSyntax
	}
	i := 0
	for i < len(s) && (isAtext(s[i]) || s[i] == '.') {
		i++
	}
	if i == 0 || s[0] == '.' || s[i-1] == '.' || strings.Contains(s[:i], "..") || !utf8.ValidString(s[:i]) {
		return "", "", errSyntax
	}
	return s[:i], s[i:], nil
}

// isAtext reports whether c may appear in an atom (RFC 5322 §3.2.3),
// counting the bytes of UTF-8 sequences (RFC 6531 §3.3).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// parseDomain parses a Domain or an address-literal (RFC 5321 §4.1.2,
// §4.1.3), with U-labels allowed (RFC 6531).
func parseDomain(s string) (domain, rest string, err error) {
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 2 {
			return "", "", errSyntax
		}
		for j := 1; j < i; j++ {
			if c := s[j]; c < 0x21 || c > 0x7e || c == '[' || c == '\\' {
				return "", "", errSyntax
			}
		}
		return s[:i+1], s[i+1:], nil
	}
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 {
			i++
			continue
		}
		break
	}
	d := s[:i]
	if d == "" || d[0] == '.' || d[0] == '-' || strings.Contains(d, "..") || !utf8.ValidString(d) {
		return "", "", errSyntax
	}
	return strings.TrimSuffix(d, "."), s[i:], nil
}

// param is one ESMTP parameter of MAIL or RCPT (RFC 5321 §4.1.2):
// esmtp-keyword ["=" esmtp-value].
type param struct {
	key   string // upper-cased
	value string
	set   bool // "=" was present
}

// parseParams parses the ESMTP parameters after a path: SP-separated,
// each keyword at most once.
func parseParams(s string) ([]param, error) {
	var out []param
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, set := strings.Cut(f, "=")
		if k == "" || set && v == "" {
			return nil, errSyntax
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !(c == '-' && i > 0 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return nil, errSyntax
			}
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x21 || v[i] == '=' || v[i] == 0x7f {
				return nil, errSyntax
			}
		}
		k = strings.ToUpper(k)
		if seen[k] {
			return nil, errSyntax
		}
		seen[k] = true
		out = append(out, param{key: k, value: v, set: set})
	}
	return out, nil
}

// maxHelo bounds the EHLO argument we keep (a domain is at most 255
// octets, RFC 5321 §4.5.3.1.2).
const maxHelo = 255

// sanitizeHelo returns the first word of an EHLO/HELO/LHLO argument made
// safe to echo in our reply and to write into a Received header: bytes
// that are not printable ASCII or part of valid UTF-8 (NUL, 0xFF,
// controls) become "?". Issue 12: raw NUL and 0xFF were echoed.
func sanitizeHelo(arg string) string {
	word, _, _ := strings.Cut(arg, " ")
	if len(word) > maxHelo {
		word = word[:maxHelo]
	}
	var b strings.Builder
	for len(word) > 0 {
		r, size := utf8.DecodeRuneInString(word)
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x21, r == 0x7f, r >= 0x80 && r < 0xa0:
			b.WriteByte('?')
		default:
			b.WriteString(word[:size])
		}
		word = word[size:]
	}
	return b.String()
}
