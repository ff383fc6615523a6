package imapserver

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
)

// handler is the signature of every command handler (STYLE.md B2). It
// parses its arguments to the CRLF, executes, and writes untagged data;
// the tagged response is the epilogue's.
type handler func(c *conn, ctx context.Context, tag string, dec *imapwire.Decoder) error

// command is one entry of the dispatch table.
type command struct {
	fn     handler
	states state // where the command is allowed; dispatch checks, handlers never do
	// noExpunge: EXPUNGE responses may not be sent while answering
	// (RFC 9051 §7.5.1: FETCH, STORE, SEARCH; their UID forms may).
	noExpunge bool
	// ownUpdates: the handler sends pending mailbox updates itself (IDLE).
	ownUpdates bool
	// seqNums: the command takes or answers message sequence numbers, so
	// it is BAD [UIDREQUIRED] after ENABLE UIDONLY (RFC 9586 §3).
	seqNums bool
	// progress: the command sends INPROGRESS notifications (RFC 9585,
	// progress.go), making this many passes over the messages.
	progress int
}

// commands is the dispatch table. Keys are upper-case verbs, two-word
// verbs joined by one space ("UID FETCH"). It is immutable.
var commands = map[string]*command{
	// Any state (RFC 9051 §6.1).
	"CAPABILITY": {fn: (*conn).cmdCapability, states: anyState},
	"NOOP":       {fn: (*conn).cmdNoop, states: anyState},
	"LOGOUT":     {fn: (*conn).cmdLogout, states: anyState},
	"ID":         {fn: (*conn).cmdID, states: anyState}, // RFC 2971

	// Not authenticated (§6.2).
	"STARTTLS":     {fn: (*conn).cmdStartTLS, states: notAuthed},
	"LOGIN":        {fn: (*conn).cmdLogin, states: notAuthed},
	"AUTHENTICATE": {fn: (*conn).cmdAuthenticate, states: notAuthed},

	// Authenticated (§6.3).
	"ENABLE":      {fn: (*conn).cmdEnable, states: stateAuthenticated}, // RFC 5161 §3.1
	"SELECT":      {fn: (*conn).cmdSelect, states: authed},
	"EXAMINE":     {fn: (*conn).cmdExamine, states: authed},
	"CREATE":      {fn: (*conn).cmdCreate, states: authed},
	"DELETE":      {fn: (*conn).cmdDelete, states: authed},
	"RENAME":      {fn: (*conn).cmdRename, states: authed},
	"SUBSCRIBE":   {fn: (*conn).cmdSubscribe, states: authed},
	"UNSUBSCRIBE": {fn: (*conn).cmdUnsubscribe, states: authed},
	"LIST":        {fn: (*conn).cmdList, states: authed},
	"LSUB":        {fn: (*conn).cmdLsub, states: authed},
	"NAMESPACE":   {fn: (*conn).cmdNamespace, states: authed},
	"STATUS":      {fn: (*conn).cmdStatus, states: authed},
	"APPEND":      {fn: (*conn).cmdAppend, states: authed},
	"IDLE":        {fn: (*conn).cmdIdle, states: authed, ownUpdates: true},
	"COMPRESS":    {fn: (*conn).cmdCompress, states: authed}, // RFC 4978 §3
	// RFC 8437 §3: back to the not-authenticated state.
	"UNAUTHENTICATE": {fn: (*conn).cmdUnauthenticate, states: authed},
	// RFC 9208 §4: QUOTA, in the authenticated and selected states.
	"GETQUOTA":     {fn: (*conn).cmdGetQuota, states: authed},
	"GETQUOTAROOT": {fn: (*conn).cmdGetQuotaRoot, states: authed},
	"SETQUOTA":     {fn: (*conn).cmdSetQuota, states: authed},
	// RFC 5465 §3.1: authenticated and selected states.
	"NOTIFY": {fn: (*conn).cmdNotify, states: authed},
	// RFC 5464 §4.2, §4.3: authenticated and selected states.
	"GETMETADATA": {fn: (*conn).cmdGetMetadata, states: authed},
	"SETMETADATA": {fn: (*conn).cmdSetMetadata, states: authed},

	// Selected (§6.4).
	"CHECK":       {fn: (*conn).cmdCheck, states: onSelected},
	"CLOSE":       {fn: (*conn).cmdClose, states: onSelected},
	"UNSELECT":    {fn: (*conn).cmdUnselect, states: onSelected},
	"EXPUNGE":     {fn: (*conn).cmdExpunge, states: onSelected, progress: 1},
	"SEARCH":      {fn: (*conn).cmdSearch, states: onSelected, noExpunge: true, seqNums: true, progress: 1},
	"FETCH":       {fn: (*conn).cmdFetch, states: onSelected, noExpunge: true, seqNums: true},
	"STORE":       {fn: (*conn).cmdStore, states: onSelected, noExpunge: true, seqNums: true},
	"COPY":        {fn: (*conn).cmdCopy, states: onSelected, seqNums: true, progress: 1},
	"MOVE":        {fn: (*conn).cmdMove, states: onSelected, seqNums: true, progress: 1},
	"UID SEARCH":  {fn: (*conn).cmdUIDSearch, states: onSelected, progress: 1},
	"UID FETCH":   {fn: (*conn).cmdUIDFetch, states: onSelected},
	"UID STORE":   {fn: (*conn).cmdUIDStore, states: onSelected},
	"UID COPY":    {fn: (*conn).cmdUIDCopy, states: onSelected, progress: 1},
	"UID MOVE":    {fn: (*conn).cmdUIDMove, states: onSelected, progress: 1},
	"UID EXPUNGE": {fn: (*conn).cmdUIDExpunge, states: onSelected, progress: 1}, // RFC 4315 §2.1
	// RFC 8508 §3.5: selected state only, as it names a message.
	"REPLACE":     {fn: (*conn).cmdReplace, states: onSelected, seqNums: true},
	"UID REPLACE": {fn: (*conn).cmdUIDReplace, states: onSelected},
	// RFC 5267 §4.3.5: ends update contexts, which exist only while a
	// mailbox is selected.
	"CANCELUPDATE": {fn: (*conn).cmdCancelUpdate, states: onSelected},
	// RFC 5256 §3: SORT and THREAD answer sequence numbers, as SEARCH does,
	// so no EXPUNGE may go out meanwhile (RFC 9051 §7.5.1).
	"SORT":       {fn: (*conn).cmdSort, states: onSelected, noExpunge: true, seqNums: true, progress: 2},
	"UID SORT":   {fn: (*conn).cmdUIDSort, states: onSelected, progress: 2},
	"THREAD":     {fn: (*conn).cmdThread, states: onSelected, noExpunge: true, seqNums: true, progress: 2},
	"UID THREAD": {fn: (*conn).cmdUIDThread, states: onSelected, progress: 2},
}

// response is the per-command scratch the handler fills for the tagged OK:
// a response code and text. Reset before each command.
type response struct {
	code string
	text string
	sent bool // the handler wrote the tagged response itself (STARTTLS)
	// closeAfter ends the connection after the response: the client is
	// sending data the server refused (a non-synchronising literal over
	// APPENDLIMIT).
	closeAfter bool
	// byeAfter, if set, ends the connection after the response with an
	// untagged BYE of this text (too many failed logins).
	byeAfter string
}

// command reads one command's tag and verb and dispatches it. It returns
// false when the connection must end.
func (c *conn) command() bool {
	tag, verb := imapwire.ParseCommandName(c.dec)
	if err := c.dec.Err(); err != nil {
		return c.preDispatchError(tag, err)
	}
	cmd, ok := commands[verb]
	if !ok {
		metricCommands.WithLabelValues("unknown", resultBad).Observe(0)
		return c.preDispatchError(tag, badf("Unknown command"))
	}
	return c.dispatchBuffered(verb, cmd, tag)
}

// dispatchBuffered dispatches a command with a borrowed write buffer,
// except the commands that wait for the client with nothing to send
// (IDLE) or replace the connection's streams (STARTTLS, COMPRESS). It
// returns false, as dispatch, when the connection must end.
func (c *conn) dispatchBuffered(verb string, cmd *command, tag string) bool {
	switch verb {
	case "IDLE", "STARTTLS", "COMPRESS":
		return c.dispatch(verb, cmd, tag)
	}
	ok := true
	err := c.withCommandWriter(func() error {
		ok = c.dispatch(verb, cmd, tag)
		return nil
	})
	return ok && err == nil
}

// preDispatchError answers a command that could not be read up to its
// verb. A garbage first command closes the connection: it defends against
// cross-protocol attacks (an HTTP request sent to the IMAP port).
func (c *conn) preDispatchError(tag string, err error) bool {
	if isIOError(err) {
		c.readFailed(err)
		return false
	}
	c.nCmds++
	c.badCmds++
	_, _, msg := classify(err)
	closing, derr := c.skipCommand(c.dec.Err(), err)
	if isIOError(derr) {
		c.readFailed(derr)
		return false
	}
	c.enc.StatusResponse(tag, "BAD", "", msg) // untagged when no tag was read
	switch {
	case closing != "":
		c.bye(closing)
		return false
	case c.nCmds == 1 || c.badCmds > maxBadCommands:
		c.bye("Too many invalid commands")
		return false
	}
	return true
}

// skipCommand brings the input to the start of the next command after a
// command ended with err (decErr being the decoder's error): the rest of
// the failed command, its literals included, is read and dropped, so that
// no octet of a literal is ever taken for a command (RFC 9051 §4.3). When
// that cannot be done, closing says why the connection must end after
// the response: the decoder lost its place (a fatal error), or the client
// is sending a literal too large to drop. An I/O error while skipping is
// returned.
func (c *conn) skipCommand(decErr, err error) (closing string, ioErr error) {
	switch {
	case isIOError(err) || isIOError(decErr):
		return "", nil // the epilogue ends the connection
	case c.resp.closeAfter:
		return "Closing: the refused literal's data cannot be skipped", nil
	case decErr != nil && imapwire.IsFatal(decErr):
		return "Closing: the command stream is out of step", nil
	}
	derr := c.dec.DiscardLine()
	var de *imapwire.DiscardLimitError
	switch {
	case derr == nil:
		return "", nil
	case errors.As(derr, &de):
		return "Closing: the refused literal's data cannot be skipped", nil
	}
	return "", derr
}

// dispatch runs one command and its epilogue: the state gate, the handler,
// the rest of a failed command skipped, pending mailbox updates, the
// tagged response, the log line and the metric. It returns false when the
// connection must end.
func (c *conn) dispatch(verb string, cmd *command, tag string) bool {
	start := time.Now()
	c.nCmds++
	c.resp = response{}
	c.prog = nil
	var err error
	switch {
	case cmd.states&c.state == 0:
		err = badf("%s not allowed in the %s state", verb, c.state)
	case cmd.seqNums && c.uidOnly:
		err = uidRequired() // the rest of the command is skipped below
	default:
		if cmd.progress > 0 {
			c.prog = &progress{tag: tag, start: c.s.opts.Clock(), passes: cmd.progress}
		}
		err = cmd.fn(c, c.ctx, tag, c.dec)
		c.prog = nil // the epilogue's updates are no part of the command's progress
	}
	decErr := c.dec.Err()
	if err == nil && decErr != nil {
		err = decErr // a handler that skipped its final check
	}
	closing, derr := c.skipCommand(decErr, err)
	if derr != nil {
		err = derr
	}
	cls, code, msg := classify(err)
	if cls == classIO {
		c.observe(verb, start, resultIOError, err)
		c.readFailed(err)
		return false
	}
	if (c.state == stateSelected || c.state == stateAuthenticated) && cls != classBye && !cmd.ownUpdates {
		// With nothing selected, only NOTIFY's reports of other mailboxes
		// go out; the queue is emptied all the same.
		c.sendUpdates(!cmd.noExpunge)
	}
	c.observe(verb, start, c.respond(verb, tag, cls, code, msg, err), err)
	switch {
	case closing != "":
		c.bye(closing)
		return false
	case c.badCmds > maxBadCommands:
		c.bye("Too many invalid commands")
		return false
	case c.resp.byeAfter != "":
		c.bye(c.resp.byeAfter)
		return false
	}
	return true
}

// respond writes the tagged response (or BYE) of a command whose outcome
// is cls, and returns the result label for the metric.
func (c *conn) respond(verb, tag string, cls errorClass, code, msg string, err error) string {
	switch cls {
	case classOK:
		if c.resp.sent {
			break
		}
		if c.resp.text == "" {
			c.resp.text = verb + " completed"
		}
		c.tagged(tag, "OK", c.resp.code, c.resp.text)
	case classNo:
		c.tagged(tag, "NO", code, msg)
		return resultNo
	case classBad:
		c.badCmds++
		c.tagged(tag, "BAD", code, msg)
		return resultBad
	case classInternal:
		c.log.Error("imap command failed", slog.String("cmd", verb), slog.Any("err", err))
		c.tagged(tag, "NO", code, msg)
		return resultError
	case classBye:
		c.bye(msg)
		c.setState(stateLogout)
	}
	return resultOK
}

// observe writes the command's debug line and metric.
func (c *conn) observe(verb string, start time.Time, result string, err error) {
	d := time.Since(start)
	metricCommands.WithLabelValues(verb, result).Observe(d.Seconds())
	attrs := []slog.Attr{slog.String("cmd", verb), slog.String("result", result), slog.Duration("duration", d)}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	c.log.LogAttrs(c.ctx, slog.LevelDebug, "imap command done", attrs...)
}

// tagged writes a tagged status response.
func (c *conn) tagged(tag, status, code, text string) {
	c.enc.StatusResponse(tag, status, code, text)
}

// okCode writes "* OK [name args] text", args writing the code's
// arguments.
func (c *conn) okCode(name string, args func(*imapwire.Encoder), text string) {
	c.enc.Untagged().Atom("OK").SP().Code(name, args).Text(text).CRLF()
}

// untaggedOK writes "* OK [code] text".
func (c *conn) untaggedOK(code, text string) {
	c.enc.StatusResponse("", "OK", code, text)
}
