// Package store declares Postern's mail store: the domain types (accounts,
// mailboxes, messages, UIDs, MODSEQs, flags), the interfaces every store
// implementation provides, the sentinel errors that cross the seam, and the
// change events that keep concurrent sessions of one account consistent.
//
// It knows no IMAP tokens, SMTP codes or SQL types. The embedded default
// implementation lives in store/sqlite; store/storetest is the conformance
// suite every implementation passes.
//
// # Model
//
// An [Account] owns mailboxes. A mailbox has a UIDVALIDITY fixed at
// creation, a UIDNEXT, and a HIGHESTMODSEQ. Every message in a mailbox has a
// UID, strictly ascending in order of arrival and never reused within one
// UIDVALIDITY (RFC 9051 §2.3.1.1), a MODSEQ (RFC 7162) raised by every change
// to it, flags, an INTERNALDATE and a size. A message's content is an
// immutable file written once; COPY and MOVE share that file rather than
// duplicating it. Each message also carries an [EmailID] that survives MOVE
// (RFC 8474 EMAILID), which is what POP3 UIDL is derived from.
//
// # Invariants
//
//   - Acknowledge only what is durable: Append returns nil only after the
//     content file and the index entry are both fsync'd and committed.
//   - Commit before broadcasting: a [Change] is published only after the
//     transaction that made it has committed, and in commit order per account,
//     whichever process committed it.
//   - Ordering contract: UIDs are assigned in commit order, so the
//     [ChangeAdd] events of one mailbox reach every subscriber in strictly
//     ascending UID order. A store whose writers can publish out of commit
//     order must restore the order before delivery. The IMAP view still
//     tolerates additions out of UID order within what it has not
//     announced yet (a session's own resync reads messages whose changes
//     are still queued; two nodes' deliveries may interleave): a known UID
//     is ignored, an unknown one is placed in UID order; only one that
//     would sort before a message the client was already told of waits
//     for the next SELECT (RFC 9051 §2.3.1.1).
//   - Flags and expunges are decided by the store at commit time, never from
//     a copy a session holds: [Session.StoreFlags] applies +FLAGS/-FLAGS as
//     set operations to the stored flags inside one transaction, and
//     [Session.ExpungeDeleted] removes what carries \Deleted when it
//     commits.
//   - Recency (RFC 3501 §2.3.2) is a claim, not a flag: each mailbox keeps
//     the lowest UID no session has claimed, and [Session.ClaimRecent] moves
//     it to UIDNEXT in one transaction, so no message is ever claimed twice.
//     Claims change no MODSEQ and publish no change.
//   - A message's MODSEQ rises with every change to it, so of two states of
//     one message the one with the higher MODSEQ is the newer; a session
//     merging [ChangeFlags] (which may arrive after it read a newer state
//     itself) keeps the higher one and never shows a MODSEQ going back.
//   - Publishing never blocks on a slow subscriber: each subscription has its
//     own unbounded queue, drained by its owner.
//   - MODSEQ values of one mailbox strictly increase; an expunged UID is
//     recorded with the MODSEQ of its expunge (for QRESYNC).
//   - Quota (optional, [QuotaKeeper]): an account's usage is exact at every
//     commit, and the limits are checked in the transaction that adds
//     messages (Append, Copy), so concurrent writers never pass a limit
//     together; a refused write adds nothing and fails with ErrOverQuota.
//   - No session ever sees a half-written message: a content file becomes
//     reachable only through a committed index row.
//   - Callers must never hold a store lock (such as a [Maildrop] lock) while
//     blocked writing to a network client for longer than a command.
package store
