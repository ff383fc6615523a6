package imapwire

import (
	"errors"
	"fmt"
	"strconv"
)

// A SyntaxError reports input that does not match the grammar. The server
// answers it with a tagged BAD (or an untagged BAD when no tag was read)
// after discarding the rest of the line with [Decoder.DiscardLine].
type SyntaxError struct {
	// Msg says what was expected, as "expected SP" or "invalid date".
	Msg string
}

func (e *SyntaxError) Error() string { return "imapwire: " + e.Msg }

// A LineTooLongError reports a command whose text, together with the
// literals the decoder buffered as strings, passed Options.MaxLineLength.
// The decoder stopped in the middle of the command, so the stream is out of
// step: the server answers BAD and closes the connection.
type LineTooLongError struct {
	// Limit is the configured maximum in bytes.
	Limit int
}

func (e *LineTooLongError) Error() string {
	return "imapwire: command longer than " + strconv.Itoa(e.Limit) + " bytes"
}

// A LiteralTooBigError reports a literal whose declared size is over a
// limit. It is returned before any byte of the literal is read. The server
// answers it with the TOOBIG response code (RFC 9051 §7.1, RFC 4469 §3).
//
// For a synchronising literal the client is waiting for a continuation
// request, so no data follows and the connection stays usable. For a
// non-synchronising literal the data is already on its way: the server must
// close the connection (IsFatal) or skip the data (DiscardLine).
type LiteralTooBigError struct {
	Size    int64 // declared size
	Limit   int64 // the limit that was passed
	NonSync bool  // the literal was {n+}: its data follows unasked
}

func (e *LiteralTooBigError) Error() string {
	kind := "literal"
	if e.NonSync {
		kind = "non-synchronizing literal"
	}
	return fmt.Sprintf("imapwire: %s of %d bytes is over the limit of %d", kind, e.Size, e.Limit)
}

// A MailboxNameError reports a mailbox name (or LIST pattern) that is a
// valid astring but not valid in the wire encoding of names: modified
// UTF-7 (RFC 3501 §5.1.3), or UTF-8 once enabled. The command is
// grammatical, so the server answers NO, not BAD; the rest of the line is
// discarded as after a syntax error.
type MailboxNameError struct {
	Name string // as sent
	UTF8 bool   // UTF-8 names were enabled
}

func (e *MailboxNameError) Error() string {
	if e.UTF8 {
		return "imapwire: mailbox name is not valid UTF-8"
	}
	return "imapwire: mailbox name is not valid modified UTF-7"
}

// A DiscardLimitError reports a non-synchronising literal of a failed
// command that DiscardLine did not skip because it is larger than
// Options.MaxDiscard. Its data is on its way and was not read, so the
// stream is out of step: the server closes the connection after its
// answer to the command.
type DiscardLimitError struct {
	Size, Limit int64
}

func (e *DiscardLimitError) Error() string {
	return fmt.Sprintf("imapwire: non-synchronizing literal of %d bytes not skipped (limit %d)", e.Size, e.Limit)
}

// ErrLiteralPending is recorded when a caller asks the decoder for a token
// while a literal it accepted has not been read to its end.
var ErrLiteralPending = errors.New("imapwire: literal not fully read")

// syntaxErrorf builds a *SyntaxError.
func syntaxErrorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...)}
}

// IsFatal reports whether err leaves the input stream out of step, so that
// the connection must be closed after the error response: a line over the
// limit, a refused non-synchronising literal, or any I/O error. A
// *SyntaxError and a refused synchronising literal are not fatal: the server
// discards the rest of the line and reads the next command.
func IsFatal(err error) bool {
	if err == nil {
		return false
	}
	var se *SyntaxError
	var ne *MailboxNameError
	if errors.As(err, &se) || errors.As(err, &ne) {
		return false
	}
	var lt *LiteralTooBigError
	if errors.As(err, &lt) {
		return lt.NonSync
	}
	var lr *LiteralRefusedError
	if errors.As(err, &lr) {
		return lr.Info.NonSync
	}
	return true // DiscardLimitError, LineTooLongError, I/O errors
}

// A LiteralRefusedError wraps the error with which Options.OnLiteral refused
// a literal. Like a *LiteralTooBigError it leaves the stream usable only
// when the literal was synchronising.
type LiteralRefusedError struct {
	Info LiteralInfo
	Err  error
}

func (e *LiteralRefusedError) Error() string {
	return fmt.Sprintf("imapwire: literal of %d bytes refused: %v", e.Info.Size, e.Err)
}

// Unwrap returns the error of the OnLiteral hook.
func (e *LiteralRefusedError) Unwrap() error { return e.Err }
