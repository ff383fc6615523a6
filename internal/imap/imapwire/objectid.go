package imapwire

// MaxObjectIDLen is the longest objectid (RFC 8474 §7).
const MaxObjectIDLen = 255

// IsObjectID reports whether s is an objectid of RFC 8474 §7:
// 1*255(ALPHA / DIGIT / "_" / "-").
func IsObjectID(s string) bool {
	if s == "" || len(s) > MaxObjectIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// ObjectID writes "(" objectid ")", the form of MAILBOXID, EMAILID and a
// non-NIL THREADID (RFC 8474 §7: resp-text-code, status-att-value,
// fetch-emailid-resp, fetch-threadid-resp).
func (enc *Encoder) ObjectID(id string) *Encoder {
	if !IsObjectID(id) {
		enc.setErr(encodeErrorf("invalid objectid"))
		return enc
	}
	return enc.rawByte('(').raw(id).rawByte(')')
}

// ExpectObjectID decodes the objectid of SEARCH EMAILID and THREADID
// (RFC 8474 §7: search-key =/ "EMAILID" SP objectid / "THREADID" SP
// objectid). Anything else is a syntax error (BAD).
func (dec *Decoder) ExpectObjectID(ptr *string) bool {
	var s string
	if !dec.ExpectAtom(&s) {
		return false
	}
	if !IsObjectID(s) {
		return dec.setErr(syntaxErrorf("invalid objectid %q", s))
	}
	*ptr = s
	return true
}
