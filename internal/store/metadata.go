package store

import (
	"context"
	"errors"
)

// MetadataKeeper is implemented by sessions whose store keeps RFC 5464
// metadata: entries of the account's server scope (mailbox 0) and of each
// of its mailboxes. Entry names are lower case and begin with "/private/"
// or "/shared/" (the protocol checks their grammar); a value is opaque
// octets. A mailbox's entries go with it when it is deleted and follow it
// when it is renamed. Postern has no mailbox sharing, so private and
// shared entries are both the account's own (RFC 5464 §3.1 allows that:
// "shared" means as seen by every user with access).
type MetadataKeeper interface {
	// Metadata returns, ordered by name, the entries of the mailbox (0:
	// the server) named in names and, with depth 1, their children one
	// level down, with MetadataDepthInfinity all their descendants (RFC
	// 5464 §4.2.2). A name with no entry is left out. ErrNoSuchMailbox
	// when the mailbox is not one of the session's account.
	Metadata(ctx context.Context, mailbox MailboxID, names []string, depth int) ([]MetadataEntry, error)
	// SetMetadata sets the entries in one transaction: a nil Value
	// removes the entry (removing one that does not exist is no error).
	// When the mailbox would then hold more than maxEntries entries it
	// changes nothing and returns ErrMetadataTooMany (RFC 5464 §4.3:
	// [METADATA TOOMANY]). ErrNoSuchMailbox as for Metadata. The entries
	// whose value changed are published to the account's other sessions
	// as one ChangeMetadata (RFC 5465 §5.6, §5.7 MailboxMetadataChange,
	// ServerMetadataChange); setting the value an entry has, or removing
	// one that does not exist, is no change.
	SetMetadata(ctx context.Context, mailbox MailboxID, entries []MetadataEntry, maxEntries int) error
}

// MetadataEntry is one metadata entry; a nil Value (in SetMetadata)
// removes it.
type MetadataEntry struct {
	Name  string
	Value []byte
}

// MetadataDepthInfinity is Metadata's depth for every descendant.
const MetadataDepthInfinity = -1

// ErrMetadataTooMany: SetMetadata would exceed the entries allowed.
var ErrMetadataTooMany = errors.New("too many metadata entries")

// MetadataUnder reports whether entry is name itself or, within depth
// levels (MetadataDepthInfinity: any), below it: the rule of Metadata,
// for implementations to share.
func MetadataUnder(entry, name string, depth int) bool {
	if entry == name {
		return true
	}
	if depth == 0 || len(entry) <= len(name)+1 || entry[:len(name)] != name || entry[len(name)] != '/' {
		return false
	}
	if depth == MetadataDepthInfinity {
		return true
	}
	levels := 1
	for _, c := range entry[len(name)+1:] {
		if c == '/' {
			levels++
		}
	}
	return levels <= depth
}
