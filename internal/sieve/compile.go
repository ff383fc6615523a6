package sieve

import (
	"sort"
	"strings"
)

// Extensions is the SIEVE capability: every extension require accepts,
// in the order ManageSieve lists them (RFC 5804 §1.7).
var Extensions = []string{
	"body", "comparator-i;ascii-numeric", "copy", "date", "envelope", "ereject", "fileinto",
	"imap4flags", "include", "reject", "relational", "subaddress", "vacation", "variables",
}

// Program is a compiled script, ready to run. It is immutable.
type Program struct {
	cmds []node
	vars bool // the script requires variables: strings are expanded
}

// node is a compiled command; test a compiled test.
type (
	node interface{ isNode() }
	test interface{ isTest() }
)

type (
	ifNode struct {
		conds  []test // if and each elsif
		blocks [][]node
		els    []node // nil when there is no else
	}
	stopNode     struct{}
	keepNode     struct{ flags *[]string } // nil: the internal flag variable (RFC 5232 §3)
	discardNode  struct{}
	redirectNode struct {
		addr string
		copy bool
	}
	fileintoNode struct {
		mailbox string
		copy    bool
		flags   *[]string
	}
	rejectNode struct {
		reason   string
		extended bool // ereject
	}
	flagNode struct {
		op       string // setflag, addflag, removeflag
		variable string // with variables: the variable holding the flags; "" the internal one
		flags    []string
	}
	vacationNode vacation
)

func (ifNode) isNode()       {}
func (stopNode) isNode()     {}
func (keepNode) isNode()     {}
func (discardNode) isNode()  {}
func (redirectNode) isNode() {}
func (fileintoNode) isNode() {}
func (rejectNode) isNode()   {}
func (flagNode) isNode()     {}
func (vacationNode) isNode() {}

// compiler holds what Compile learned so far: the capabilities required.
type compiler struct {
	required map[string]bool
}

// Compile checks a parsed script and turns it into a Program. The error,
// if any, is a *SyntaxError naming the line.
func Compile(cmds []*Command) (*Program, error) {
	c := &compiler{required: map[string]bool{}}
	nodes, err := c.block(cmds, true)
	if err != nil {
		return nil, err
	}
	return &Program{cmds: nodes, vars: c.required["variables"]}, nil
}

// ParseAndCompile is Parse followed by Compile.
func ParseAndCompile(src string) (*Program, error) {
	cmds, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return Compile(cmds)
}

// block compiles a command sequence. require is allowed only at the
// start of the script (RFC 5228 §3.2).
func (c *compiler) block(cmds []*Command, top bool) ([]node, error) {
	var out []node
	requireOK := top
	for i := 0; i < len(cmds); i++ {
		cmd := cmds[i]
		if cmd.Name == "require" {
			if !requireOK {
				return nil, errAt(cmd.Line, "require must come before any other command")
			}
			if err := c.require(cmd); err != nil {
				return nil, err
			}
			continue
		}
		requireOK = false
		if cmd.Name == "if" {
			n, used, err := c.ifChain(cmds[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, n)
			i += used - 1
			continue
		}
		if cmd.Name == "elsif" || cmd.Name == "else" {
			return nil, errAt(cmd.Line, "%s without a preceding if", cmd.Name)
		}
		n, err := c.action(cmd)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (c *compiler) require(cmd *Command) error {
	if err := positional("require", cmd.Line, cmd.Args, argStringList); err != nil {
		return err
	}
	if cmd.Tests != nil || cmd.HasBlock {
		return errAt(cmd.Line, "require takes no test or block")
	}
	for _, ext := range cmd.Args[0].Strings {
		ext = strings.ToLower(ext)
		i := sort.SearchStrings(Extensions, ext)
		if i == len(Extensions) || Extensions[i] != ext {
			return errAt(cmd.Line, "require: unsupported extension %q", ext)
		}
		c.required[ext] = true
	}
	return nil
}

// ifChain compiles an if with the elsif and else commands that follow it
// (RFC 5228 §3.1) and reports how many commands it used.
func (c *compiler) ifChain(cmds []*Command) (node, int, error) {
	var n ifNode
	used := 0
	for used < len(cmds) {
		cmd := cmds[used]
		first := used == 0
		if !first && cmd.Name != "elsif" && cmd.Name != "else" {
			break
		}
		if !first && cmd.Name == "else" {
			if len(cmd.Args) > 0 || cmd.Tests != nil || !cmd.HasBlock {
				return nil, 0, errAt(cmd.Line, "else takes a block and nothing else")
			}
			els, err := c.block(cmd.Block, false)
			if err != nil {
				return nil, 0, err
			}
			n.els = nonNil(els)
			used++
			break
		}
		if len(cmd.Args) > 0 || len(cmd.Tests) != 1 || !cmd.HasBlock {
			return nil, 0, errAt(cmd.Line, "%s takes one test and a block", cmd.Name)
		}
		cond, err := c.test(cmd.Tests[0])
		if err != nil {
			return nil, 0, err
		}
		body, err := c.block(cmd.Block, false)
		if err != nil {
			return nil, 0, err
		}
		n.conds = append(n.conds, cond)
		n.blocks = append(n.blocks, body)
		used++
	}
	return n, used, nil
}

func nonNil(n []node) []node {
	if n == nil {
		return []node{}
	}
	return n
}

// action compiles a command other than control structures.
func (c *compiler) action(cmd *Command) (node, error) {
	if cmd.Tests != nil || cmd.HasBlock {
		return nil, errAt(cmd.Line, "%s takes no test or block", cmd.Name)
	}
	need := map[string]string{
		"fileinto": "fileinto", "reject": "reject", "ereject": "ereject", "vacation": "vacation",
		"setflag": "imap4flags", "addflag": "imap4flags", "removeflag": "imap4flags",
	}
	if ext, ok := need[cmd.Name]; ok && !c.required[ext] {
		return nil, errAt(cmd.Line, "%s needs require %q", cmd.Name, ext)
	}
	switch cmd.Name {
	case "stop":
		return stopNode{}, positional("stop", cmd.Line, cmd.Args)
	case "discard":
		return discardNode{}, positional("discard", cmd.Line, cmd.Args)
	case "keep":
		return c.keep(cmd)
	case "fileinto":
		return c.fileinto(cmd)
	case "redirect":
		return c.redirect(cmd)
	case "reject", "ereject":
		if err := positional(cmd.Name, cmd.Line, cmd.Args, argString); err != nil {
			return nil, err
		}
		return rejectNode{reason: cmd.Args[0].Strings[0], extended: cmd.Name == "ereject"}, nil
	case "setflag", "addflag", "removeflag":
		// RFC 5232 §3: [<variablename: string>] <list-of-flags>; the
		// variable form needs variables.
		if len(cmd.Args) == 2 && c.required["variables"] {
			if err := positional(cmd.Name, cmd.Line, cmd.Args, argString, argStringList); err != nil {
				return nil, err
			}
			if !isIdentifier(cmd.Args[0].Strings[0]) {
				return nil, errAt(cmd.Line, "%s: %q is not a variable name", cmd.Name, cmd.Args[0].Strings[0])
			}
			return flagNode{op: cmd.Name, variable: strings.ToLower(cmd.Args[0].Strings[0]), flags: cmd.Args[1].Strings}, nil
		}
		if err := positional(cmd.Name, cmd.Line, cmd.Args, argStringList); err != nil {
			return nil, err
		}
		return flagNode{op: cmd.Name, flags: cmd.Args[0].Strings}, nil
	case "set":
		return c.set(cmd)
	case "include", "return", "global":
		if !c.required["include"] {
			return nil, errAt(cmd.Line, "%s needs require \"include\"", cmd.Name)
		}
		switch cmd.Name {
		case "include":
			return c.include(cmd)
		case "global":
			return c.global(cmd)
		}
		return returnNode{}, positional("return", cmd.Line, cmd.Args)
	case "vacation":
		return c.vacation(cmd)
	}
	return nil, errAt(cmd.Line, "unknown command %s", cmd.Name)
}

var (
	copyTag  = map[string]tagSpec{"copy": {ext: "copy"}}                              // RFC 3894 §3
	flagsTag = map[string]tagSpec{"flags": {ext: "imap4flags", value: argStringList}} // RFC 5232 §5
)

func (c *compiler) keep(cmd *Command) (node, error) {
	tags, pos, err := c.splitArgs("keep", cmd.Line, cmd.Args, flagsTag)
	if err != nil {
		return nil, err
	}
	if err := positional("keep", cmd.Line, pos); err != nil {
		return nil, err
	}
	return keepNode{flags: flagsOf(tags)}, nil
}

func flagsOf(tags taggedArgs) *[]string {
	if a, ok := tags.set["flags"]; ok {
		f := a.Strings
		return &f
	}
	return nil
}

func (c *compiler) fileinto(cmd *Command) (node, error) {
	tags, pos, err := c.splitArgs("fileinto", cmd.Line, cmd.Args, copyTag, flagsTag)
	if err != nil {
		return nil, err
	}
	if err := positional("fileinto", cmd.Line, pos, argString); err != nil {
		return nil, err
	}
	return fileintoNode{mailbox: pos[0].Strings[0], copy: tags.has("copy"), flags: flagsOf(tags)}, nil
}

func (c *compiler) redirect(cmd *Command) (node, error) {
	tags, pos, err := c.splitArgs("redirect", cmd.Line, cmd.Args, copyTag)
	if err != nil {
		return nil, err
	}
	if err := positional("redirect", cmd.Line, pos, argString); err != nil {
		return nil, err
	}
	addr := pos[0].Strings[0]
	// RFC 5228 §4.2: the argument must be a valid address; a script with
	// a syntactically invalid one is refused at compile time.
	if _, _, ok := splitAddress(addr); !ok && !(c.required["variables"] && strings.Contains(addr, "${")) {
		return nil, errAt(pos[0].Line, "redirect: %q is not a valid address", addr)
	}
	return redirectNode{addr: addr, copy: tags.has("copy")}, nil
}
