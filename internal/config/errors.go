package config

import (
	"errors"
	"sort"
	"strings"
)

// ErrNoConfig is returned by Find when no configuration file exists in any
// of the default places. It means "run in quickstart mode", not "invalid".
var ErrNoConfig = errors.New("no configuration file")

// FieldError is one problem with the configuration. Its Error is
// "FILE:LINE: msg" for a line of the file, "env POSTERN_X: msg" for an
// environment variable, and "FILE: msg" for a problem of the whole file.
type FieldError struct {
	// File is the configuration file's name as given to Load or Parse.
	File string
	// Line is the 1-based line of the problem; 0 when it has no line.
	Line int
	// Env is the environment variable that caused the problem, if any.
	Env string
	// Field is the canonical name of the option concerned, if known.
	Field string
	// Section is the option's section ("" for global options).
	Section string
	// Msg describes the problem; it names the field.
	Msg string
}

// Error formats the problem as FILE:LINE: msg (see FieldError).
func (e *FieldError) Error() string {
	switch {
	case e.Env != "":
		return "env " + e.Env + ": " + e.Msg
	case e.Line > 0:
		return e.File + ":" + itoa(e.Line) + ": " + e.Msg
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// ErrorList is every problem found in a configuration. Load and Parse
// return it as a *ErrorList.
type ErrorList []error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error { return l }

// sortErrors orders problems as the file reads: by line, then those from
// the environment, then those of the whole file. The sort is stable, so
// problems of one line keep the order they were found in.
func sortErrors(errs []error) {
	rank := func(e error) (int, int) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			return 3, 0
		}
		switch {
		case fe.Env != "":
			return 1, 0
		case fe.Line > 0:
			return 0, fe.Line
		}
		return 2, 0
	}
	sort.SliceStable(errs, func(i, j int) bool {
		ri, li := rank(errs[i])
		rj, lj := rank(errs[j])
		if ri != rj {
			return ri < rj
		}
		return li < lj
	})
}

// Problem returns a problem with an option found outside the file's syntax
// (by `postern check` looking at the system: an account that does not
// exist, a port in use), located where the option was set: its line, its
// environment variable, or the whole file when it holds its default.
func (c *Config) Problem(section, field, msg string) *FieldError {
	fe := &FieldError{File: c.file, Field: field, Section: section, Msg: msg}
	if o := lookup(section, field); o != nil {
		fe.Field, fe.Section = o.name, o.section
		fe.Msg = o.label() + ": " + msg
		if from, ok := c.origins[o.key()]; ok {
			fe.Line, fe.Env = from.line, from.env
		}
	}
	return fe
}
