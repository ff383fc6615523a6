package store

import (
	"context"
	"time"

	"github.com/postern/postern/internal/message"
)

// Optional capabilities of a [Session], found by type assertion. A protocol
// server that advertises the matching extension checks for them at startup.

// ExpungeLogger is implemented by sessions whose store keeps the log of
// expunged UIDs with the MODSEQ of their expunge, which QRESYNC needs
// (RFC 7162 §3.2, §3.2.5.1 and §3.2.6: VANISHED (EARLIER)).
//
// The log is kept for a retention (see [ExpungePruner]); what is pruned is
// summarised by a floor, the highest MODSEQ of a pruned entry: the log is
// complete for every MODSEQ at or above it.
type ExpungeLogger interface {
	// ExpungedSince returns, in ascending order, the UIDs of the mailbox
	// expunged (or moved away) with a MODSEQ greater than since. complete
	// reports whether that list is exact: false when entries the answer
	// needs were pruned (since is below the mailbox's floor), and then the
	// caller must not take a UID's absence from the list as proof that it
	// still exists or never did. ErrNoSuchMailbox when the mailbox is not
	// one of the session's account.
	ExpungedSince(ctx context.Context, mailbox MailboxID, since ModSeq) (uids []UID, complete bool, err error)
}

// ExpungeRetention is how long the expunge log keeps an entry: a client
// that resynchronises after a longer absence gets the full answer
// (every UID it knows that no longer exists) rather than the exact one.
// The server prunes the log with [ExpungePruner] at this age.
const ExpungeRetention = 90 * 24 * time.Hour

// ExpungePruner is implemented by stores whose expunge log is pruned:
// PruneExpunged removes the entries logged before olderThan, in every
// mailbox, raising each mailbox's floor (see [ExpungeLogger]) to the
// highest MODSEQ removed from it, and returns how many it removed.
type ExpungePruner interface {
	PruneExpunged(ctx context.Context, olderThan time.Time) (int, error)
}

// ContentSharer is implemented by sessions whose store shares one stored
// content between the copies of a message. ContentID names the content a
// message refers to: two messages with the same ContentID share storage.
// Tests and diagnostics use it; protocols do not need it.
type ContentSharer interface {
	ContentID(ctx context.Context, mailbox MailboxID, uid UID) (string, error)
}

// ContentRef opens one message's stored content without another index
// lookup. Stored content is immutable, so a ref stays good for as long as
// its content exists; once the content is reclaimed (after the message
// was expunged), Open fails with ErrNoSuchMessage. Open is safe for
// concurrent use, unlike the Session that gave the ref.
type ContentRef interface {
	Open() (Content, error)
}

// ContentLocator is implemented by sessions that can resolve the content
// of many messages in one index read, for sessions that then read them
// one after another: POP3 resolves its whole snapshot at login, IMAP
// FETCH a window of messages ahead of the client.
type ContentLocator interface {
	// ContentRefs calls fn, in ascending UID order, for each UID of uids
	// present in the mailbox. ErrNoSuchMailbox when the mailbox is not
	// one of the session's account.
	ContentRefs(ctx context.Context, mailbox MailboxID, uids []UID, fn func(UID, ContentRef) error) error
	// MessageDataRefs is MessageData with each message's ContentRef.
	MessageDataRefs(ctx context.Context, mailbox MailboxID, uids []UID, fn func(MessageData, ContentRef) error) error
}

// TopDataLoader is implemented by sessions that can load the top-level
// part of each message's structure alone, which is all FETCH ENVELOPE and
// RFC822.SIZE look at and a fraction of the decoding.
type TopDataLoader interface {
	// MessageDataTop is Session.MessageData with only the top-level part
	// of each structure: Part.Parts is nil (it may be set for a single
	// UID).
	MessageDataTop(ctx context.Context, mailbox MailboxID, uids []UID, fn func(MessageData) error) error
}

// ViewDataLister is implemented by sessions that can list, without
// reading every message's structure, the messages of a mailbox whose
// stored data changes how the OpenVMS Mail view shows them: those with an
// OpenVMS envelope (MessageData.VMS) or foreign content
// (MessageData.Foreign). With Ignore-Mail11-Headers on, every other
// message is served as stored, so a POP3 login loads the structure of
// these alone (issue 15: 100,000 structures made a login take seconds).
type ViewDataLister interface {
	// ViewDataUIDs returns, ascending, the UIDs of the messages of
	// mailbox whose MessageData has VMS set or Foreign true.
	// ErrNoSuchMailbox if the mailbox is not the account's.
	ViewDataUIDs(ctx context.Context, mailbox MailboxID) ([]UID, error)
}

// Checker is implemented by stores that can check, cheaply, that they can
// serve: the index answers a read and new mail can be written where
// appends spool it. The server's /healthz calls it.
type Checker interface {
	Check(ctx context.Context) error
}

// Replacer is implemented by sessions that can replace a message in one
// transaction, as IMAP REPLACE needs (RFC 8508 §3.4: the append and the
// expunge appear as a single action, and the quota counts only the net
// change).
type Replacer interface {
	// Replace appends req to mailbox and expunges the message uid of from,
	// atomically: both happen or neither. The quota check sees the account
	// without the old message. ErrNoSuchMessage, with nothing appended or
	// removed, when uid is not in from; the errors of Append otherwise.
	Replace(ctx context.Context, mailbox MailboxID, req AppendRequest, from MailboxID, uid UID) (AppendResult, error)
}

// RetrievalKeeper is implemented by stores that record when a message was
// first retrieved over POP3, which a POP3 retention of some days needs:
// RFC 2449 §6.7 EXPIRE announces how long a client may leave retrieved
// mail on the server, so the period counts from the first retrieval.
//
// The time belongs to the message: MOVE keeps it, COPY does not (a copy
// has not been retrieved). Recording it is not a change of the message
// for IMAP: it raises no MODSEQ and publishes nothing.
type RetrievalKeeper interface {
	// MarkRetrieved records at as the first retrieval of the messages of
	// uids in the account's mailbox that have none: a later retrieval
	// keeps the first time. Missing UIDs are skipped. ErrNoSuchMailbox
	// when the mailbox is not one of the account's.
	MarkRetrieved(ctx context.Context, account AccountID, mailbox MailboxID, uids []UID, at time.Time) error
	// ExpireRetrieved expunges from the account's mailbox, in one
	// transaction, every message first retrieved before the given time,
	// foreign messages excepted (hp-system §1.6: POP never deletes them),
	// and returns their UIDs in ascending order. A message never marked
	// is never removed. The removal is an expunge like Session.Expunge:
	// logged with a new MODSEQ, announced to every session of the
	// account, its content left for Reclaim. ErrNoSuchMailbox when the
	// mailbox is not one of the account's.
	ExpireRetrieved(ctx context.Context, account AccountID, mailbox MailboxID, before time.Time) ([]UID, error)
}

// Searcher is implemented by sessions whose store keeps a search index,
// filled when a message is stored (delivery, APPEND, import; `postern
// reindex` for mail stored before the index existed), so that SEARCH
// answers header and text keys without reading message files. The
// semantics are the scan's, as internal/search defines them for the
// message as stored: a protocol server whose view of a message differs
// from the stored one (the OpenVMS Mail view) scans those messages.
type Searcher interface {
	// SearchIndex returns the messages of a mailbox whose stored form
	// matches q, and those the index cannot answer for. ErrNotIndexed
	// when it cannot answer q at all (such as a needle shorter than a
	// trigram): the caller scans every message.
	SearchIndex(ctx context.Context, mailbox MailboxID, q SearchQuery) (SearchResult, error)
}

// SearchField names the part of a message a [SearchQuery] looks in.
type SearchField int

// The fields of SEARCH keys (RFC 9051 §6.4.4) an index may answer.
const (
	// SearchFrom … SearchSubject: the envelope field's decoded text
	// (search.EnvelopeText); an empty Value matches when the field is
	// present.
	SearchFrom SearchField = iota
	SearchTo
	SearchCc
	SearchBcc
	SearchSubject
	// SearchHeader: the decoded value of a top-level header field named
	// Name, compared case-insensitively (search.FieldValue); an empty
	// Value matches when such a field exists.
	SearchHeader
	// SearchBody: the decoded text parts (search.Texts), ASCII letters
	// compared case-insensitively.
	SearchBody
	// SearchText: the top-level header's lines "Name: decoded value"
	// (search.FieldLine, compared as the header keys), or the body, as
	// SearchBody.
	SearchText
)

// SearchQuery is one SEARCH key for [Searcher.SearchIndex].
type SearchQuery struct {
	Field SearchField
	Name  string // SearchHeader: the field name
	Value string // the string as the client sent it: the store folds it
}

// SearchResult is what [Searcher.SearchIndex] found. Each list is in
// ascending UID order.
type SearchResult struct {
	// Matched are the indexed messages that match.
	Matched []UID
	// Unindexed are the messages the index holds nothing for (stored
	// before it, or too large to index): the caller reads them.
	Unindexed []UID
	// VMS are the messages that carry an OpenVMS envelope (whose view may
	// rebuild the header): they may be in Matched as stored, and a
	// server that shows them otherwise reads them.
	VMS []UID
}

// Reindexer is implemented by stores whose search index can be rebuilt
// for the messages stored before it, or whose index entry is missing
// (`postern reindex`). Reindex is resumable: it indexes what has no
// entry, in batches that each commit, so a run that stops keeps its
// work, and a second run finds nothing to do.
type Reindexer interface {
	// Reindex indexes the stored contents of the messages of one account
	// (all accounts when account is 0) that have no index entry (copies
	// of a message share one), calling progress after
	// each batch with the counts so far.
	Reindex(ctx context.Context, account AccountID, progress func(ReindexProgress)) (ReindexProgress, error)
}

// IndexFlusher is implemented by stores that fill their search index
// after a message is acknowledged, in the background. Until a message is
// indexed, [Searcher.SearchIndex] reports it in Unindexed, so searches
// stay exact; FlushIndex is for callers that need the index itself
// filled, such as tests that compare the index with the scan.
type IndexFlusher interface {
	// FlushIndex indexes every message waiting for the search index
	// when it is called, and returns when none of them waits.
	FlushIndex(ctx context.Context) error
}

// ReindexProgress counts a Reindex run's work.
type ReindexProgress struct {
	Done    int // stored contents indexed so far
	Skipped int // contents that could not be read or parsed: still scanned
	Total   int // contents to index when the run started
}

// KeptHeaderFields names the top-level header fields a [HeaderKeeper]
// keeps raw: those the OpenVMS Mail view derives an envelope from
// (mail11.DeriveEnvelope) and References, which THREAD=REFERENCES and
// REFS read (RFC 5256 §2.2), so that neither opens message files.
var KeptHeaderFields = []string{
	"Resent-Reply-To", "Resent-From", "Reply-To", "Resent-Sender", "Sender", "Return-Path",
	"From", "To", "Cc", "Subject", "References",
}

// HeaderKeeper is implemented by sessions whose store keeps, for each
// message, its top-level header fields named in [KeptHeaderFields], raw
// and in order, from when the message was stored.
type HeaderKeeper interface {
	// KeptHeaders calls fn, in ascending UID order, for each UID of uids
	// present in the mailbox whose fields are kept, with a header holding
	// exactly the stored header's fields of those names, in their order.
	// Messages stored before the store kept them are skipped: the caller
	// reads their header.
	KeptHeaders(ctx context.Context, mailbox MailboxID, uids []UID, fn func(UID, message.Header) error) error
}
