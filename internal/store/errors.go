package store

import "errors"

// Errors that cross the store seam. Protocol servers map each of them to a
// response in their own errors.go; implementations wrap them with context.
var (
	ErrNoSuchAccount = errors.New("no such account")
	ErrAccountExists = errors.New("account already exists")
	ErrInvalidName   = errors.New("invalid name")
	ErrNoSuchMailbox = errors.New("no such mailbox")
	ErrMailboxExists = errors.New("mailbox already exists")
	ErrHasChildren   = errors.New("mailbox has inferior mailboxes")
	ErrNotAllowed    = errors.New("operation not allowed")
	ErrNoSuchMessage = errors.New("no such message")
	ErrInUse         = errors.New("maildrop in use")
	ErrOverQuota     = errors.New("over quota")
	ErrTooBig        = errors.New("message too big")
	ErrDuplicate     = errors.New("message already imported")
	ErrClosed        = errors.New("store closed")
	// ErrNotIndexed: a search index cannot answer the query (Searcher);
	// the caller scans.
	ErrNotIndexed = errors.New("not answerable from the search index")
)
