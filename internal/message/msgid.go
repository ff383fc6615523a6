package message

import "strings"

// MessageIDs returns the valid Message IDs of a Message-ID, In-Reply-To or
// References field value, in order, at most max of them (max < 0: all).
// RFC 5256 §3 (REFERENCES) uses "valid Message IDs" of RFC 2822 §3.6.4,
// msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]; what is between the
// angle brackets is kept, folding white space removed, and compared
// case-sensitively. THREAD (RFC 5256) and the stores' thread ids
// (RFC 8474 §5.2) both read message IDs with it. Text outside angle brackets (comments, phrases of
// obsolete In-Reply-To fields) is skipped, and so is a bracketed part
// without "@", as Dovecot does.
func MessageIDs(s string, max int) []string {
	var ids []string
	for max < 0 || len(ids) < max {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			break
		}
		s = s[open+1:]
		end := strings.IndexAny(s, "<>")
		if end < 0 {
			break
		}
		if s[end] == '<' {
			s = s[end:] // "<a <b@c>": start again at the second "<"
			continue
		}
		if id := cleanID(s[:end]); id != "" {
			ids = append(ids, id)
		}
		s = s[end+1:]
	}
	return ids
}

// cleanID removes folding white space from a msg-id's content and returns
// it, or "" when it is not an id-left "@" id-right.
func cleanID(s string) string {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ""
	}
	return s
}
