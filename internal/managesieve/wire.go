package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of the command grammar.
const (
	maxLine   = 8 << 10 // the non-literal octets of one command line
	maxQuoted = 1024    // RFC 5804 §4: quoted strings are at most 1024 octets
	maxArgs   = 8
)

// errSyntax is a command the grammar refuses.
var (
	errSyntax = errors.New("syntax error")
	// errHuge is a literal so large that reading it to drop it is not
	// worth the connection: it is closed instead.
	errHuge = errors.New("literal far too big")
)

// hugeLiteral is the size from which a literal ends the connection.
const hugeLiteral = 16 << 20

// command is one parsed command line (RFC 5804 §4).
type command struct {
	name string // upper-cased
	args []arg
}

// arg is an argument: a string (quoted or literal) or an atom (a number).
type arg struct {
	s      string
	atom   bool
	tooBig bool // a literal over the limit, dropped; s is empty
}

// readCommand reads one command. maxLiteral bounds each literal: a larger
// one is consumed and marked tooBig. On errSyntax the rest of the line
// has been consumed, so the next command starts clean.
func readCommand(br *bufio.Reader, maxLiteral int64) (command, error) {
	d := &decoder{br: br, maxLiteral: maxLiteral}
	cmd, err := d.command()
	if errors.Is(err, errSyntax) && !d.eol {
		d.skipLine()
	}
	return cmd, err
}

type decoder struct {
	br         *bufio.Reader
	maxLiteral int64
	n          int  // non-literal octets read
	eol        bool // the line's LF has been read: nothing to skip after an error
}

func (d *decoder) byte() (byte, error) {
	if d.n >= maxLine {
		return 0, fmt.Errorf("%w: line too long", errSyntax)
	}
	c, err := d.br.ReadByte()
	if err == nil {
		d.n++
		d.eol = c == '\n'
	}
	return c, err
}

func (d *decoder) skipLine() {
	for i := 0; i < 1<<20; i++ {
		c, err := d.br.ReadByte()
		if err != nil || c == '\n' {
			return
		}
	}
}

func (d *decoder) command() (command, error) {
	var cmd command
	name, end, err := d.atom()
	if err != nil {
		return cmd, err
	}
	if name == "" {
		return cmd, fmt.Errorf("%w: empty command", errSyntax)
	}
	cmd.name = strings.ToUpper(name)
	for !end {
		if len(cmd.args) >= maxArgs {
			return cmd, fmt.Errorf("%w: too many arguments", errSyntax)
		}
		a, e, err := d.arg()
		if err != nil {
			return cmd, err
		}
		cmd.args = append(cmd.args, a)
		end = e
	}
	return cmd, nil
}

// atom reads up to SP or CRLF; end reports CRLF.
func (d *decoder) atom() (string, bool, error) {
	var b strings.Builder
	for {
		c, err := d.byte()
		if err != nil {
			return "", false, err
		}
		switch {
		case c == ' ':
			return b.String(), false, nil
		case c == '\r':
			return b.String(), true, d.lf()
		case c == '\n':
			return b.String(), true, nil // tolerate a bare LF
		case c < 0x21 || c == 0x7f || c == '"' || c == '{':
			return "", false, fmt.Errorf("%w: unexpected %q", errSyntax, c)
		}
		b.WriteByte(c)
	}
}

func (d *decoder) lf() error {
	c, err := d.byte()
	if err != nil {
		return err
	}
	if c != '\n' {
		return fmt.Errorf("%w: CR without LF", errSyntax)
	}
	return nil
}

// arg reads one argument and the separator after it.
func (d *decoder) arg() (arg, bool, error) {
	c, err := d.br.Peek(1)
	if err != nil {
		return arg{}, false, err
	}
	var a arg
	switch c[0] {
	case '"':
		d.byte()
		a.s, err = d.quoted()
	case '{':
		d.byte()
		a, err = d.literal()
	default:
		var end bool
		a.atom = true
		a.s, end, err = d.atom()
		if err == nil && a.s == "" {
			err = fmt.Errorf("%w: empty argument", errSyntax)
		}
		return a, end, err
	}
	if err != nil {
		return a, false, err
	}
	end, err := d.separator()
	return a, end, err
}

// separator reads the SP or CRLF after a string.
func (d *decoder) separator() (bool, error) {
	c, err := d.byte()
	switch {
	case err != nil:
		return false, err
	case c == ' ':
		return false, nil
	case c == '\r':
		return true, d.lf()
	case c == '\n':
		return true, nil
	}
	return false, fmt.Errorf("%w: expected SP or CRLF after a string", errSyntax)
}

// quoted reads a quoted string after its opening quote: backslash quotes
// '"' and '\' only; no CR, LF or NUL (RFC 5804 §4).
func (d *decoder) quoted() (string, error) {
	var b strings.Builder
	for {
		c, err := d.byte()
		if err != nil {
			return "", err
		}
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if c, err = d.byte(); err != nil {
				return "", err
			}
			if c != '"' && c != '\\' {
				return "", fmt.Errorf("%w: bad escape in a quoted string", errSyntax)
			}
		case '\r', '\n', 0:
			return "", fmt.Errorf("%w: CR, LF or NUL in a quoted string", errSyntax)
		}
		if b.Len() >= maxQuoted {
			return "", fmt.Errorf("%w: quoted string longer than %d octets", errSyntax, maxQuoted)
		}
		b.WriteByte(c)
	}
}

// literal reads "{n}" or "{n+}" CRLF and n octets, after the brace. The
// server sends no continuation for "{n}": ManageSieve has none
// (RFC 5804 §4), so both forms are read alike.
func (d *decoder) literal() (arg, error) {
	var num strings.Builder
	for {
		c, err := d.byte()
		if err != nil {
			return arg{}, err
		}
		if c == '}' {
			break
		}
		if (c < '0' || c > '9') && !(c == '+' && num.Len() > 0) || num.Len() > 12 {
			return arg{}, fmt.Errorf("%w: bad literal length", errSyntax)
		}
		num.WriteByte(c)
	}
	digits := strings.TrimSuffix(num.String(), "+")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strings.Contains(digits, "+") {
		return arg{}, fmt.Errorf("%w: bad literal length", errSyntax)
	}
	c, err := d.byte()
	if err == nil && c == '\r' {
		c, err = d.byte()
	}
	if err != nil {
		return arg{}, err
	}
	if c != '\n' {
		return arg{}, fmt.Errorf("%w: literal length not followed by CRLF", errSyntax)
	}
	if n > max(hugeLiteral, 4*d.maxLiteral) {
		return arg{}, fmt.Errorf("%w: %d octets", errHuge, n)
	}
	if n > d.maxLiteral {
		if _, err := io.CopyN(io.Discard, d.br, n); err != nil {
			return arg{}, err
		}
		return arg{tooBig: true}, nil
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(d.br, buf); err != nil {
		return arg{}, err
	}
	return arg{s: string(buf)}, nil
}

// quote renders s as a ManageSieve string: quoted when short and free of
// CR, LF and NUL, else a literal (RFC 5804 §4).
func quote(s string) string {
	if len(s) <= maxQuoted && !strings.ContainsAny(s, "\r\n\x00") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
}
