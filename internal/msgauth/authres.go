package msgauth

import (
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// maxReason bounds the reason= text taken from an error.
const maxReason = 120

// Header returns the Authentication-Results field (RFC 8601 §2.2) for
// res, with CRLF, one result per folded line.
func Header(authservID string, res Results) string {
	var parts []string
	one := func(r authres.Result) {
		s := authres.Format(authservID, []authres.Result{r})
		parts = append(parts, strings.TrimSpace(strings.TrimPrefix(s, authservID+";")))
	}
	spfRes := &authres.SPFResult{Value: authres.ResultValue(res.SPF)}
	if res.SPFHelo {
		spfRes.Helo = res.SPFDomain // §2.7.2: smtp.helo for the null sender
	} else {
		spfRes.From = res.SPFDomain
	}
	one(spfRes)
	if len(res.DKIM) == 0 {
		one(&authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, d := range res.DKIM {
		one(&authres.DKIMResult{Value: authres.ResultValue(d.Result), Domain: d.Domain, Identifier: d.Identifier, Reason: reason(d.Reason)})
	}
	one(&authres.DMARCResult{Value: authres.ResultValue(res.DMARC.Result), From: res.DMARC.From, Reason: reason(res.DMARC.Reason)})
	return "Authentication-Results: " + authservID + ";\r\n\t" + strings.Join(parts, ";\r\n\t") + "\r\n"
}

// reason makes an error text fit a reason= value: one line, bounded,
// printable ASCII.
func reason(s string) string {
	var b strings.Builder
	for _, c := range s {
		if b.Len() >= maxReason {
			break
		}
		if c < ' ' || c > '~' {
			c = ' '
		}
		b.WriteRune(c)
	}
	return strings.TrimSpace(b.String())
}

// IsOurs reports whether an Authentication-Results field value claims
// authservID: RFC 8601 §5 requires a border MTA to remove those it did not
// add, since they come from outside and may be forged.
func IsOurs(value []byte, authservID string) bool {
	id, ok := AuthservID(value)
	return ok && strings.EqualFold(id, authservID)
}

// AuthservID returns the authserv-id of an Authentication-Results field
// value (RFC 8601 §2.2: a "value", token or quoted-string, after optional
// CFWS). ok is false when there is none.
func AuthservID(v []byte) (id string, ok bool) {
	i := skipCFWS(v, 0)
	if i >= len(v) {
		return "", false
	}
	if v[i] == '"' {
		var b strings.Builder
		for i++; i < len(v); i++ {
			switch c := v[i]; c {
			case '\\':
				if i+1 < len(v) {
					i++
					b.WriteByte(v[i])
				}
			case '"':
				return b.String(), b.Len() > 0
			case '\r', '\n':
			default:
				b.WriteByte(c)
			}
		}
		return "", false
	}
	start := i
	for i < len(v) && isTokenChar(v[i]) {
		i++
	}
	return string(v[start:i]), i > start
}

// skipCFWS skips white space, line breaks and comments (nested, RFC 5322
// §3.2.2), from i.
func skipCFWS(v []byte, i int) int {
	depth := 0
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return i
		}
	}
	return i
}

// isTokenChar: RFC 2045 §5.1 token characters (authserv-id is a value,
// RFC 8601 §2.2).
func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
}
