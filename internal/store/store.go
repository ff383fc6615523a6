package store

import (
	"context"
	"io"
	"time"

	"github.com/postern/postern/internal/message"
)

// Store is a whole mail store: the accounts and, through [Session], their
// mail. Implementations are safe for concurrent use.
type Store interface {
	// CreateAccount adds an account with the given credentials and flags and
	// creates its [DefaultMailboxes]. The name must pass [ValidateAccountName];
	// it is stored in lower case. ErrAccountExists if taken.
	CreateAccount(ctx context.Context, name string, init AccountUpdate) (Account, error)
	// Account looks an account up by name, case-insensitively.
	// ErrNoSuchAccount if there is none.
	Account(ctx context.Context, name string) (Account, error)
	// Accounts lists every account, ordered by name.
	Accounts(ctx context.Context) ([]Account, error)
	// UpdateAccount applies the non-nil fields of u and returns the result.
	UpdateAccount(ctx context.Context, name string, u AccountUpdate) (Account, error)
	// DeleteAccount removes an account with all its mailboxes and messages.
	DeleteAccount(ctx context.Context, name string) error

	// Open starts a session on one account's mail. The session subscribes to
	// the account's changes from this moment; Close ends both.
	Open(ctx context.Context, id AccountID) (Session, error)

	// Reclaim removes message content files that no message refers to any
	// longer, and returns how many it removed. Expunge leaves them for this
	// step (the original's PURGE/RECLAIM), which the server runs
	// periodically and POP3 runs at QUIT when Purge-Reclaim is on.
	Reclaim(ctx context.Context) (int, error)

	// Close releases the store. Sessions still open fail with ErrClosed.
	Close() error
}

// Session is one connection's view of one account's mail. A Session is
// used by one goroutine at a time; different sessions run concurrently.
// Methods are grouped by what uses them.
type Session interface {
	// Account returns the account the session was opened for.
	Account() AccountID

	// Mailboxes.

	// Mailboxes lists every mailbox of the account, ordered by name.
	Mailboxes(ctx context.Context) ([]Mailbox, error)
	// Mailbox looks a mailbox up by name ("INBOX" case-insensitively).
	Mailbox(ctx context.Context, name string) (Mailbox, error)
	// Status returns a mailbox's counts.
	Status(ctx context.Context, id MailboxID) (MailboxStatus, error)
	// CreateMailbox creates a mailbox and any missing parents (RFC 9051
	// §6.3.4). specialUse may be "".
	CreateMailbox(ctx context.Context, name, specialUse string) (Mailbox, error)
	// DeleteMailbox deletes a mailbox and its messages. ErrNotAllowed for
	// INBOX; ErrHasChildren when it has inferior mailboxes.
	DeleteMailbox(ctx context.Context, name string) error
	// RenameMailbox renames a mailbox and its inferiors. Renaming INBOX moves
	// its messages to a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
	RenameMailbox(ctx context.Context, from, to string) error
	// SetSubscribed adds or removes a subscription. The name need not exist.
	SetSubscribed(ctx context.Context, name string, subscribed bool) error
	// Subscriptions lists the subscribed names, ordered.
	Subscriptions(ctx context.Context) ([]string, error)

	// Messages.

	// Messages returns the index data of every message in a mailbox, in
	// ascending UID order. The slice is the caller's; the Flags of its
	// entries may be shared with other results and are never modified.
	Messages(ctx context.Context, mailbox MailboxID) ([]MessageInfo, error)
	// MessageData returns, for each UID present in uids (in ascending order),
	// the message's structure and OpenVMS envelope. Missing UIDs are skipped.
	MessageData(ctx context.Context, mailbox MailboxID, uids []UID, fn func(MessageData) error) error
	// OpenContent opens the stored content of one message.
	OpenContent(ctx context.Context, mailbox MailboxID, uid UID) (Content, error)
	// Append adds messages to a mailbox, atomically: all are added or none
	// (RFC 3502 MULTIAPPEND). It returns only once they are durable.
	Append(ctx context.Context, mailbox MailboxID, reqs ...AppendRequest) ([]AppendResult, error)
	// StoreFlags changes the flags of the given messages (missing UIDs are
	// skipped). The change is decided in one transaction from the flags
	// stored when it commits, never from a copy the caller holds:
	// FlagsAdd and FlagsRemove are set operations on the stored flags,
	// FlagsReplace replaces them (RFC 9051 §6.4.6), and UnchangedSince is
	// tested in the same transaction (RFC 7162 §3.1.3). The messages whose
	// flags change get one new MODSEQ, shared by the call.
	StoreFlags(ctx context.Context, mailbox MailboxID, uids []UID, req FlagRequest) (FlagResult, error)
	// Expunge removes the given messages and returns the UIDs removed.
	Expunge(ctx context.Context, mailbox MailboxID, uids []UID) ([]UID, error)
	// ExpungeDeleted removes those of the given messages that carry
	// \Deleted when the expunge commits, and returns their UIDs (RFC 9051
	// §6.4.3 EXPUNGE, §6.4.1 CLOSE, RFC 4315 §2.1 UID EXPUNGE). The store
	// decides which carry \Deleted, in the expunge's transaction: a
	// \Deleted another session stored a moment before counts, one it
	// removed does not, whatever copy of the flags the caller holds.
	ExpungeDeleted(ctx context.Context, mailbox MailboxID, uids []UID) ([]UID, error)
	// Copy copies messages to another mailbox, sharing their content.
	Copy(ctx context.Context, from MailboxID, uids []UID, to MailboxID) (CopyResult, error)
	// Move moves messages to another mailbox atomically, keeping their
	// content and EmailID (RFC 6851).
	Move(ctx context.Context, from MailboxID, uids []UID, to MailboxID) (CopyResult, error)

	// Recency (RFC 3501 §2.3.2 \Recent, IMAP4rev1 only). Each mailbox
	// keeps the lowest UID no session has claimed: a message is recent
	// for the one session that claims it, the first read-write session to
	// open the mailbox (or to be told of the message while it has the
	// mailbox open) after the message arrived.

	// ClaimRecent claims the messages of a mailbox that no session has
	// claimed yet and returns their UID range: every message with a UID in
	// it is recent for the caller and for no session that claims later.
	// Claims are atomic: two concurrent calls never get overlapping
	// ranges. Next is the UIDNEXT at the claim, so a message that arrives
	// afterwards falls in a later claim.
	ClaimRecent(ctx context.Context, mailbox MailboxID) (UIDRange, error)
	// UnclaimedRecent returns the range of UIDs no session has claimed
	// yet, without claiming it: a read-only session (EXAMINE) sees those
	// messages as recent but leaves them recent for the next claimer.
	UnclaimedRecent(ctx context.Context, mailbox MailboxID) (UIDRange, error)

	// Changes and locks.

	// Changes is this session's subscription to the account's committed
	// changes. Changes the session itself makes are not delivered to it.
	Changes() Subscription
	// LockMaildrop takes the account's exclusive POP3 maildrop lock
	// (RFC 1939 §4). ErrInUse when another session holds it. The lock is
	// released by the returned function, by Close, or by the death of the
	// process holding it.
	LockMaildrop(ctx context.Context) (release func(), err error)

	// Close ends the session.
	Close() error
}

// MessageData is what the store parsed and kept for a message at delivery.
type MessageData struct {
	Info MessageInfo
	Part *message.Part // structure, envelope and section offsets
	VMS  *VMSEnvelope  // nil unless the message carries an OpenVMS envelope
	// Foreign reports a foreign message (hp-system §1.6, §6.3): binary
	// content, not text. See AppendRequest.Foreign for the rule.
	Foreign bool
	// ForeignHead holds, for a foreign message, the first octets of its
	// body (after the top-level header block), at most ForeignHeadSize,
	// from which a reader recognises the data's type (the IMAP magic
	// table) without opening the content. Nil otherwise.
	ForeignHead []byte
}

// ForeignHeadSize is the most octets of a foreign message's body the store
// keeps in MessageData.ForeignHead.
const ForeignHeadSize = 4096

// Content is a message's stored content: CRLF line endings, immutable.
type Content interface {
	io.ReaderAt
	io.Closer
	// Size is the content's length in octets.
	Size() int64
}

// AppendRequest describes one message to add.
type AppendRequest struct {
	// Content is read to EOF. Line endings are normalised to CRLF unless
	// Exact is set.
	Content io.Reader
	// Exact stores Content octet for octet: bare LF, bare CR and NUL are
	// data. IMAP sets it for a literal8 upload (RFC 3516 §4.4, APPEND
	// with ~{n}), which must be served back unchanged by BINARY[]; the
	// structure's offsets then refer to the octets as given.
	Exact bool
	// Flags are the initial flags.
	Flags Flags
	// InternalDate is the arrival time; zero means now. The store keeps
	// its zone offset with it (an APPEND date-time's own, RFC 9051
	// §6.3.12): MessageInfo.InternalDate comes back in that offset.
	InternalDate time.Time
	// VMS, when set, is stored as the message's OpenVMS envelope.
	VMS *VMSEnvelope
	// Foreign marks the message foreign (hp-system §1.6: an OpenVMS MAIL
	// "foreign" message, binary data rather than text), for callers that
	// know it, such as the VMS MAIL extract importer. The store also marks
	// foreign, whatever Foreign says, every content that holds a NUL octet:
	// text never does (RFC 5322 §2.3, RFC 1939 §3), binary data almost
	// always does. The mark belongs to the content: COPY and MOVE keep it.
	Foreign bool
	// ImportKey, when set, names the message's origin (for example a
	// position in an mbox file). A second append of the same key into the
	// same mailbox fails with ErrDuplicate, which makes imports resumable.
	ImportKey string
	// MaxSize limits the normalised content; 0 means no limit. A larger
	// message fails with ErrTooBig and leaves nothing behind.
	MaxSize int64
}

// AppendResult reports where an appended message landed.
type AppendResult struct {
	UIDValidity uint32
	UID         UID
	EmailID     EmailID
	ModSeq      ModSeq
	Size        int64
}

// FlagOp says how a [FlagRequest] combines with the current flags.
type FlagOp int

// Flag operations (RFC 9051 §6.4.6: FLAGS, +FLAGS, -FLAGS).
const (
	FlagsReplace FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// FlagRequest is a flag change.
type FlagRequest struct {
	Op    FlagOp
	Flags Flags
	// UnchangedSince, when non-zero, leaves alone every message whose
	// MODSEQ is greater (RFC 7162 CONDSTORE).
	UnchangedSince ModSeq
	// ExpectChange and OmitUnchanged are hints for the cost of the call,
	// never for its result, which the store decides from the flags it
	// holds either way. ExpectChange says the caller's copy of the flags
	// shows the request changing some message (an explicit STORE), so a
	// store need not first look on a read snapshot for a no-op.
	// OmitUnchanged says the caller needs no state of the messages left
	// unchanged (FETCH setting \Seen): the store may leave
	// FlagResult.Unchanged empty and decide a no-op from less than the
	// whole stored state.
	ExpectChange, OmitUnchanged bool
}

// FlagResult is what StoreFlags did. Each list is in ascending UID order.
type FlagResult struct {
	// Changed holds the new state of each message whose flags changed.
	Changed []MessageInfo
	// Unchanged holds the state of each message whose flags already were
	// what the request asked for: the state stored when the call
	// committed, which may be newer than the caller's copy.
	Unchanged []MessageInfo
	// Failed lists the messages left alone because their MODSEQ exceeded
	// UnchangedSince (RFC 7162 §3.1.3).
	Failed []UID
}

// CopyResult maps source UIDs to destination UIDs (RFC 4315 COPYUID).
type CopyResult struct {
	UIDValidity uint32
	Source      []UID
	Dest        []UID
}
