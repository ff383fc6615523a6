package store

import (
	"context"
	"errors"
	"strconv"
)

// ErrUIDOrder is returned when a message would get a UID below its
// mailbox's UIDNEXT: UIDs are strictly ascending in the order messages
// are added (RFC 9051 §2.3.1.1), so a client that saw UIDNEXT must never
// see a lower UID appear.
var ErrUIDOrder = errors.New("UID below the mailbox's UIDNEXT")

// ErrNotEmpty is returned when a mailbox's identity is to be set while it
// holds messages.
var ErrNotEmpty = errors.New("mailbox not empty")

// IdentityImporter is implemented by sessions that can store mail moved
// from another server with the identities its clients know: the
// mailbox's UIDVALIDITY, each message's UID, and the POP3 unique-id, so
// that a client of the old server reconnects and downloads nothing
// (docs/migration.md). `postern import --format dovecot` and the IMAP
// import use it.
//
// The order of an import: SetMailboxIdentity on an empty mailbox, then
// AppendIdentified in ascending UID order (in as many calls as needed, a
// run stopped midway resumes where the mailbox's UIDNEXT is), then
// RaiseUIDNext to the source's UIDNEXT. A session that has the mailbox
// open meanwhile sees messages arrive with ascending UIDs, as any
// delivery.
type IdentityImporter interface {
	// SetMailboxIdentity gives an empty mailbox of the account a new
	// UIDVALIDITY, with UIDNEXT 1, and raises its HIGHESTMODSEQ to at
	// least modSeqFloor, so that every later change has a MODSEQ above
	// any the source handed out (RFC 7162 §3.1.1: a client's cached
	// MODSEQ must find every change made after it). The mailbox's expunge
	// log is emptied and its floor set to the new HIGHESTMODSEQ: a client
	// resynchronising from a MODSEQ below it gets the full answer (see
	// ExpungeLogger). ErrNotEmpty when the mailbox holds messages.
	SetMailboxIdentity(ctx context.Context, mailbox MailboxID, uidValidity uint32, modSeqFloor ModSeq) (Mailbox, error)
	// AppendIdentified appends messages, all or none, like
	// Session.Append. A request's UID, when not 0, is the UID it gets:
	// the UIDs must ascend and be at least the mailbox's UIDNEXT
	// (ErrUIDOrder otherwise; ErrDuplicate when the mailbox holds that UID
	// already, which makes an import resumable), and UIDNEXT becomes the
	// last one plus 1. A request with UID 0 gets the next UID as Append
	// gives it. POP3UIDL, when set, is the message's POP3 unique-id
	// (UIDLKeeper). The messages are not \Recent (RFC 3501 §2.3.2): they
	// are not new to their owner.
	AppendIdentified(ctx context.Context, mailbox MailboxID, reqs ...IdentifiedAppend) ([]AppendResult, error)
	// RaiseUIDNext raises the mailbox's UIDNEXT to next, if it is lower,
	// and returns the mailbox: the source's UIDNEXT, which may lie above
	// its last message's UID when the last messages were expunged there.
	RaiseUIDNext(ctx context.Context, mailbox MailboxID, next UID) (Mailbox, error)
}

// IdentifiedAppend is a message for [IdentityImporter.AppendIdentified].
type IdentifiedAppend struct {
	AppendRequest
	// UID is the UID the message must get, or 0 for the next one.
	UID UID
	// POP3UIDL is the unique-id a POP3 client knows the message by (RFC
	// 1939 §7: 1 to 70 characters in 0x21-0x7E), or "" for the server's
	// own. ErrInvalidName when it is not a valid unique-id.
	POP3UIDL string
}

// UIDLKeeper is implemented by sessions whose store keeps the POP3
// unique-ids messages were imported with (IdentifiedAppend.POP3UIDL). A
// POP3 server serves a message with a kept unique-id under it, and under
// its own otherwise. The unique-id belongs to the message: MOVE keeps it,
// COPY does not (a copy is another message for POP3).
type UIDLKeeper interface {
	// POP3UIDLs calls fn, in ascending UID order, for each message of
	// the mailbox that has a kept unique-id. ErrNoSuchMailbox when the
	// mailbox is not one of the session's account.
	POP3UIDLs(ctx context.Context, mailbox MailboxID, fn func(UID, string) error) error
}

// maxUIDL is the longest unique-id RFC 1939 §7 allows.
const maxUIDL = 70

// ValidUIDL reports whether s is a valid POP3 unique-id: 1 to 70
// characters in the range 0x21 to 0x7E (RFC 1939 §7).
func ValidUIDL(s string) bool {
	if len(s) == 0 || len(s) > maxUIDL {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// uidlTimeFormat writes the arrival date inside a DefaultUIDL.
const uidlTimeFormat = "20060102150405"

// DefaultUIDL is the POP3 unique-id Postern gives a message that has no
// kept one (UIDLKeeper): the original's idea, the account name and the
// arrival date, made unique by the EmailID, which a MOVE between INBOX
// and Mail keeps: "alice.20261125201247.42". Account names use only
// [a-z0-9._-], so every character is in 0x21-0x7E. A name too long for
// the 70-octet limit is cut; the EmailID keeps it unique. The POP3 server
// serves it and `postern export` writes it, so that both agree.
func DefaultUIDL(account string, info MessageInfo) string {
	tail := "." + info.InternalDate.UTC().Format(uidlTimeFormat) + "." + strconv.FormatInt(int64(info.EmailID), 10)
	if len(account)+len(tail) > maxUIDL {
		account = account[:maxUIDL-len(tail)]
	}
	return account + tail
}
