package pop3server

import (
	"errors"
	"fmt"
)

// The three error classes of STYLE.md B5. Handlers return them; dispatch
// maps them to the wire in one place.

// syntaxError is a malformed command: "-ERR text". It counts towards the
// connection's bad-command limit.
type syntaxError struct {
	msg string
}

func (e syntaxError) Error() string { return e.msg }

func errSyntax(format string, args ...any) error {
	return syntaxError{msg: fmt.Sprintf(format, args...)}
}

// userError is an expected refusal: "-ERR [CODE] text", CODE being an
// RFC 2449/3206 response code or empty. close ends the connection after
// the reply.
type userError struct {
	code  string
	msg   string
	close bool
}

func (e userError) Error() string { return e.msg }

func errUser(code, format string, args ...any) error {
	return userError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Response codes (RFC 2449 §8, RFC 3206).
const (
	codeInUse   = "IN-USE"
	codeAuth    = "AUTH"
	codeSysTemp = "SYS/TEMP"
	codeSysPerm = "SYS/PERM"
)

// errQuit is returned by a handler whose reply has been written and after
// which the connection ends normally (QUIT).
var errQuit = errors.New("quit")

// internalText is the reply to an internal error: it never carries paths,
// configuration or the underlying error (STYLE.md B5).
const internalText = "internal error; try again later"

// response returns the reply line for err and whether it is an internal
// error, which dispatch logs at Error.
func response(err error) (line string, internal bool, closeAfter bool) {
	var se syntaxError
	var ue userError
	switch {
	case errors.As(err, &se):
		return "-ERR " + se.msg, false, false
	case errors.As(err, &ue):
		if ue.code != "" {
			return "-ERR [" + ue.code + "] " + ue.msg, false, ue.close
		}
		return "-ERR " + ue.msg, false, ue.close
	}
	return "-ERR [" + codeSysTemp + "] " + internalText, true, false
}
