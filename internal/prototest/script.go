package prototest

import (
	"fmt"
	"regexp"
	"strings"
)

// stepKind is what one transcript line asks the runner to do.
type stepKind int

const (
	stepSend      stepKind = iota // Cn: text
	stepSendData                  // Cn< file
	stepClose                     // Cn!
	stepExpect                    // Sn: text, Sn~ regexp
	stepUnordered                 // Sn{ … Sn}
	stepSkip                      // Sn..
	stepEOF                       // Sn!
)

// step is one parsed transcript line (or an Sn{ … Sn} group).
type step struct {
	kind   stepKind
	conn   int
	text   string // Cn: text, Cn< file name, Sn: pattern source
	line   int    // 1-based line in the archive file, for messages
	index  int    // 0-based line in the transcript section, for -update
	re     *regexp.Regexp
	exact  bool // the S line has no glob: -update may rewrite it
	group  []*step
	regexp bool
}

// parseTranscript parses the transcript section; first is the archive
// line number of its first line.
func parseTranscript(src string, first int) ([]*step, error) {
	var steps []*step
	var group *step
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	for i, raw := range lines {
		ln := first + i
		line := strings.TrimSuffix(raw, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < 3 || (line[0] != 'C' && line[0] != 'S') || line[1] < '1' || line[1] > '9' {
			return nil, fmt.Errorf("line %d: want Cn: or Sn: (n = 1..9), got %q", ln, line)
		}
		st := &step{conn: int(line[1] - '0'), line: ln, index: i}
		rest := line[2:]
		var err error
		switch {
		case line[0] == 'C' && strings.HasPrefix(rest, ": "), line[0] == 'C' && rest == ":":
			st.kind, st.text = stepSend, strings.TrimPrefix(strings.TrimPrefix(rest, ":"), " ")
		case line[0] == 'C' && strings.HasPrefix(rest, "< "):
			st.kind, st.text = stepSendData, strings.TrimSpace(rest[2:])
		case line[0] == 'C' && rest == "!":
			st.kind = stepClose
		case line[0] == 'S' && (strings.HasPrefix(rest, ": ") || rest == ":"):
			st.kind, st.text = stepExpect, strings.TrimPrefix(strings.TrimPrefix(rest, ":"), " ")
			st.re, st.exact = globRegexp(st.text)
		case line[0] == 'S' && strings.HasPrefix(rest, "~ "):
			st.kind, st.text, st.regexp = stepExpect, rest[2:], true
			st.re, err = regexp.Compile("^(?:" + st.text + ")$")
		case line[0] == 'S' && rest == "{":
			if group != nil {
				return nil, fmt.Errorf("line %d: nested S{", ln)
			}
			st.kind = stepUnordered
			group = st
			steps = append(steps, st)
			continue
		case line[0] == 'S' && rest == "}":
			if group == nil || group.conn != st.conn {
				return nil, fmt.Errorf("line %d: S} without a matching S{", ln)
			}
			group = nil
			continue
		case line[0] == 'S' && rest == "..":
			st.kind = stepSkip
		case line[0] == 'S' && rest == "!":
			st.kind = stepEOF
		default:
			return nil, fmt.Errorf("line %d: cannot parse %q", ln, line)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", ln, err)
		}
		if group != nil {
			if st.kind != stepExpect || st.conn != group.conn {
				return nil, fmt.Errorf("line %d: only S%d: lines may stand inside S%d{ … S%d}", ln, group.conn, group.conn, group.conn)
			}
			group.group = append(group.group, st)
			continue
		}
		steps = append(steps, st)
	}
	if group != nil {
		return nil, fmt.Errorf("line %d: S%d{ is never closed", group.line, group.conn)
	}
	return steps, nil
}

// globRegexp compiles an S line pattern: "*" matches any run of
// characters, "\*" is a literal star, and a leading "* " (the IMAP untagged
// marker) is literal. exact reports that the pattern has no glob.
func globRegexp(p string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString("^")
	exact := true
	lit := func(s string) { b.WriteString(regexp.QuoteMeta(s)) }
	if strings.HasPrefix(p, "* ") {
		lit("* ")
		p = p[2:]
	}
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == '*':
			lit("*")
			i++
		case p[i] == '*':
			b.WriteString(".*")
			exact = false
		default:
			lit(p[i : i+1])
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), exact
}
