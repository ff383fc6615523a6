package sieve

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of include (RFC 6609 §3.2 lets an implementation bound both).
const (
	maxIncludeDepth = 10
	maxIncludes     = 32
)

// ErrNoScript is what an IncludeFunc returns for a script that does not
// exist; with :optional the include is then skipped (RFC 6609 §3.2).
var ErrNoScript = errors.New("no such script")

// IncludeFunc returns the compiled script named name of the user
// (personal) or of the site (global).
type IncludeFunc func(name string, global bool) (*Program, error)

type (
	includeNode struct {
		name     string
		global   bool
		once     bool
		optional bool
	}
	returnNode struct{}
	globalNode struct{ names []string }
)

func (includeNode) isNode() {}
func (returnNode) isNode()  {}
func (globalNode) isNode()  {}

var errReturn = errors.New("return")

var includeTags = map[string]tagSpec{
	"personal": {group: "location"}, "global": {group: "location"},
	"once": {}, "optional": {},
}

// include [LOCATION] [":once"] [":optional"] <value: string> (RFC 6609 §3.2).
func (c *compiler) include(cmd *Command) (node, error) {
	tags, pos, err := c.splitArgs("include", cmd.Line, cmd.Args, includeTags)
	if err != nil {
		return nil, err
	}
	if err := positional("include", cmd.Line, pos, argString); err != nil {
		return nil, err
	}
	name := pos[0].Strings[0]
	// RFC 6609 §3.2: the name is a script name, never a path.
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return nil, errAt(cmd.Line, "include: bad script name %q", name)
	}
	return includeNode{name: name, global: tags.has("global"), once: tags.has("once"), optional: tags.has("optional")}, nil
}

// global <value: string-list> (RFC 6609 §3.4): needs variables.
func (c *compiler) global(cmd *Command) (node, error) {
	if !c.required["variables"] {
		return nil, errAt(cmd.Line, "global needs require \"variables\"")
	}
	if err := positional("global", cmd.Line, cmd.Args, argStringList); err != nil {
		return nil, err
	}
	for _, n := range cmd.Args[0].Strings {
		if !isIdentifier(n) {
			return nil, errAt(cmd.Line, "global: %q is not a variable name", n)
		}
	}
	return globalNode{names: lowerAll(cmd.Args[0].Strings)}, nil
}

// runInclude runs an included script in the same execution: its actions
// add to the others and stop ends everything, return only it. Its
// variables are its own but for those both scripts declare global.
func (r *run) runInclude(n includeNode) error {
	key := fmt.Sprintf("%v:%s", n.global, n.name)
	if n.once && r.included[key] {
		return nil
	}
	if r.depth >= maxIncludeDepth {
		return &RuntimeError{Msg: "include nested too deeply (a loop?)"}
	}
	if r.includes >= maxIncludes {
		return &RuntimeError{Msg: fmt.Sprintf("more than %d includes", maxIncludes)}
	}
	if r.in.Include == nil {
		return &RuntimeError{Msg: "include: no scripts to include from"}
	}
	prog, err := r.in.Include(n.name, n.global)
	if errors.Is(err, ErrNoScript) && n.optional {
		return nil
	}
	if err != nil {
		return &RuntimeError{Msg: fmt.Sprintf("include %q: %v", n.name, err)}
	}
	r.includes++
	if r.included == nil {
		r.included = map[string]bool{}
	}
	r.included[key] = true
	saved := r.scope
	r.scope = scope{vars: prog.vars}
	r.depth++
	err = r.block(prog.cmds)
	r.depth--
	r.scope = saved
	if errors.Is(err, errReturn) {
		return nil
	}
	return err
}
