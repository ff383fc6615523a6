package store

// Change is one committed change to an account's mail, published to the
// account's other sessions after commit. The concrete types below are the
// complete set; a session type-switches on them.
type Change interface{ isChange() }

// ChangeAdd reports a message added to a mailbox (APPEND, delivery, COPY,
// MOVE's arrival side).
type ChangeAdd struct {
	Mailbox MailboxID
	Info    MessageInfo
}

// ChangeFlags reports a message's new flags.
type ChangeFlags struct {
	Mailbox MailboxID
	UID     UID
	ModSeq  ModSeq
	Flags   Flags
}

// ChangeExpunge reports messages removed from a mailbox (EXPUNGE, a POP3
// QUIT that deleted mail, MOVE's departure side).
type ChangeExpunge struct {
	Mailbox MailboxID
	UIDs    []UID
	ModSeq  ModSeq
}

// ChangeMailbox reports a mailbox created, deleted or renamed.
type ChangeMailbox struct {
	Kind    MailboxChangeKind
	ID      MailboxID
	Name    string // the new name (or the deleted one)
	OldName string // for renames
}

// MailboxChangeKind says what happened to a mailbox.
type MailboxChangeKind int

// Kinds of mailbox change.
const (
	MailboxCreated MailboxChangeKind = iota
	MailboxDeleted
	MailboxRenamed
)

// ChangeSubscription reports a subscription added or removed.
type ChangeSubscription struct {
	Name       string
	Subscribed bool
}

// ChangeMetadata reports RFC 5464 metadata entries set, changed or
// removed, on a mailbox or, with Mailbox 0, on the server (the account's
// server entries). Entries are the names that changed, lower case.
type ChangeMetadata struct {
	Mailbox MailboxID
	Entries []string
}

func (ChangeAdd) isChange()          {}
func (ChangeFlags) isChange()        {}
func (ChangeExpunge) isChange()      {}
func (ChangeMailbox) isChange()      {}
func (ChangeSubscription) isChange() {}
func (ChangeMetadata) isChange()     {}
