package pop3server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/postern/postern/internal/observe"
)

// handler runs one command. args is the text after the keyword and one
// space. It writes its own success reply and returns an error for the
// dispatch epilogue to map (errors.go).
type handler func(c *conn, ctx context.Context, args string) error

// cmdEntry is a row of the dispatch table.
type cmdEntry struct {
	fn     handler
	states state // where the command is allowed
	secret bool  // its arguments carry credentials: traced redacted
}

// commands is the dispatch table (RFC 1939 §§4-6, RFC 2449, RFC 2595,
// RFC 5034, and the original's XTND). Keywords are upper case.
var commands = map[string]cmdEntry{
	"USER": {fn: (*conn).cmdUSER, states: stateAuthorization},
	"PASS": {fn: (*conn).cmdPASS, states: stateAuthorization, secret: true},
	"APOP": {fn: (*conn).cmdAPOP, states: stateAuthorization, secret: true},
	"AUTH": {fn: (*conn).cmdAUTH, states: stateAuthorization, secret: true},
	"STLS": {fn: (*conn).cmdSTLS, states: stateAuthorization},
	"CAPA": {fn: (*conn).cmdCAPA, states: stateAny},
	"QUIT": {fn: (*conn).cmdQUIT, states: stateAny},
	"STAT": {fn: (*conn).cmdSTAT, states: stateTransaction},
	"LIST": {fn: (*conn).cmdLIST, states: stateTransaction},
	"RETR": {fn: (*conn).cmdRETR, states: stateTransaction},
	"DELE": {fn: (*conn).cmdDELE, states: stateTransaction},
	"NOOP": {fn: (*conn).cmdNOOP, states: stateTransaction},
	"RSET": {fn: (*conn).cmdRSET, states: stateTransaction},
	"TOP":  {fn: (*conn).cmdTOP, states: stateTransaction},
	"UIDL": {fn: (*conn).cmdUIDL, states: stateTransaction},
	"XTND": {fn: (*conn).cmdXTND, states: stateTransaction},
}

// command parses, traces and dispatches one command line.
func (c *conn) command(line []byte) {
	cmd, binary := parseCommand(line)
	entry, known := commands[cmd.verb]
	if known && entry.secret {
		c.trace.ClientAuth(line, redact(cmd))
	} else {
		c.trace.Client(line)
	}
	c.dispatch(cmd, entry, known && !binary)
}

// redact hides the credentials of a PASS, APOP or AUTH line.
func redact(cmd command) string {
	switch cmd.verb {
	case "PASS":
		return "PASS " + observe.RedactedText
	case "APOP":
		return string(observe.RedactAfter([]byte("APOP "+cmd.args), 2))
	}
	return string(observe.RedactAfter([]byte(cmd.verb+" "+cmd.args), 2))
}

// dispatch gates the command on the state, runs it, and is the single
// epilogue of every command: error mapping, logging, metrics.
func (c *conn) dispatch(cmd command, entry cmdEntry, known bool) {
	start := time.Now()
	label := cmd.verb
	var err error
	bad := true // counts towards maxBadCommands
	switch {
	case !known:
		label = "unknown"
		metricBadInput.WithLabelValues(badKind(cmd)).Inc()
		err = errSyntax("unknown command")
		if c.nCmds == 0 {
			// STYLE.md B2: garbage as the first command is most likely
			// another protocol talking to us (cross-protocol attacks).
			err = userError{msg: "unknown command; closing connection", close: true}
		}
	case entry.states&c.state == 0:
		metricBadInput.WithLabelValues("state").Inc()
		err = errSyntax("command not valid in the %s state", c.state)
	default:
		bad = false
		c.syncChanges()
		err = entry.fn(c, c.ctx, cmd.args)
	}
	c.nCmds++
	result := c.epilogue(cmd, err, bad)
	metricCommands.WithLabelValues(label, result).Observe(time.Since(start).Seconds())
	c.log.LogAttrs(c.ctx, slog.LevelDebug, "pop3 command done", slog.String("cmd", label),
		slog.String("result", result), slog.Duration("duration", time.Since(start)))
}

// badKind labels an unknown command for the bad-input metric.
func badKind(cmd command) string {
	if cmd.verb == "?" {
		return "binary"
	}
	return "unknown"
}

// epilogue writes the reply for err and returns the metric result.
// bad marks an unknown or out-of-state command, which counts towards
// maxBadCommands; a success resets the count.
func (c *conn) epilogue(cmd command, err error, bad bool) string {
	if err == nil {
		c.badCmds = 0
		return resultOK
	}
	if errors.Is(err, errQuit) {
		c.how = observe.DisconnectNormal
		c.closing = true
		return resultOK
	}
	if errors.Is(err, errIO) {
		c.closing = true
		return resultIOError
	}
	line, internal, closeAfter := response(err)
	result := resultNo
	var se syntaxError
	if errors.As(err, &se) {
		result = resultBad
	}
	if bad {
		c.badCmds++
		if c.badCmds >= maxBadCommands {
			line += "; too many bad commands, closing connection"
			closeAfter = true
		}
	}
	if internal {
		result = resultError
		c.log.LogAttrs(c.ctx, slog.LevelError, "pop3 command failed", slog.String("cmd", cmd.verb), slog.Any("err", err))
	}
	c.writeLine(line)
	if closeAfter {
		c.closing = true
	}
	return result
}

// errIO means the connection failed while a handler wrote to it; the
// epilogue only closes.
var errIO = errors.New("connection failed")

// Redact is an observe.Redactor for POP3 client lines: it hides the
// password of PASS, the digest of APOP and the initial response of AUTH.
// The server already traces those lines redacted; Redact is for a Tracer
// shared with code that does not.
func Redact(line []byte) []byte {
	cmd, binary := parseCommand(line)
	if binary {
		return line
	}
	if e, ok := commands[cmd.verb]; ok && e.secret {
		return []byte(redact(cmd))
	}
	return line
}
