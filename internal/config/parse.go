package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// maxFileSize bounds what Parse reads; a configuration is a few kilobytes.
const maxFileSize = 1 << 20

// origin records where an option was set explicitly.
type origin struct {
	line int    // line of the file, 0 if not from the file
	env  string // environment variable, "" if not from the environment
}

// Load reads the configuration file at path, applies the environment
// overrides in environ (as from os.Environ), resolves inherited values and
// derived paths, and validates the result. A file that cannot be read is
// reported as that I/O error (errors.Is(err, fs.ErrNotExist) works); a file
// with problems is reported as a *ErrorList of every problem.
func Load(path string, environ []string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	return Parse(path, f, environ)
}

// Parse is Load for a configuration read from r; name is the file name
// used in messages.
func Parse(name string, r io.Reader, environ []string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", name, err)
	}
	c := Defaults()
	c.file = name
	var errs []error
	if len(data) > maxFileSize {
		errs = append(errs, &FieldError{File: name,
			Msg: fmt.Sprintf("file is larger than %d bytes; this is not a configuration file", maxFileSize)})
	} else {
		p := &parser{c: c, file: name, seen: map[string]int{}}
		p.parse(data)
		errs = p.errs
	}
	errs = append(errs, c.applyEnv(environ)...)
	return c.finish(errs)
}

// finish resolves and validates c, adding to the problems found so far.
func (c *Config) finish(errs []error) (*Config, error) {
	c.Resolve()
	errs = append(errs, c.Validate()...)
	if len(errs) > 0 {
		sortErrors(errs)
		list := ErrorList(errs)
		return nil, &list
	}
	return c, nil
}

// markSet records that o was set explicitly at from. An empty value for an
// option that inherits or derives its value means "the default", so it
// clears the mark instead (except where empty means off).
func (c *Config) markSet(o *option, from origin) {
	if (o.inherit != "" || o.derive != "") && !o.offOK && o.isString() {
		if reflect.ValueOf(o.ptr(c)).Elem().String() == "" {
			delete(c.origins, o.key())
			return
		}
	}
	c.origins[o.key()] = from
}

// parser reads the Field: Value syntax of hp-system §7.1.
type parser struct {
	c       *Config
	file    string
	section string // current section; badSection after an unknown header
	// last is the option of the most recent field line, which Tab-indented
	// lines continue; nil after a blank line or a section header.
	last     *option
	lastLine int
	// skipping is set after a field line that was rejected outright, so
	// that its continuation lines are not reported as well.
	skipping bool
	// seen maps the key of each option set in the file to its first line.
	seen map[string]int
	errs []error
}

// badSection marks the lines after an unknown [section]: their fields are
// skipped, so that one typo in a header does not bury the file in errors.
const badSection = "?"

func (p *parser) errorf(line int, o *option, format string, args ...any) {
	fe := &FieldError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
	if o != nil {
		fe.Field, fe.Section = o.name, o.section
	}
	p.errs = append(p.errs, fe)
}

func (p *parser) parse(data []byte) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for i, raw := range strings.Split(string(data), "\n") {
		p.line(i+1, strings.TrimSuffix(raw, "\r"))
	}
}

func (p *parser) line(n int, line string) {
	trimmed := strings.TrimLeft(line, " \t")
	switch {
	case trimmed == "":
		p.last, p.skipping = nil, false
	case trimmed[0] == '!' || trimmed[0] == '#':
		// A comment; it does not end a list being continued.
	case line[0] == '\t':
		p.continuation(n, trimmed)
	case trimmed[0] == '[':
		p.header(n, strings.TrimRight(trimmed, " \t"))
	default:
		p.field(n, trimmed, line[0] == ' ')
	}
}

func (p *parser) header(n int, h string) {
	p.last, p.skipping = nil, false
	if !strings.HasSuffix(h, "]") {
		p.errorf(n, nil, "section header %s is missing its closing ]", quote(h))
		p.section = badSection
		return
	}
	name := strings.ToUpper(strings.TrimSpace(h[1 : len(h)-1]))
	for _, s := range sections[1:] {
		if strings.EqualFold(name, s) {
			p.section = s
			return
		}
	}
	msg := "unknown section " + quote(h) + "; sections are [IMAP], [POP], [SMTP], [LMTP], [ManageSieve], [OAuth] and [LDAP]"
	if s := nearest(name, sections[1:]); s != "" {
		msg = "unknown section " + quote(h) + "; did you mean \"[" + s + "]\"?"
	}
	p.errorf(n, nil, "%s", msg)
	p.section = badSection
}

func (p *parser) field(n int, text string, indented bool) {
	p.last, p.skipping = nil, true
	name, value, ok := strings.Cut(text, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || !validFieldName(name) {
		if indented && p.lastLine == n-1 {
			p.errorf(n, nil, "line begins with spaces: continuation lines must begin with a Tab")
		} else {
			p.errorf(n, nil, "line is not \"Field: Value\"")
		}
		return
	}
	if p.section == badSection {
		return
	}
	o := lookup(p.section, name)
	if o == nil {
		p.errorf(n, nil, "%s", unknownFieldMsg(p.section, name))
		return
	}
	if first, dup := p.seen[o.key()]; dup && !o.isList() {
		p.errorf(n, o, "%s: set again (first set at line %d); only list fields may repeat", o.label(), first)
		return
	}
	add := p.seen[o.key()] > 0
	if _, ok := p.seen[o.key()]; !ok {
		p.seen[o.key()] = n
	}
	p.last, p.lastLine, p.skipping = o, n, false
	p.assign(n, o, value, add)
}

// continuation handles a Tab-indented line: more items of the list field
// above it.
func (p *parser) continuation(n int, text string) {
	if p.section == badSection || p.skipping {
		return
	}
	if p.last == nil {
		p.errorf(n, nil, "line begins with a Tab but continues no list field (a blank line or section header ends one)")
		return
	}
	if !p.last.isList() {
		p.errorf(n, p.last, "%s: takes a single value; only list fields continue on Tab-indented lines", p.last.label())
		p.skipping = true
		return
	}
	p.assign(n, p.last, text, true)
	p.lastLine = n
}

func (p *parser) assign(n int, o *option, value string, add bool) {
	if l := len([]rune(strings.TrimSpace(value))); l > maxValueLen {
		p.errorf(n, o, "%s: value is %d characters long; at most %d are allowed", o.label(), l, maxValueLen)
		return
	}
	if msg := o.set(p.c, value, add); msg != "" {
		p.errorf(n, o, "%s: %s", o.label(), msg)
		return
	}
	p.c.markSet(o, origin{line: n})
}

// validFieldName accepts letters, digits, '-', '_' and '$'.
func validFieldName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '$') {
			return false
		}
	}
	return true
}
