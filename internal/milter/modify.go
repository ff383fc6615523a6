package milter

import (
	"strings"

	gomilter "github.com/emersion/go-milter"
)

// applyModifications turns the filter's header actions into fields to
// prepend and fields to drop. Added and inserted fields are prepended (a
// milter's position hint is not kept: field order carries no meaning for
// these). A change names the Nth field of a name (1-based, in message
// order): it is dropped, and replaced by the new value unless that is
// empty (a deletion).
func applyModifications(acts []gomilter.ModifyAction) Result {
	var res Result
	changes := map[string]map[uint32]bool{} // lower-case name → indexes to drop
	for _, a := range acts {
		if !validName(a.HeaderName) {
			continue // a name that would break the header: ignored
		}
		switch a.Code {
		case gomilter.ActAddHeader, gomilter.ActInsertHeader:
			res.Prepend += field(a.HeaderName, a.HeaderValue)
		case gomilter.ActChangeHeader:
			name := strings.ToLower(a.HeaderName)
			if changes[name] == nil {
				changes[name] = map[uint32]bool{}
			}
			changes[name][a.HeaderIndex] = true
			if a.HeaderValue != "" {
				res.Prepend += field(a.HeaderName, a.HeaderValue)
			}
		}
	}
	if len(changes) > 0 {
		seen := map[string]uint32{}
		res.Drop = func(name string, _ []byte) bool {
			n := strings.ToLower(name)
			seen[n]++
			return changes[n][seen[n]]
		}
	}
	return res
}

// field formats a header field from a milter: its value's line breaks
// (LF or CRLF, as filters send them) become CRLF followed by a tab when
// the next line is not already indented, so the field stays one field.
func field(name, value string) string {
	value = strings.ReplaceAll(value, "\r\n", "\n")
	lines := strings.Split(value, "\n")
	for i := 1; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], " ") && !strings.HasPrefix(lines[i], "\t") {
			lines[i] = "\t" + lines[i]
		}
	}
	v := strings.Join(lines, "\r\n")
	if !strings.HasPrefix(v, " ") {
		v = " " + v
	}
	return name + ":" + v + "\r\n"
}

// validName accepts an RFC 5322 §3.6.8 field name: printable ASCII
// without colon.
func validName(name string) bool {
	if name == "" || len(name) > 200 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}
