package store

import (
	"time"
)

// UID is a message's unique identifier within a mailbox (RFC 9051 §2.3.1.1).
type UID uint32

// ModSeq is a modification sequence number (RFC 7162 §3.1.1).
type ModSeq uint64

// AccountID identifies an account inside one store.
type AccountID int64

// MailboxID identifies a mailbox inside one store. It does not change when
// the mailbox is renamed.
type MailboxID int64

// EmailID identifies one delivered message. It is kept by MOVE (and by the
// POP3 move from INBOX to Mail) and is fresh for a COPY, so it is unique in
// every mailbox. RFC 8474 §5.1.
type EmailID int64

// System flags (RFC 9051 §2.3.2). Keywords are any other atom.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Special-use attributes (RFC 6154 §2).
const (
	SpecialAll     = `\All`
	SpecialArchive = `\Archive`
	SpecialDrafts  = `\Drafts`
	SpecialFlagged = `\Flagged`
	SpecialJunk    = `\Junk`
	SpecialSent    = `\Sent`
	SpecialTrash   = `\Trash`
)

// Names of the mailboxes every account is created with. INBOX is the
// original's NEWMAIL folder; Mail is its MAIL folder, where the POP3 server
// moves mail that was read but not deleted; Trash is its WASTEBASKET.
const (
	MailboxInbox  = "INBOX"
	MailboxMail   = "Mail"
	MailboxSent   = "Sent"
	MailboxDrafts = "Drafts"
	MailboxTrash  = "Trash"
	MailboxJunk   = "Junk"
)

// DefaultMailboxes lists the mailboxes created with every account, with
// their special-use attribute ("" for none).
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{MailboxInbox, ""},
	{MailboxMail, ""},
	{MailboxSent, SpecialSent},
	{MailboxDrafts, SpecialDrafts},
	{MailboxTrash, SpecialTrash},
	{MailboxJunk, SpecialJunk},
}

// HierarchySeparator separates the levels of a mailbox name.
const HierarchySeparator = '/'

// Account is one user of the server. The name is stored in lower case;
// lookups are case-insensitive, as OpenVMS user names were.
type Account struct {
	ID   AccountID
	Name string

	// Credentials. PasswordHash is a PHC-format argon2id string; SCRAM holds
	// the salted keys of RFC 5802 §3, never the password; APOPSecret is the
	// shared secret of RFC 1939 §7 (the original's POP_SECRET.DAT), kept apart
	// from the password because APOP needs it in the clear.
	PasswordHash string
	SCRAM        SCRAMCredentials
	APOPSecret   string

	// Account flags of the original (SYSUAF): Disabled is DISUSER, NoMail is
	// DISMAIL, Expires is the expiration date (zero = never). Admin may use
	// privileged commands such as XTND STATS and XTND SHUTDOWN.
	Disabled bool
	NoMail   bool
	Expires  time.Time
	Admin    bool

	// Quota limits as set for the account (RFC 9208): QuotaDefault (the
	// site default applies), QuotaNone, or the limit in octets and in
	// messages. [QuotaKeeper] gives the limits in force.
	QuotaStorage  int64
	QuotaMessages int64

	// Source is the account source that owns the name (issue 22,
	// docs/accounts.md): SourceLocal for accounts made here (`user add`,
	// `user import`), or the outside source ("system", "ldap") whose user
	// the account holds the mail of. A name owned by one source is never
	// taken over by another.
	Source string

	Created time.Time
}

// SourceLocal is the Source of the store's own accounts, and the Source a
// new account gets when its AccountUpdate names none.
const SourceLocal = "local"

// Expired reports whether the account is past its expiration date at now.
func (a *Account) Expired(now time.Time) bool {
	return !a.Expires.IsZero() && !now.Before(a.Expires)
}

// SCRAMCredentials are the stored SCRAM-SHA-256 keys (RFC 5802 §3, RFC 7677).
type SCRAMCredentials struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// AccountUpdate describes a change to an account. Nil fields are left alone.
type AccountUpdate struct {
	PasswordHash *string
	SCRAM        *SCRAMCredentials
	APOPSecret   *string
	Disabled     *bool
	NoMail       *bool
	Expires      *time.Time
	Admin        *bool
	// QuotaStorage and QuotaMessages set the account's limits: a limit,
	// QuotaNone or QuotaDefault.
	QuotaStorage  *int64
	QuotaMessages *int64
	// Source sets the account source that owns the name (see
	// Account.Source); meant for CreateAccount. Empty is refused.
	Source *string
}

// Mailbox describes one mailbox.
type Mailbox struct {
	ID            MailboxID
	Name          string // full name, levels separated by HierarchySeparator; "INBOX" is upper case
	UIDValidity   uint32
	UIDNext       UID
	HighestModSeq ModSeq
	SpecialUse    string // one of the Special* constants, or ""
	Subscribed    bool
}

// MailboxStatus holds the counts a STATUS command or a SELECT needs.
type MailboxStatus struct {
	Mailbox
	Messages uint32
	Unseen   uint32 // messages without \Seen
	Deleted  uint32 // messages with \Deleted
	Recent   uint32 // messages no session has claimed as recent (RFC 3501 §2.3.2)
	Size     int64  // sum of message sizes (RFC 8438 STATUS=SIZE)
	// DeletedSize is the sum of the stored sizes of the messages with
	// \Deleted: what an expunge would free (RFC 9208 §4.4 DELETED-STORAGE).
	DeletedSize int64
}

// UIDRange is the UIDs from First up to, but not including, Next.
type UIDRange struct {
	First, Next UID
}

// Contains reports whether uid is in the range.
func (r UIDRange) Contains(uid UID) bool { return uid >= r.First && uid < r.Next }

// Flags is a set of system flags and keywords, kept sorted and without
// duplicates by the store. Flag names compare case-insensitively
// (RFC 9051 §2.3.2).
type Flags []string

// MessageInfo is the per-message index data a session needs to build its
// view of a mailbox: everything but the content and its structure.
type MessageInfo struct {
	UID          UID
	EmailID      EmailID
	ModSeq       ModSeq
	Flags        Flags
	InternalDate time.Time // in the zone offset it was stored with (UTC for offset 0)
	Size         int64     // octets of the stored (CRLF) content
}

// VMSEnvelope is the OpenVMS Mail envelope of a message: the four header
// lines of VMS MAIL plus its arrival date and the sender's personal name.
// Messages imported from MAIL extract files carry it; the Mail11 view
// rebuilds RFC 5322 headers from it. OwnHeader reports whether the stored
// content begins with a real RFC 5322 header block (mail that came through
// SMTP with TOP_HEADERS) rather than an empty one.
type VMSEnvelope struct {
	From         string
	PersonalName string
	To           string
	CC           string
	Subject      string
	Date         time.Time
	OwnHeader    bool
}
