package delivery

import (
	"net/netip"
	"strings"
	"time"
)

// ReceivedInfo is what a Received header records (RFC 5321 §4.4).
type ReceivedInfo struct {
	// Helo is the name the client gave in HELO/EHLO/LHLO.
	Helo string
	// Remote is the client's IP address; invalid for a Unix socket.
	Remote netip.Addr
	// By is our host name.
	By string
	// With is the protocol keyword (RFC 3848): ESMTP, ESMTPS, ESMTPA,
	// ESMTPSA, LMTP, LMTPS, UTF8SMTPSA...
	With string
	// ID identifies the transaction in our logs.
	ID string
	// For is the recipient, given only when there is exactly one.
	For string
	// TLS describes the cipher, e.g. "TLS1.3 TLS_AES_128_GCM_SHA256"; "" for none.
	TLS string
	// Time is when the message was taken in.
	Time time.Time
}

// Received returns a Received header field, folded, ending in CRLF. Only
// what the client cannot forge in our header is written unchecked; the
// HELO name is reduced to characters safe in a header.
func Received(ri ReceivedInfo) string {
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(headerSafe(ri.Helo, "unknown"))
	if ri.Remote.IsValid() {
		b.WriteString(" ([")
		if ri.Remote.Is6() && !ri.Remote.Is4In6() {
			b.WriteString("IPv6:")
		}
		b.WriteString(ri.Remote.Unmap().String())
		b.WriteString("])")
	}
	b.WriteString("\r\n\tby ")
	b.WriteString(headerSafe(ri.By, "localhost"))
	b.WriteString(" (Postern) with ")
	b.WriteString(ri.With)
	if ri.ID != "" {
		b.WriteString(" id ")
		b.WriteString(headerSafe(ri.ID, "-"))
	}
	if ri.For != "" {
		b.WriteString("\r\n\tfor <")
		b.WriteString(headerSafe(ri.For, "-"))
		b.WriteString(">")
	}
	if ri.TLS != "" {
		b.WriteString("\r\n\t(")
		b.WriteString(strings.Join(strings.Fields(commentSafe(ri.TLS)), " "))
		b.WriteString(")")
	}
	b.WriteString(";\r\n\t")
	b.WriteString(ri.Time.Format(time.RFC1123Z))
	b.WriteString("\r\n")
	return b.String()
}

// headerSafe keeps printable characters other than those that would end
// or confuse a header comment; an empty result becomes def.
func headerSafe(s, def string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '(' || r == ')' || r == ';' || r == '<' || r == '>' || r == '\\' {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "" {
		return def
	}
	return s
}

// commentSafe drops what could end a header comment or the header itself.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '(' || r == ')' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
