package store

import "context"

// PreviewKeeper is implemented by sessions whose store keeps the preview
// of each message (RFC 8970 §3.1), computed once by search.Preview when
// the message is stored (delivery, APPEND, import) and shared by its
// copies, so that FETCH PREVIEW opens no message file. A message stored
// before the store kept previews has none until one is kept for it.
type PreviewKeeper interface {
	// Previews returns the kept preview of each message of uids present
	// in the mailbox that has one; the others are left out.
	// ErrNoSuchMailbox when the mailbox is not one of the session's
	// account.
	Previews(ctx context.Context, mailbox MailboxID, uids []UID) (map[UID]string, error)
	// KeepPreviews keeps previews computed (by search.Preview, from the
	// stored content) for messages that have none. A message that has a
	// preview keeps it; absent UIDs are skipped. Keeping a preview is not
	// a change of the message: no MODSEQ, nothing published.
	KeepPreviews(ctx context.Context, mailbox MailboxID, previews map[UID]string) error
}
