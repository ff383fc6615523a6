package imapserver

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// The three error classes of STYLE.md B5. A handler returns:
//   - a *syntaxError (or an imapwire syntax error from its decoder) for a
//     command that does not parse: tagged BAD;
//   - a *userError for an expected refusal: tagged NO with a response code,
//     logged at debug;
//   - anything else is internal: logged at error, answered
//     "NO [SERVERBUG]" without detail.
//
// I/O errors end the connection quietly.

// syntaxError is a command the grammar or the state of the protocol
// rejects: tagged BAD.
type syntaxError struct {
	code string // response code without brackets, optional
	msg  string
}

func (e *syntaxError) Error() string { return e.msg }

// badf builds a *syntaxError.
func badf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...)}
}

// userError is an expected refusal: tagged NO.
type userError struct {
	code string // response code without brackets, optional
	msg  string
	err  error // cause, for the debug log
}

func (e *userError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *userError) Unwrap() error { return e.err }

// nof builds a *userError with a response code.
func nof(code, format string, args ...any) error {
	return &userError{code: code, msg: fmt.Sprintf(format, args...)}
}

// byeError ends the connection after an untagged BYE with msg, sent in
// place of the tagged response (RFC 9051 §7.1.5).
type byeError struct{ msg string }

func (e *byeError) Error() string { return "bye: " + e.msg }

// storeErrors maps the errors that cross the store seam to responses, in
// one table (STYLE.md B4).
var storeErrors = []struct {
	err  error
	code string
	msg  string
}{
	{store.ErrNoSuchMailbox, "NONEXISTENT", "No such mailbox"},
	{store.ErrMailboxExists, "ALREADYEXISTS", "Mailbox already exists"},
	{store.ErrHasChildren, "HASCHILDREN", "Mailbox has inferior mailboxes"},
	{store.ErrNotAllowed, "CANNOT", "Operation not allowed"},
	{store.ErrInvalidName, "CANNOT", "Invalid name"},
	{store.ErrNoSuchMessage, "EXPUNGEISSUED", "Message was expunged"},
	{store.ErrInUse, "INUSE", "Mailbox in use"},
	{store.ErrOverQuota, "OVERQUOTA", "Over quota"},
	{store.ErrTooBig, "TOOBIG", "Message too big"},
	{auth.ErrUnknownUser, "AUTHENTICATIONFAILED", "Authentication failed"},
	{auth.ErrBadCredentials, "AUTHENTICATIONFAILED", "Authentication failed"},
	{auth.ErrDisabled, "AUTHORIZATIONFAILED", "Account disabled"},
	{auth.ErrNoMail, "AUTHORIZATIONFAILED", "Account may not read mail"},
	{auth.ErrExpired, "EXPIRED", "Account expired"},
	{auth.ErrAuthzidNotAllowed, "AUTHORIZATIONFAILED", "Authorization identity not allowed"},
	{auth.ErrChannelBinding, "AUTHENTICATIONFAILED", "Channel binding failed"},
	{auth.ErrMalformed, "AUTHENTICATIONFAILED", "Malformed SASL message"},
}

// errorClass says how the epilogue answers an error.
type errorClass int

const (
	classOK errorClass = iota
	classBad
	classNo
	classBye
	classInternal
	classIO
)

// classify maps an error to its class, response code and text.
func classify(err error) (cls errorClass, code, msg string) {
	if err == nil {
		return classOK, "", ""
	}
	var se *syntaxError
	var ue *userError
	var be *byeError
	var wse *imapwire.SyntaxError
	var ltb *imapwire.LiteralTooBigError
	var llong *imapwire.LineTooLongError
	var lref *imapwire.LiteralRefusedError
	var mne *imapwire.MailboxNameError
	switch {
	case errors.As(err, &mne):
		// Grammatical, so NO (RFC 9051 §7.1.2), not BAD; no mailbox can
		// ever have that name: [CANNOT] (RFC 5530 §3).
		return classNo, "CANNOT", "Mailbox name is not valid " + map[bool]string{false: "modified UTF-7", true: "UTF-8"}[mne.UTF8]
	case errors.As(err, &be):
		return classBye, "", be.msg
	case errors.As(err, &ltb):
		return classNo, "TOOBIG", "Literal too big"
	case errors.As(err, &lref):
		if errors.As(lref.Err, &ue) {
			return classNo, ue.code, ue.msg
		}
		return classNo, "TOOBIG", "Literal refused"
	case errors.As(err, &llong):
		return classBad, "TOOBIG", "Command line too long"
	case errors.As(err, &se):
		return classBad, se.code, se.msg
	case errors.As(err, &wse):
		return classBad, "", "Syntax error: " + wse.Msg
	case errors.As(err, &ue):
		return classNo, ue.code, ue.msg
	case isIOError(err):
		return classIO, "", ""
	}
	for _, m := range storeErrors {
		if errors.Is(err, m.err) {
			return classNo, m.code, m.msg
		}
	}
	// Storage failures are internal (logged at error: an operator must
	// act), answered with the code that tells the client what happened
	// (RFC 5530 §3): a full disk is a limit of the server, a filesystem
	// quota the user's.
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		// An account source (a directory) did not answer: try later
		// (RFC 5530 §3), never "wrong password" (issue 22).
		return classInternal, "UNAVAILABLE", "Account directory unavailable; try again later"
	case errors.Is(err, syscall.ENOSPC):
		return classInternal, "LIMIT", "Not enough storage space; the incident was logged"
	case errors.Is(err, syscall.EDQUOT):
		return classInternal, "OVERQUOTA", "Storage quota exceeded"
	}
	return classInternal, "SERVERBUG", "Internal error; the incident was logged"
}
