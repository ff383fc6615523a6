package store

import "context"

// Optional capabilities of a [Session], found by type assertion. A protocol
// server that advertises the matching extension checks for them at startup.

// ExpungeLogger is implemented by sessions whose store keeps the log of
// expunged UIDs with the MODSEQ of their expunge, which QRESYNC needs
// (RFC 7162 §3.2.5.2, VANISHED (EARLIER)).
type ExpungeLogger interface {
	// ExpungedSince returns, in ascending order, the UIDs of the mailbox
	// expunged (or moved away) with a MODSEQ greater than since.
	ExpungedSince(ctx context.Context, mailbox MailboxID, since ModSeq) ([]UID, error)
}

// ContentSharer is implemented by sessions whose store shares one stored
// content between the copies of a message. ContentID names the content a
// message refers to: two messages with the same ContentID share storage.
// Tests and diagnostics use it; protocols do not need it.
type ContentSharer interface {
	ContentID(ctx context.Context, mailbox MailboxID, uid UID) (string, error)
}
