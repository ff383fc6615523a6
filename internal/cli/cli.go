// Package cli implements the postern command line: one table of
// subcommands, GNU-style flags that may come before or after the positional
// arguments, and the mapping from errors to exit codes. Commands parse their
// arguments here and call into internal/app for the work.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"
)

// Exit codes. Those of deliver follow sysexits.h, as mail transfer agents
// expect from a local delivery agent.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitDataErr = 65 // EX_DATAERR: malformed message
	exitNoUser  = 67 // EX_NOUSER: unknown recipient
	// EX_CANTCREAT: the recipient's mailbox is full (over quota). Postfix
	// bounces it as "5.2.0"-class mailbox trouble; Exim and others as a
	// permanent failure with the stderr line.
	exitCantCreat = 73
	exitTempFail  = 75 // EX_TEMPFAIL: try again later
	exitNoPerm    = 77 // EX_NOPERM: refused by the recipient's Sieve script (reject)
)

// Env is what a command may touch of the outside world, so tests can run
// commands in-process without globals.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Environ        func() []string
	// IsTerminal reports whether the file descriptor behind r or w is a
	// terminal (for password prompts and progress bars).
	IsTerminal func(f any) bool
}

// StdEnv returns the process's own environment.
func StdEnv() *Env {
	return &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Environ: os.Environ,
		IsTerminal: func(f any) bool {
			file, ok := f.(*os.File)
			return ok && term.IsTerminal(int(file.Fd()))
		},
	}
}

// command is one entry of the command table.
type command struct {
	name    string
	args    string // positional arguments, for the usage line
	summary string
	help    string // longer text for -h
	flags   func(fs *flag.FlagSet) any
	// minArgs and maxArgs bound the positional arguments (-1 = no limit).
	minArgs, maxArgs int
	run              func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error
	// sub holds the subcommands of a family such as "user".
	sub []*command
	// hidden commands are run by postern itself and not listed.
	hidden bool
}

// exitError carries an exit code up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError reports a mistake in how a command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Main runs the command line args and returns the process exit code.
func Main(ctx context.Context, env *Env, args []string) int {
	cmds := commands()
	if len(args) == 0 {
		printOverview(env.Stderr, cmds)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || (args[0] == "help" && len(args) == 1) {
		printOverview(env.Stdout, cmds)
		return exitOK
	}
	if args[0] == "help" {
		// "postern help user add" is "postern user add -h".
		args = append(slices.Clone(args[1:]), "-h")
	}
	err := runCommand(ctx, env, cmds, []string{"postern"}, args)
	return reportError(env.Stderr, err)
}

func reportError(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "postern: %s\n", ue.msg)
		return exitUsage
	}
	fmt.Fprintf(w, "postern: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func runCommand(ctx context.Context, env *Env, cmds []*command, path, args []string) error {
	c := find(cmds, args[0])
	if c == nil {
		return usagef("unknown command %q (run \"%s -h\" for the list)", args[0], strings.Join(path, " "))
	}
	path = append(path, c.name)
	if len(c.sub) > 0 {
		if len(args) < 2 || args[1] == "-h" || args[1] == "--help" {
			printFamily(env.Stdout, path, c.sub)
			if len(args) < 2 {
				return usagef("%s needs a subcommand", strings.Join(path, " "))
			}
			return nil
		}
		return runCommand(ctx, env, c.sub, path, args[1:])
	}
	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.flags != nil {
		c.flags(fs)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printHelp(env.Stdout, path, c, fs)
		return flag.ErrHelp
	}
	if err != nil {
		return usagef("%s: %v", strings.Join(path, " "), err)
	}
	if len(pos) < c.minArgs || (c.maxArgs >= 0 && len(pos) > c.maxArgs) {
		return usagef("usage: %s %s", strings.Join(path, " "), c.args)
	}
	return c.run(ctx, env, fs, pos)
}

// parseInterspersed parses flags that may appear anywhere among the
// positional arguments, GNU style; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		// flag stopped at a positional argument: keep it and go on.
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func find(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printOverview(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "postern — a mail server: POP3, IMAP4, SMTP submission and LMTP")
	fmt.Fprintln(w, "\nUsage: postern COMMAND [arguments] [flags]\n\nCommands:")
	printList(w, cmds)
	fmt.Fprintln(w, "\nRun \"postern help COMMAND\" (or \"postern COMMAND -h\") for a command's help and flags.")
}

func printFamily(w io.Writer, path []string, cmds []*command) {
	fmt.Fprintf(w, "Usage: %s SUBCOMMAND [arguments] [flags]\n\nSubcommands:\n", strings.Join(path, " "))
	printList(w, cmds)
}

func printList(w io.Writer, cmds []*command) {
	for _, c := range cmds {
		if c.hidden {
			continue
		}
		use := strings.TrimSpace(c.name + " " + c.args)
		if len(use) > 30 {
			fmt.Fprintf(w, "  %s\n  %-30s %s\n", use, "", c.summary)
			continue
		}
		fmt.Fprintf(w, "  %-30s %s\n", use, c.summary)
	}
}

func printHelp(w io.Writer, path []string, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s %s\n\n%s\n", strings.Join(path, " "), c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.VisitAll(func(f *flag.Flag) {
			// UnquoteUsage takes the argument's name out of the
			// `backquotes` of the usage text: "--config FILE".
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  %-24s %s\n", strings.TrimSpace("--"+f.Name+" "+name), usage)
		})
	}
}
