package sieve

import "fmt"

// Arg is one positional or tagged argument (RFC 5228 §2.6).
type Arg struct {
	Line int
	// Exactly one of the following is set: Tag (a ":name", lower-cased),
	// Strings (a string or a string list, IsList telling which) or Number.
	Tag     string
	Strings []string
	IsList  bool
	Number  int64
	IsNum   bool
}

// Test is a test with its arguments and its nested tests (RFC 5228 §2.9).
type Test struct {
	Line  int
	Name  string // lower-cased
	Args  []Arg
	Tests []*Test // a test list "(…)" or the single test of "not"
}

// Command is a command with its arguments, optional test(s) and block
// (RFC 5228 §2.9, §8.2).
type Command struct {
	Line     int
	Name     string // lower-cased
	Args     []Arg
	Tests    []*Test
	Block    []*Command
	HasBlock bool
}

// Parse parses script text into its commands (RFC 5228 §8.2). It checks
// the grammar only; [Compile] checks the meaning.
func Parse(src string) ([]*Command, error) {
	if len(src) > MaxScriptSize {
		return nil, &SyntaxError{Line: 1, Msg: fmt.Sprintf("script is larger than %d octets", MaxScriptSize)}
	}
	p := &parser{lx: lexer{src: src, line: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	cmds, err := p.commands(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errf("unexpected %s", p.tok.describe())
	}
	return cmds, nil
}

type parser struct {
	lx  lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	p.tok = t
	return err
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Line: p.tok.line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) isPunct(c string) bool { return p.tok.kind == tokPunct && p.tok.text == c }

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of script"
	case tokIdent:
		return "identifier " + t.text
	case tokTag:
		return "tag :" + t.text
	case tokNumber:
		return "number"
	case tokString:
		return "string"
	}
	return fmt.Sprintf("%q", t.text)
}

// commands reads commands up to "}" or the end of the script.
func (p *parser) commands(depth int) ([]*Command, error) {
	var cmds []*Command
	for p.tok.kind == tokIdent {
		c, err := p.command(depth)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

// command = identifier arguments (";" / block)
func (p *parser) command(depth int) (*Command, error) {
	c := &Command{Line: p.tok.line, Name: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	args, tests, err := p.arguments(depth)
	if err != nil {
		return nil, err
	}
	c.Args, c.Tests = args, tests
	switch {
	case p.isPunct(";"):
		return c, p.advance()
	case p.isPunct("{"):
		if depth+1 > MaxNesting {
			return nil, p.errf("blocks nested deeper than %d", MaxNesting)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		block, err := p.commands(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.isPunct("}") {
			return nil, p.errf("expected '}' or a command, found %s", p.tok.describe())
		}
		c.Block, c.HasBlock = block, true
		return c, p.advance()
	}
	return nil, p.errf("expected ';' or '{' after %s, found %s", c.Name, p.tok.describe())
}

// arguments = *argument [ test / test-list ]
func (p *parser) arguments(depth int) ([]Arg, []*Test, error) {
	var args []Arg
	for {
		a, ok, err := p.argument()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		args = append(args, a)
	}
	switch {
	case p.tok.kind == tokIdent:
		t, err := p.test(depth + 1)
		if err != nil {
			return nil, nil, err
		}
		return args, []*Test{t}, nil
	case p.isPunct("("):
		tests, err := p.testList(depth + 1)
		return args, tests, err
	}
	return args, nil, nil
}

func (p *parser) argument() (Arg, bool, error) {
	a := Arg{Line: p.tok.line}
	switch {
	case p.tok.kind == tokTag:
		a.Tag = p.tok.text
	case p.tok.kind == tokNumber:
		a.Number, a.IsNum = p.tok.num, true
	case p.tok.kind == tokString:
		a.Strings = []string{p.tok.text}
	case p.isPunct("["):
		list, err := p.stringList()
		a.Strings, a.IsList = list, true
		return a, err == nil, err
	default:
		return a, false, nil
	}
	return a, true, p.advance()
}

// stringList = "[" string *("," string) "]"
func (p *parser) stringList() ([]string, error) {
	var list []string
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokString {
			return nil, p.errf("expected a string in the list, found %s", p.tok.describe())
		}
		list = append(list, p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isPunct("]") {
			return list, p.advance()
		}
		if !p.isPunct(",") {
			return nil, p.errf("expected ',' or ']' in a string list, found %s", p.tok.describe())
		}
	}
}

// test = identifier arguments
func (p *parser) test(depth int) (*Test, error) {
	if depth > MaxNesting {
		return nil, p.errf("tests nested deeper than %d", MaxNesting)
	}
	t := &Test{Line: p.tok.line, Name: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	args, tests, err := p.arguments(depth)
	if err != nil {
		return nil, err
	}
	t.Args, t.Tests = args, tests
	return t, nil
}

// test-list = "(" test *("," test) ")"
func (p *parser) testList(depth int) ([]*Test, error) {
	if depth > MaxNesting {
		return nil, p.errf("tests nested deeper than %d", MaxNesting)
	}
	var tests []*Test
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokIdent {
			return nil, p.errf("expected a test, found %s", p.tok.describe())
		}
		t, err := p.test(depth)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
		if p.isPunct(")") {
			return tests, p.advance()
		}
		if !p.isPunct(",") {
			return nil, p.errf("expected ',' or ')' in a test list, found %s", p.tok.describe())
		}
	}
}
