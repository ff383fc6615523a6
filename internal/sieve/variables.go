package sieve

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the variables extension (RFC 5229 §6 asks for at least 128
// variables of 4000 octets).
const (
	maxVariables     = 256
	maxVariableValue = 4096
	maxExpanded      = 64 << 10 // one expanded string
)

// setNode is the set action (RFC 5229 §4).
type setNode struct {
	name      string
	value     string
	modifiers []string // in order of application: precedence 40, 30, 20, 10
}

func (setNode) isNode() {}

// stringTest is the string test (RFC 5229 §5).
type stringTest struct {
	sources []string
	m       matcher
	keys    []string
}

func (stringTest) isTest() {}

// setModifiers are set's tags, grouped by precedence (RFC 5229 §4.1).
var setModifiers = map[string]tagSpec{
	"lower": {group: "40"}, "upper": {group: "40"},
	"lowerfirst": {group: "30"}, "upperfirst": {group: "30"},
	"quotewildcard": {group: "20"},
	"length":        {group: "10"},
}

func (c *compiler) set(cmd *Command) (node, error) {
	if !c.required["variables"] {
		return nil, errAt(cmd.Line, "set needs require \"variables\"")
	}
	tags, pos, err := c.splitArgs("set", cmd.Line, cmd.Args, setModifiers)
	if err != nil {
		return nil, err
	}
	if err := positional("set", cmd.Line, pos, argString, argString); err != nil {
		return nil, err
	}
	name := pos[0].Strings[0]
	if !isIdentifier(name) {
		return nil, errAt(pos[0].Line, "set: %q is not a variable name", name)
	}
	n := setNode{name: strings.ToLower(name), value: pos[1].Strings[0]}
	for _, prec := range []string{"40", "30", "20", "10"} {
		if m := tags.groups[prec]; m != "" {
			n.modifiers = append(n.modifiers, m)
		}
	}
	return n, nil
}

func (c *compiler) stringTest(t *Test) (test, error) {
	if !c.required["variables"] {
		return nil, errAt(t.Line, "string needs require \"variables\"")
	}
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	tags, pos, err := c.splitArgs("string", t.Line, t.Args, matchTags)
	if err != nil {
		return nil, err
	}
	if err := positional("string", t.Line, pos, argStringList, argStringList); err != nil {
		return nil, err
	}
	m, err := c.matcher(t, tags)
	if err != nil {
		return nil, err
	}
	return stringTest{sources: pos[0].Strings, m: m, keys: pos[1].Strings}, nil
}

// isIdentifier: identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_").
func isIdentifier(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) && !isDigit(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

// x expands the variable references of s (RFC 5229 §3): ${name} and
// ${N} (match variables); a name that is neither, such as a namespace
// this implementation lacks, stays as written. Unset variables expand
// to "". Without the extension, strings are literal.
func (r *run) x(s string) string {
	if !r.vars || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for b.Len() < maxExpanded {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		if val, ok := r.lookup(rest[:j]); ok {
			b.WriteString(val)
			s = rest[j+1:]
			continue
		}
		b.WriteString("${")
		s = rest
	}
	return truncate(b.String(), maxExpanded)
}

// xs expands every string of a list.
func (r *run) xs(list []string) []string {
	if !r.vars {
		return list
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = r.x(s)
	}
	return out
}

func (r *run) lookup(name string) (string, bool) {
	if name != "" && strings.Trim(name, "0123456789") == "" {
		n, err := strconv.Atoi(name)
		if err != nil || n >= len(r.matchVars) {
			return "", err == nil
		}
		return r.matchVars[n], true
	}
	if !isIdentifier(name) {
		return "", false
	}
	return r.getVar(strings.ToLower(name)), true
}

// getVar reads a variable: a global one when the running script
// declared it global (RFC 6609 §3.4).
func (r *run) getVar(name string) string {
	if r.globalNames[name] {
		return r.globals[name]
	}
	return r.variables[name]
}

// setVar stores a variable, within the limits.
func (r *run) setVar(name, value string) error {
	m := &r.variables
	if r.globalNames[name] {
		m = &r.globals
	}
	if _, ok := (*m)[name]; !ok && len(*m) >= maxVariables {
		return &RuntimeError{Msg: "too many variables"}
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[name] = truncate(value, maxVariableValue)
	return nil
}

// set runs the set action: the value expanded, then the modifiers.
func (r *run) set(n setNode) error {
	v := r.x(n.value)
	for _, m := range n.modifiers {
		switch m {
		case "lower":
			v = strings.ToLower(v)
		case "upper":
			v = strings.ToUpper(v)
		case "lowerfirst":
			v = mapFirst(v, unicode.ToLower)
		case "upperfirst":
			v = mapFirst(v, unicode.ToUpper)
		case "quotewildcard":
			v = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(v)
		case "length":
			v = strconv.Itoa(utf8.RuneCountInString(v)) // characters, RFC 5229 §4.1
		}
	}
	return r.setVar(n.name, v)
}

func mapFirst(s string, f func(rune) rune) string {
	c, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(f(c)) + s[size:]
}

// truncate cuts s to at most n octets on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// matched records the match variables of a successful :matches test
// (RFC 5229 §3.2); other outcomes leave them as they were.
func (r *run) matched(ok bool, vars []string) bool {
	if ok && vars != nil && r.vars {
		r.matchVars = vars
	}
	return ok
}
