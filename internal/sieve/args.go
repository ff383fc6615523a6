package sieve

import (
	"fmt"
	"strings"
)

// argKind is what follows a tag, or what a positional argument must be.
type argKind int

const (
	argNone argKind = iota
	argString
	argStringList
	argNumber
)

// tagSpec describes one tagged argument a command or test accepts.
type tagSpec struct {
	ext   string  // capability the tag needs; "" for the base language
	group string  // tags of one group exclude each other (match type, address part)
	value argKind // the argument the tag takes, if any
}

// Tags shared by several tests (RFC 5228 §2.7).
var (
	matchTags = map[string]tagSpec{
		"is": {group: "match"}, "contains": {group: "match"}, "matches": {group: "match"},
		"value": {ext: "relational", group: "match", value: argString},
		"count": {ext: "relational", group: "match", value: argString},
		// RFC 5228 §2.7.3
		"comparator": {value: argString},
	}
	addressPartTags = map[string]tagSpec{
		"all": {group: "part"}, "localpart": {group: "part"}, "domain": {group: "part"},
		"user":   {ext: "subaddress", group: "part"}, // RFC 5233 §4
		"detail": {ext: "subaddress", group: "part"},
	}
)

// taggedArgs are the tags a command or test was given, with their values.
type taggedArgs struct {
	set    map[string]Arg // tag → its value (an empty Arg when it takes none)
	groups map[string]string
}

func (t taggedArgs) has(tag string) bool { _, ok := t.set[tag]; return ok }
func (t taggedArgs) str(tag string) string {
	if a, ok := t.set[tag]; ok && len(a.Strings) > 0 {
		return a.Strings[0]
	}
	return ""
}

// splitArgs separates tagged from positional arguments (RFC 5228 §2.6.2:
// tagged arguments come first), checking every tag against specs, the
// capabilities the script required, and each tag's value.
func (c *compiler) splitArgs(name string, line int, args []Arg, specs ...map[string]tagSpec) (taggedArgs, []Arg, error) {
	tags := taggedArgs{set: map[string]Arg{}, groups: map[string]string{}}
	i := 0
	for ; i < len(args) && args[i].Tag != ""; i++ {
		a := args[i]
		spec, ok := lookupTag(a.Tag, specs)
		if !ok || (spec.ext != "" && !c.required[spec.ext]) {
			return tags, nil, errAt(a.Line, "%s: unknown tag :%s", name, a.Tag)
		}
		if tags.has(a.Tag) {
			return tags, nil, errAt(a.Line, "%s: tag :%s given twice", name, a.Tag)
		}
		if spec.group != "" {
			if prev, dup := tags.groups[spec.group]; dup {
				return tags, nil, errAt(a.Line, "%s: :%s conflicts with :%s", name, a.Tag, prev)
			}
			tags.groups[spec.group] = a.Tag
		}
		val := Arg{}
		if spec.value != argNone {
			if i+1 >= len(args) || !fits(args[i+1], spec.value) {
				return tags, nil, errAt(a.Line, "%s: :%s needs a %s", name, a.Tag, kindName(spec.value))
			}
			i++
			val = args[i]
		}
		tags.set[a.Tag] = val
	}
	for _, a := range args[i:] {
		if a.Tag != "" {
			return tags, nil, errAt(a.Line, "%s: tag :%s after a positional argument", name, a.Tag)
		}
	}
	return tags, args[i:], nil
}

func lookupTag(tag string, specs []map[string]tagSpec) (tagSpec, bool) {
	for _, m := range specs {
		if s, ok := m[tag]; ok {
			return s, true
		}
	}
	return tagSpec{}, false
}

// positional checks the positional arguments against kinds.
func positional(name string, line int, args []Arg, kinds ...argKind) error {
	if len(args) != len(kinds) {
		return errAt(line, "%s takes %d positional argument(s), not %d", name, len(kinds), len(args))
	}
	for i, k := range kinds {
		if !fits(args[i], k) {
			return errAt(args[i].Line, "%s: argument %d must be a %s", name, i+1, kindName(k))
		}
	}
	return nil
}

func fits(a Arg, k argKind) bool {
	switch k {
	case argString:
		return a.Strings != nil && !a.IsList
	case argStringList:
		return a.Strings != nil
	case argNumber:
		return a.IsNum
	}
	return false
}

func kindName(k argKind) string {
	switch k {
	case argString:
		return "string"
	case argStringList:
		return "string list"
	case argNumber:
		return "number"
	}
	return "nothing"
}

func errAt(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lowerAll returns the strings lower-cased (header names compare
// case-insensitively, RFC 5228 §2.7.2? header names are case-insensitive
// per RFC 5322 §1.2.2).
func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}
