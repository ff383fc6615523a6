package smtpserver

import "bytes"

// span is an octet range [start, end) of a message.
type span struct{ start, end int }

// field is one top-level header field of a message (RFC 5322 §2.2).
type field struct {
	name  string
	value []byte // after the colon, continuation lines included, without the final CRLF
	start int    // offset of the field's first octet
	end   int    // offset just past its final CRLF
}

// headerFields splits the header block at the start of head into fields,
// stopping at the empty line that ends it, or before a line that is not
// a field or continuation (no colon), or before a field not ended by CRLF
// within head (a header longer than head is looked at in part). complete
// says head is the whole message, so that its end ends the last field.
func headerFields(head []byte, complete bool) []field {
	var out []field
	i := 0
	for i < len(head) {
		if bytes.HasPrefix(head[i:], []byte("\r\n")) {
			break // the end of the header
		}
		end := fieldEnd(head, i, complete)
		if end < 0 {
			break
		}
		line := head[i : end-2]
		colon := bytes.IndexByte(line, ':')
		first := bytes.IndexByte(line, '\r')
		if colon <= 0 || (first >= 0 && colon > first) || line[0] == ' ' || line[0] == '\t' {
			break
		}
		name := bytes.TrimRight(line[:colon], " \t")
		out = append(out, field{name: string(name), value: line[colon+1:], start: i, end: end})
		i = end
	}
	return out
}

// fieldEnd returns the offset past the CRLF that ends the field starting
// at i: the first CRLF not followed by a space or tab. -1 when head ends
// first.
func fieldEnd(head []byte, i int, complete bool) int {
	for j := i; ; {
		k := bytes.Index(head[j:], []byte("\r\n"))
		if k < 0 {
			return -1
		}
		e := j + k + 2
		if e >= len(head) {
			if complete {
				return e
			}
			return -1 // cannot tell whether a continuation follows
		}
		if head[e] != ' ' && head[e] != '\t' {
			return e
		}
		j = e
	}
}
