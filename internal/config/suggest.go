package config

import "strings"

// nearest returns the candidate closest to name by Damerau-Levenshtein
// distance (optimal string alignment), ignoring case, or "" when none is
// close enough to be a plausible typo. Ties go to the earlier candidate.
func nearest(name string, candidates []string) string {
	name = strings.ToLower(name)
	limit := max(2, len([]rune(name))/3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(name, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// maxSuggestLen bounds the names nearest compares: a longer one is no
// typo of an option name, and comparing it would cost quadratic time.
const maxSuggestLen = 64

// editDistance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of neighbours.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > maxSuggestLen || len(rb) > maxSuggestLen {
		return max(len(ra), len(rb)) // not a typo of an option name
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// sectionNames returns the canonical names of the options of section.
func sectionNames(section string) []string {
	var out []string
	for _, o := range options() {
		if o.section == section {
			out = append(out, o.name)
		}
	}
	return out
}

// unknownFieldMsg explains why name is not an option of section: it
// belongs elsewhere, or it is unknown (with the nearest known name).
func unknownFieldMsg(section, name string) string {
	if others := sectionsWith(name, section); len(others) > 0 {
		canon := lookup(others[0], name).name
		where := "not a global field"
		switch section {
		case SectionGlobal:
		case SectionPOP, SectionManageSieve:
			where = "not a [" + section + "] field"
		default: // "an [IMAP]", "an [SMTP]", "an [LMTP]", as they are spoken
			where = "not an [" + section + "] field"
		}
		return quote(canon) + " is " + where + "; it belongs in " + orList(bracketed(others))
	}
	if msg := logicalNameMsg(name); msg != "" {
		return msg
	}
	msg := "unknown field " + quote(name)
	if section == SectionGlobal {
		msg += " among the global options (before any [section])"
	} else {
		msg += " in [" + section + "]"
	}
	if s := nearest(name, sectionNames(section)); s != "" {
		msg += "; did you mean " + quote(s) + "?"
	}
	return msg
}

func bracketed(secs []string) []string {
	out := make([]string, len(secs))
	for i, s := range secs {
		if s == SectionGlobal {
			out[i] = "the global options"
		} else {
			out[i] = "[" + s + "]"
		}
	}
	return out
}

// orList joins items as "a", "a or b", "a, b or c".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// logicalNameMsg recognises an original OpenVMS logical name such as
// TCPIP$POP_LEAVE_IN_NEWMAIL written as a field, and names the field it
// became ("Leave-In-Newmail" in [POP]); it returns "" for anything else.
func logicalNameMsg(name string) string {
	up := strings.ToUpper(name)
	for _, p := range []struct{ prefix, section string }{
		{"TCPIP$POP_", SectionPOP}, {"TCPIP$IMAP_", SectionIMAP},
	} {
		rest, ok := strings.CutPrefix(up, p.prefix)
		if !ok {
			continue
		}
		field := strings.ReplaceAll(rest, "_", "-")
		if o := lookup(p.section, field); o != nil {
			return "unknown field " + quote(name) + "; that OpenVMS logical name is written " +
				quote(o.name) + " in [" + p.section + "]"
		}
	}
	return ""
}
