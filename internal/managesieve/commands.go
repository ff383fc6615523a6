package managesieve

import (
	"context"
	"time"
)

// entry is one command of the dispatch table: its handler, whether it
// needs authentication (or, for STARTTLS and AUTHENTICATE, its absence)
// and how many arguments it takes.
type entry struct {
	run      func(c *conn, ctx context.Context, args []arg) error
	authed   bool // only after AUTHENTICATE
	preauth  bool // only before AUTHENTICATE
	min, max int
}

// commands is the dispatch table (RFC 5804 §2).
var commands = map[string]entry{
	"CAPABILITY":   {run: (*conn).cmdCapability},
	"NOOP":         {run: (*conn).cmdNoop, max: 1},
	"LOGOUT":       {run: (*conn).cmdLogout},
	"STARTTLS":     {run: (*conn).cmdStartTLS, preauth: true},
	"AUTHENTICATE": {run: (*conn).cmdAuthenticate, preauth: true, min: 1, max: 2},
	"HAVESPACE":    {run: (*conn).cmdHavespace, authed: true, min: 2, max: 2},
	"PUTSCRIPT":    {run: (*conn).cmdPutscript, authed: true, min: 2, max: 2},
	"CHECKSCRIPT":  {run: (*conn).cmdCheckscript, authed: true, min: 1, max: 1},
	"LISTSCRIPTS":  {run: (*conn).cmdListscripts, authed: true},
	"SETACTIVE":    {run: (*conn).cmdSetactive, authed: true, min: 1, max: 1},
	"GETSCRIPT":    {run: (*conn).cmdGetscript, authed: true, min: 1, max: 1},
	"DELETESCRIPT": {run: (*conn).cmdDeletescript, authed: true, min: 1, max: 1},
	"RENAMESCRIPT": {run: (*conn).cmdRenamescript, authed: true, min: 2, max: 2},
}

// commandTimeout bounds one command's store work.
const commandTimeout = time.Minute

// dispatch gates a command by state and arity, runs it, and answers a
// returned error: the single epilogue of every command.
func (c *conn) dispatch(cmd command) {
	e, ok := commands[cmd.name]
	label := cmd.name
	if !ok {
		label = "unknown"
	}
	result := "ok"
	defer func() { metricCommands.WithLabelValues(label, result).Inc() }()
	switch {
	case !ok:
		result = "no"
		c.bad("Unknown command.")
		return
	case e.authed && !c.authed:
		result = "no"
		c.bad("Authenticate first.")
		return
	case e.preauth && c.authed:
		result = "no"
		c.bad("Already authenticated.")
		return
	case len(cmd.args) < e.min || len(cmd.args) > e.max:
		result = "no"
		c.bad("Wrong number of arguments.")
		return
	}
	for i, a := range cmd.args {
		// Every argument is a string but NOOP's tag and HAVESPACE's
		// size; a dropped over-long literal is only acceptable where a
		// script goes (PUTSCRIPT, CHECKSCRIPT answer QUOTA/MAXSIZE).
		if a.atom && !(cmd.name == "HAVESPACE" && i == 1) {
			result = "no"
			c.bad("Expected a string.")
			return
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, commandTimeout)
	defer cancel()
	if err := e.run(c, ctx, cmd.args); err != nil {
		result = "error"
		c.log.Warn("managesieve command failed", "cmd", cmd.name, "err", err)
		c.no("TRYLATER", "Internal error; try again later.")
	}
}

func (c *conn) cmdCapability(_ context.Context, _ []arg) error {
	c.writeCapabilities()
	c.ok("", "Capability completed.")
	return nil
}

// cmdNoop: RFC 5804 §2.13, the optional tag comes back in a TAG code.
func (c *conn) cmdNoop(_ context.Context, args []arg) error {
	if len(args) == 1 {
		c.ok("TAG "+quote(args[0].s), "Done")
		return nil
	}
	c.ok("", "Done")
	return nil
}

func (c *conn) cmdLogout(_ context.Context, _ []arg) error {
	c.ok("", "Logout completed.")
	c.closing = true
	return nil
}
