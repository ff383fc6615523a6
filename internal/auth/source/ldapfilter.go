package source

import (
	"errors"
	"fmt"
	"strings"
)

// filterVars are the values a filter template may name: %u the whole
// login name, %n its part before "@", %d its domain, %a a recipient
// address (Mail-Filter).
type filterVars struct {
	u, n, d, a string
}

// loginVars splits a login name (or an address) into the variables.
func loginVars(login string) filterVars {
	n, d, _ := strings.Cut(login, "@")
	return filterVars{u: login, n: n, d: d, a: login}
}

// EscapeFilterValue escapes s for use as an assertion value in an LDAP
// filter string. RFC 4515 §3: the octets '*' (0x2A), '(' (0x28), ')'
// (0x29), '\' (0x5C) and NUL (0x00) MUST be written as '\' and two hex
// digits; any other octet MAY be. Every octet outside printable ASCII is
// escaped too, so that the result is plain ASCII whatever s holds.
func EscapeFilterValue(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7f {
			b.WriteByte('\\')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// errFilterTemplate is the error of a template with an unknown %-sequence.
var errFilterTemplate = errors.New("bad filter template")

// expandFilter substitutes the variables into a filter template, each
// escaped by EscapeFilterValue; "%%" is a literal "%". A value can never
// change the filter's structure: after escaping it holds no parenthesis,
// star or backslash of its own.
func expandFilter(tmpl string, v filterVars) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(tmpl) {
			return "", fmt.Errorf("%w: %q ends with %%", errFilterTemplate, tmpl)
		}
		i++
		switch tmpl[i] {
		case 'u':
			b.WriteString(EscapeFilterValue(v.u))
		case 'n':
			b.WriteString(EscapeFilterValue(v.n))
		case 'd':
			b.WriteString(EscapeFilterValue(v.d))
		case 'a':
			b.WriteString(EscapeFilterValue(v.a))
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("%w: %q has %%%c; use %%u, %%n, %%d, %%a or %%%%", errFilterTemplate, tmpl, tmpl[i])
		}
	}
	return b.String(), nil
}
