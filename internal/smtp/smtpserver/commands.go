package smtpserver

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// handler runs one command; arg is what follows the verb, trimmed.
type handler func(c *conn, arg string)

// commands is the dispatch table. Each handler checks its own sequence
// rules (RFC 5321 §4.1.4), which depend on the transaction, not only on a
// state.
var commands = map[string]handler{
	"HELO":     func(c *conn, arg string) { c.greet("HELO", arg) },
	"EHLO":     func(c *conn, arg string) { c.greet("EHLO", arg) },
	"LHLO":     func(c *conn, arg string) { c.greet("LHLO", arg) },
	"MAIL":     (*conn).cmdMail,
	"RCPT":     (*conn).cmdRcpt,
	"DATA":     (*conn).cmdData,
	"BDAT":     (*conn).cmdBdat,
	"RSET":     (*conn).cmdRset,
	"NOOP":     func(c *conn, _ string) { c.reply(250, 2, 0, 0, "OK") },
	"VRFY":     func(c *conn, _ string) { c.reply(252, 2, 5, 0, "Cannot VRFY user, but will accept message") },
	"QUIT":     (*conn).cmdQuit,
	"AUTH":     (*conn).cmdAuth,
	"STARTTLS": (*conn).cmdStartTLS,
	"HELP":     notImplemented("HELP"),
	"EXPN":     notImplemented("EXPN"),
	"ETRN":     notImplemented("ETRN"),
	"TURN":     notImplemented("TURN"),
	"SEND":     notImplemented("SEND"),
	"SOML":     notImplemented("SOML"),
	"SAML":     notImplemented("SAML"),
}

func notImplemented(verb string) handler {
	return func(c *conn, _ string) { c.reply(502, 5, 5, 1, verb+" command not implemented") }
}

// command dispatches one command line (lineErr is errLongCommand for a
// line that was too long). Garbage as the very first command, such as an
// HTTP request sent to the port, closes the connection: a defence against
// cross-protocol attacks.
func (c *conn) command(line string, lineErr error) {
	if lineErr != nil {
		c.bad(500, 5, 5, 2, "Line too long")
		return
	}
	verb, arg, ok := splitCommand(line)
	h := commands[verb]
	if !ok || h == nil {
		if c.helo == "" && c.badCmds == 0 {
			c.reply(500, 5, 5, 2, "Not an SMTP command; closing connection")
			c.closing = true
			return
		}
		c.bad(500, 5, 5, 2, "Syntax error, command unrecognized")
		return
	}
	h(c, arg)
}

// greet handles HELO, EHLO and LHLO (RFC 5321 §4.1.1.1, RFC 2033 §4.1):
// a new greeting resets the transaction; the first one, and the first
// after STARTTLS, starts the session.
func (c *conn) greet(verb, arg string) {
	lmtp := c.s.opts.Mode == ModeLMTP
	switch {
	case lmtp && verb != "LHLO":
		c.bad(500, 5, 5, 1, "This is an LMTP server; use LHLO")
		return
	case !lmtp && verb == "LHLO":
		c.bad(500, 5, 5, 1, "This is not an LMTP server")
		return
	}
	name := sanitizeHelo(arg)
	if name == "" {
		c.bad(501, 5, 5, 4, "Domain or address required")
		return
	}
	c.reset()
	c.helo = name
	if c.ss == nil {
		ss, err := c.s.newSession(c)
		if err != nil {
			c.helo = ""
			c.replyErr(err)
			return
		}
		c.ss = ss
	}
	hello := c.s.opts.Hostname + " Hello " + name
	if verb == "HELO" {
		c.reply(250, 2, 0, 0, hello)
		return
	}
	// RFC 5321 §4.1.1.1: the first line names the server, the others are
	// the extensions; no enhanced codes in this reply (RFC 2034 §3).
	c.reply(250, -1, 0, 0, append([]string{hello}, c.extensions()...)...)
}

// extensions lists the EHLO keywords.
func (c *conn) extensions() []string {
	ext := []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING"}
	if c.s.opts.TLSConfig != nil && !c.tls && c.s.opts.Mode != ModeLMTP {
		ext = append(ext, "STARTTLS")
	}
	if mechs := c.ss.AuthMechanisms(); len(mechs) > 0 {
		ext = append(ext, "AUTH "+strings.Join(mechs, " "))
	}
	ext = append(ext, "SMTPUTF8")
	if c.s.opts.Mode == ModeSubmission {
		ext = append(ext, "DSN") // RFC 3461
	}
	if max := c.s.opts.MaxMessageSize; max > 0 {
		ext = append(ext, "SIZE "+strconv.FormatInt(max, 10))
	} else {
		ext = append(ext, "SIZE")
	}
	if n := c.s.opts.MaxRecipients; n > 0 {
		ext = append(ext, "LIMITS RCPTMAX="+strconv.Itoa(n)) // RFC 9422
	}
	return ext
}

// sequenceError reports whether a transaction command comes out of order
// (RFC 5321 §4.1.4), answering 503 if so.
func (c *conn) sequenceError(verb string) bool {
	var why string
	switch {
	case c.helo == "":
		why = "Send EHLO first"
	case c.bdat != nil:
		why = verb + " not allowed during a BDAT transfer"
	case verb == "MAIL" && c.mail:
		why = "Nested MAIL command"
	case verb == "RCPT" && !c.mail:
		why = "Send MAIL first"
	case (verb == "DATA" || verb == "BDAT") && (!c.mail || len(c.rcpts) == 0):
		why = "Send RCPT first"
	default:
		return false
	}
	c.bad(503, 5, 5, 1, why)
	return true
}

// cmdMail starts a transaction (RFC 5321 §4.1.1.2).
func (c *conn) cmdMail(arg string) {
	if c.sequenceError("MAIL") {
		return
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		c.bad(501, 5, 5, 2, "Syntax: MAIL FROM:<address>")
		return
	}
	from, rest, err := parsePath(strings.TrimLeft(rest, " "), true, false)
	if err != nil || rest != "" && rest[0] != ' ' {
		c.bad(501, 5, 5, 2, "Syntax: MAIL FROM:<address>")
		return
	}
	opts, err := c.mailOptions(rest)
	if err != nil {
		c.replyErr(err)
		return
	}
	if err := c.ss.Mail(from, opts); err != nil {
		c.replyErr(err)
		return
	}
	c.mail = true
	c.reply(250, 2, 0, 0, "Roger, accepting mail from <"+from+">")
}

// mailOptions parses MAIL's ESMTP parameters: SIZE (RFC 1870), BODY
// (RFC 6152), SMTPUTF8 (RFC 6531), AUTH (RFC 4954 §5, accepted and
// ignored) and on submission RET and ENVID (RFC 3461). Anything else was not offered: 555 (RFC 5321 §4.1.1.11).
func (c *conn) mailOptions(s string) (*smtp.MailOptions, error) {
	params, err := parseParams(s)
	if err != nil {
		return nil, reply(501, 5, 5, 4, "Malformed MAIL parameters")
	}
	opts := &smtp.MailOptions{}
	for _, p := range params {
		switch p.key {
		case "SIZE":
			size, err := parseSize(p.value)
			if err != nil {
				return nil, reply(501, 5, 5, 4, "SIZE must be a number of octets")
			}
			// RFC 1870 §6.1: a declared size over the limit is 552;
			// one too large to count is certainly over it.
			if max := c.s.opts.MaxMessageSize; max > 0 && (size < 0 || size > max) {
				return nil, reply(552, 5, 3, 4, "Message size exceeds fixed maximum message size")
			}
			opts.Size = size
		case "BODY":
			switch v := strings.ToUpper(p.value); v {
			case "7BIT", "8BITMIME":
				opts.Body = smtp.BodyType(v)
			default:
				return nil, reply(555, 5, 5, 4, "BODY must be 7BIT or 8BITMIME")
			}
		case "SMTPUTF8":
			if p.set {
				return nil, reply(501, 5, 5, 4, "SMTPUTF8 takes no value")
			}
			opts.UTF8 = true
		case "AUTH":
		case "RET", "ENVID": // RFC 3461, submission only
			if err := c.mailDSN(opts, p); err != nil {
				return nil, err
			}
		default:
			return nil, reply(555, 5, 5, 4, "Unsupported MAIL parameter "+p.key)
		}
	}
	return opts, nil
}

// parseSize parses a SIZE value: digits only; -1 for a number too large
// to hold.
func parseSize(v string) (int64, error) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, errSyntax
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1, nil // out of range: digits only, so larger than any limit
	}
	return n, nil
}

// cmdRcpt adds a recipient (RFC 5321 §4.1.1.3).
func (c *conn) cmdRcpt(arg string) {
	if c.sequenceError("RCPT") {
		return
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		c.bad(501, 5, 5, 2, "Syntax: RCPT TO:<address>")
		return
	}
	to, rest, err := parsePath(strings.TrimLeft(rest, " "), false, true)
	if err != nil || rest != "" && rest[0] != ' ' {
		c.bad(501, 5, 5, 2, "Syntax: RCPT TO:<address>")
		return
	}
	params, err := parseParams(rest)
	if err != nil {
		c.reply(501, 5, 5, 4, "Malformed RCPT parameters")
		return
	}
	ropts, err := c.rcptOptions(params)
	if err != nil {
		c.replyErr(err)
		return
	}
	if n := c.s.opts.MaxRecipients; n > 0 && len(c.rcpts) >= n {
		// RFC 5321 §4.5.3.1.8: the client sends the rest in another
		// transaction.
		c.reply(452, 4, 5, 3, fmt.Sprintf("Maximum limit of %d recipients reached", n))
		return
	}
	if err := c.ss.Rcpt(to, ropts); err != nil {
		c.replyErr(err)
		return
	}
	c.rcpts = append(c.rcpts, to)
	c.reply(250, 2, 0, 0, "I'll make sure <"+to+"> gets this")
}

// cmdData receives the message (RFC 5321 §4.1.1.4) and answers once, or
// once per recipient in LMTP (RFC 2033 §4.2).
func (c *conn) cmdData(arg string) {
	if arg != "" {
		c.bad(501, 5, 5, 4, "DATA takes no argument")
		return
	}
	if c.sequenceError("DATA") {
		return
	}
	c.reply(354, -1, 0, 0, "Go ahead. End your data with <CR><LF>.<CR><LF>")
	if !c.flushNow() {
		return
	}
	rcv := c.ss.newReceiver()
	if err := rcv.readFrom(newDotReader(c.br)); err != nil {
		rcv.discard()
		c.closing = true
		return
	}
	c.endData(rcv)
}

// endData ends a message received by DATA or BDAT ... LAST: delivery and
// the replies, then the transaction is over.
func (c *conn) endData(rcv *receiver) {
	msg, err := rcv.finish()
	for i, r := range c.ss.dataReplies(msg, err) {
		if c.s.opts.Mode == ModeLMTP {
			c.replyRcpt(c.rcpts[i], r)
		} else {
			c.replyData(r)
		}
	}
	c.reset()
}

// replyData writes the reply to a message: 250 or the refusal.
func (c *conn) replyData(err error) {
	if err == nil {
		c.reply(250, 2, 0, 0, "OK: queued")
		return
	}
	c.replyErr(err)
}

// replyRcpt writes one LMTP recipient's reply, naming it (RFC 2033 §4.2).
func (c *conn) replyRcpt(rcpt string, err error) {
	if err == nil {
		c.reply(250, 2, 0, 0, "<"+rcpt+"> OK: queued")
		return
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		c.log.Error("lmtp delivery failed", "err", err)
		se = errInternal
	}
	c.reply(se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], "<"+rcpt+"> "+se.Message)
}

// cmdBdat takes one chunk of the message (RFC 3030 §2). The chunk always
// follows the command, so it is read (or skipped) whatever the reply; a
// malformed size leaves no way to find the next command, so the
// connection ends.
func (c *conn) cmdBdat(arg string) {
	f := strings.Fields(arg)
	var size int64 = -1
	if len(f) >= 1 && len(f) <= 2 && strings.Trim(f[0], "0123456789") == "" {
		size, _ = strconv.ParseInt(f[0], 10, 64)
	}
	if size < 0 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		c.reply(501, 5, 5, 4, "Syntax: BDAT size [LAST]; closing connection")
		c.closing = true
		return
	}
	last := len(f) == 2
	chunk := &exactReader{r: c.br, n: size}
	if c.bdat == nil && c.sequenceError("BDAT") {
		c.skip(chunk)
		return
	}
	if c.bdat == nil {
		c.bdat = c.ss.newReceiver()
	}
	if err := c.bdat.readFrom(chunk); err != nil {
		c.closing = true
		return
	}
	switch {
	case last:
		rcv := c.bdat
		c.bdat = nil
		c.endData(rcv)
	case c.bdat.err != nil:
		// A chunk already fails the message: say so now, and the client
		// sends no more chunks (RFC 3030 §2).
		c.replyErr(c.bdat.err)
		c.reset()
	default:
		c.reply(250, 2, 0, 0, fmt.Sprintf("%d octets received", size))
	}
}

// skip reads and drops a chunk that was refused.
func (c *conn) skip(chunk io.Reader) {
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.DataTimeout))
	if _, err := io.Copy(io.Discard, chunk); err != nil {
		c.closing = true
	}
}

// exactReader reads exactly n octets: an early EOF is an error, not the
// end of the chunk.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	n, err := e.r.Read(p[:min(int64(len(p)), e.n)])
	e.n -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && e.n == 0 {
		err = io.EOF
	}
	return n, err
}

func (c *conn) cmdRset(arg string) {
	if arg != "" {
		c.bad(501, 5, 5, 4, "RSET takes no argument")
		return
	}
	c.reset()
	c.reply(250, 2, 0, 0, "Session reset")
}

func (c *conn) cmdQuit(string) {
	c.reply(221, 2, 0, 0, "Bye")
	c.closing = true
}

// cmdAuth runs a SASL exchange (RFC 4954 §4).
func (c *conn) cmdAuth(arg string) {
	switch {
	case c.helo == "":
		c.bad(503, 5, 5, 1, "Send EHLO first")
		return
	case c.authed:
		c.bad(503, 5, 5, 1, "Already authenticated")
		return
	case c.mail:
		c.bad(503, 5, 5, 1, "AUTH not allowed during a mail transaction")
		return
	}
	f := strings.Fields(arg)
	if len(f) < 1 || len(f) > 2 {
		c.bad(501, 5, 5, 4, "Syntax: AUTH mechanism [initial-response]")
		return
	}
	var resp []byte // nil: no initial response (RFC 4954 §4)
	if len(f) == 2 {
		var err error
		if resp, err = decodeSASL(f[1]); err != nil {
			c.reply(501, 5, 5, 2, "Invalid base64 data")
			return
		}
	}
	srv, err := c.ss.Auth(strings.ToUpper(f[0]))
	if err != nil {
		c.replyErr(err)
		return
	}
	for {
		chal, done, err := srv.Next(resp)
		if err != nil {
			c.replyErr(err)
			return
		}
		if done {
			break
		}
		if resp, err = c.saslRound(chal); err != nil {
			return // answered or closing
		}
	}
	c.authed = true
	c.reply(235, 2, 7, 0, "Authentication succeeded")
}

// errAnswered ends an AUTH exchange whose reply is written.
var errAnswered = errors.New("answered")

// saslRound sends one 334 challenge and reads the client's answer.
func (c *conn) saslRound(chal []byte) ([]byte, error) {
	c.reply(334, -1, 0, 0, base64.StdEncoding.EncodeToString(chal))
	if !c.flushNow() {
		return nil, errAnswered
	}
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.CommandTimeout))
	line, err := c.readLine()
	switch {
	case errors.Is(err, errLongCommand):
		c.bad(500, 5, 5, 6, "Authentication exchange line is too long")
		return nil, errAnswered
	case err != nil:
		c.readFailed(err)
		c.closing = true
		return nil, errAnswered
	case line == "*":
		c.reply(501, 5, 0, 0, "Authentication cancelled")
		return nil, errAnswered
	}
	resp, err := decodeSASL(line)
	if err != nil {
		c.reply(501, 5, 5, 2, "Invalid base64 data")
		return nil, errAnswered
	}
	return resp, nil
}

// decodeSASL decodes a base64 SASL message; "=" is an empty one.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// cmdStartTLS upgrades the connection (RFC 3207). Whatever the client
// pipelined after STARTTLS was sent in the clear and is dropped with the
// old read buffer (the command injection of CVE-2011-0411), and the
// session starts over, as if just connected (RFC 3207 §4.2).
func (c *conn) cmdStartTLS(arg string) {
	switch {
	case arg != "":
		c.bad(501, 5, 5, 4, "STARTTLS takes no argument")
		return
	case c.tls:
		c.bad(503, 5, 5, 1, "Already running TLS")
		return
	case c.s.opts.TLSConfig == nil || c.s.opts.Mode == ModeLMTP:
		c.reply(502, 5, 5, 1, "STARTTLS not available")
		return
	}
	c.reply(220, 2, 0, 0, "Ready to start TLS")
	if !c.flushNow() {
		return
	}
	tc := tls.Server(c.nc, c.s.opts.TLSConfig)
	tc.SetDeadline(time.Now().Add(c.s.opts.CommandTimeout))
	if err := tc.Handshake(); err != nil {
		c.log.Info("starttls handshake failed", "err", err)
		c.closing = true
		return
	}
	c.nc, c.tls = tc, true
	c.br.Reset(c.tap.reader(tc))
	c.bw.Reset(c.tap.writer(tc))
	c.tap.startTLS(tc.ConnectionState())
	c.reset()
	if c.ss != nil {
		c.ss.Logout()
		c.ss = nil
	}
	c.helo, c.authed = "", false
}
