package smtpserver

import (
	"errors"

	"github.com/emersion/go-smtp"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/delivery"
)

// reply builds an SMTP reply with an enhanced status code (RFC 3463).
func reply(code int, class, subject, detail int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, subject, detail}, Message: msg}
}

// The replies of this package's user errors. Internal errors become
// errInternal after being logged, so that no path or detail leaks.
var (
	errInternal       = reply(451, 4, 3, 0, "Internal error; try again later")
	errAuthRequired   = reply(530, 5, 7, 0, "Authentication required")
	errEncryptionReq  = reply(538, 5, 7, 11, "Encryption required for requested authentication mechanism")
	errAuthFailed     = reply(535, 5, 7, 8, "Authentication credentials invalid")
	errAuthMalformed  = reply(501, 5, 5, 2, "Malformed SASL response")
	errAuthTemporary  = reply(454, 4, 7, 0, "Temporary authentication failure")
	errSenderNotOwned = reply(553, 5, 7, 1, "Sender address not owned by the authenticated user")
	errNullSender     = reply(553, 5, 7, 1, "A null sender is not allowed in submission")
	errBadSender      = reply(553, 5, 1, 7, "Malformed sender address")
	errBadRecipient   = reply(553, 5, 1, 3, "Malformed recipient address")
	errNeedsUTF8      = reply(553, 5, 6, 7, "Non-ASCII address requires the SMTPUTF8 parameter")
	errNoSuchUser     = reply(550, 5, 1, 1, "No such user here")
	errMailDisabled   = reply(550, 5, 2, 1, "Mailbox disabled, not accepting messages")
	errRelayDenied    = reply(550, 5, 7, 1, "Relaying denied: not a local domain")
	errNoForwarding   = reply(550, 5, 7, 1, "Recipient forwards off-site and this service does not forward")
	errAliasLoop      = reply(550, 5, 4, 6, "Alias loop for recipient")
	errBareLineEnd    = reply(550, 5, 6, 0, "Message contains a bare CR or LF; lines must end with CRLF")
	errNULByte        = reply(550, 5, 6, 0, "Message contains NUL bytes")
	errTooBig         = reply(552, 5, 3, 4, "Message too big")
	// RFC 3463 §3.3 X.2.2 mailbox full; 552 as RFC 5321 §4.2.3 ("exceeded
	// storage allocation"), at RCPT too (RFC 1870 §6.2).
	errMailboxFull = reply(552, 5, 2, 2, "Mailbox full: quota exceeded")
	errMalformed   = reply(550, 5, 6, 0, "Message is not a valid RFC 5322 message")
	errTryAgain    = reply(451, 4, 3, 0, "Temporary delivery failure; try again later")
)

// deliveryReply maps a delivery or resolution error to its reply (the one
// table of STYLE.md B4 for SMTP). It returns nil for an error that is not
// one of the known classes; the caller logs it and answers errInternal.
func deliveryReply(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case errors.Is(err, delivery.ErrNoSuchUser):
		return errNoSuchUser
	case errors.Is(err, delivery.ErrNoMail):
		return errMailDisabled
	case errors.Is(err, delivery.ErrTooBig):
		return errTooBig
	case errors.Is(err, delivery.ErrOverQuota):
		return errMailboxFull
	case errors.Is(err, delivery.ErrMalformed):
		return errMalformed
	case errors.Is(err, delivery.ErrNotLocal):
		return errRelayDenied
	case errors.Is(err, delivery.ErrAliasLoop):
		return errAliasLoop
	case errors.Is(err, delivery.ErrBadAddress):
		return errBadRecipient
	case errors.Is(err, delivery.ErrRejected):
		// RFC 5429 §2.1.1: a Sieve reject refused at the protocol level.
		return reply(550, 5, 7, 1, "Rejected by the recipient: "+delivery.RejectReason(err))
	}
	return nil
}

// authReply maps an auth error to its reply. The wording never says
// whether the user exists (auth package doc).
func authReply(err error) *smtp.SMTPError {
	switch {
	case errors.Is(err, auth.ErrThrottled):
		// RFC 4954 §6: 454 4.7.0, a temporary failure; the retry hint
		// makes the wait visible (issue 13).
		return reply(454, 4, 7, 0, "Too many failed logins; "+auth.RetryHint(err))
	case errors.Is(err, auth.ErrMalformed):
		return errAuthMalformed
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrDisabled),
		errors.Is(err, auth.ErrNoMail), errors.Is(err, auth.ErrExpired),
		errors.Is(err, auth.ErrAuthzidNotAllowed), errors.Is(err, auth.ErrChannelBinding),
		errors.Is(err, auth.ErrUnsupportedMechanism):
		return errAuthFailed
	}
	return errAuthTemporary
}
