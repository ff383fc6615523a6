// Package sqlite is Postern's embedded default mail store: an index in
// SQLite (modernc.org/sqlite, pure Go, no cgo) and one immutable file per
// message content. It implements store.Store, and its sessions implement
// store.Session, store.ExpungeLogger and store.ContentSharer, and the
// Store implements store.ExpungePruner. No SQLite type leaves this package.
//
// # Layout on disk
//
// Under the data directory (directories 0700, files 0600):
//
//	index.db, -wal, -shm   the index: accounts, mailboxes, subscriptions,
//	                       content rows, message rows, the expunge log
//	msg/<xx>/<id>          content files, CRLF-normalised and never changed;
//	                       <id> is 32 random hex digits, <xx> its first two
//	tmp/                   spool files of appends in progress
//	locks/index.lock       flock: shared by every open Store
//	locks/<account>.pop    flock: the account's POP3 maildrop lock
//	locks/reclaim.lock     flock: held shared by a backup or a verify,
//	                       taken exclusive (without waiting) by Reclaim
//	lost+found/            orphan content files verify --repair moved aside
//
// The index runs in WAL mode with synchronous=FULL, foreign keys on and a
// busy timeout for other processes' locks. Its schema version is PRAGMA
// user_version; migrations (schema.go) bring an older index up to date, one
// version per transaction, and an index newer than the program is refused.
//
// # Durability protocol (Append)
//
// Acknowledged means durable; a crash at any instant loses nothing
// acknowledged and leaves nothing half-visible.
//
//  1. Stream each request through message.NewCRLFReader (or as it is,
//     for AppendRequest.Exact) into a new file in tmp/, while a second goroutine parses the same bytes
//     (message.Parse, over an io.Pipe), the size is counted against
//     MaxSize (store.ErrTooBig) and SHA-256 is computed. Memory stays flat.
//  2. Rename the file to msg/<xx>/<id>, then fsync it and msg/<xx>
//     (renaming first lets one journal commit carry both; a crash before
//     the fsyncs leaves a file no row names, removed as below).
//     No lock is held during steps 1 and 2.
//  3. In one short IMMEDIATE transaction on the single writer connection:
//     check the mailbox and the import keys (store.ErrDuplicate), insert
//     the content rows (size, hash, marshalled message.Part, OpenVMS
//     envelope), their search_pending rows and the message rows, assign
//     UIDs from UIDNEXT and one new MODSEQ, and commit. synchronous=FULL
//     makes the commit durable.
//  4. Only then publish store.ChangeAdd to the account's other sessions,
//     wake the search indexer (indexer.go), and return. The indexer
//     writes the contents' search index rows later, in batches; until
//     then SEARCH scans them.
//
// A multi-request Append spools every request first and indexes them all
// in the one transaction, so all are added or none. If anything fails
// before the commit, the files written are removed. If the COMMIT itself
// fails the files are left, since the commit may still have reached the
// disk; the orphan sweep below removes them if it did not.
//
// # Crash recovery
//
// A crash before step 3 commits leaves a file in tmp/ or a content file
// that no content row names. Open removes both kinds, but only when it
// finds no other Store holding the directory (locks/index.lock taken
// exclusively), because another process's appends in flight look the
// same. Reclaim removes such orphans too, once they are older than
// orphanGrace, and skips this process's appends in flight.
//
// Messages refer to content rows, which count their references through
// triggers; COPY adds a message row for the same content. Expunge,
// DeleteMailbox and DeleteAccount only remove message rows. Reclaim
// deletes the content rows whose count is 0 in a transaction and then
// their files; a crash in between leaves orphans for the sweep. Content
// names are never reused, so a file is never replaced in place.
//
// # Concurrency
//
// All writes go through one connection (a database/sql pool of one), in
// IMMEDIATE transactions, so they are serialised in this process and
// hold SQLite's write lock against other processes for their whole
// (short) length. Nothing slow happens inside: no client I/O, no content
// fsync. Reads use a separate pool of query-only connections; in WAL mode
// they never block the writer nor are blocked by it. Changes are queued
// during a transaction and published after it commits, in commit order.
// MessageData reads in chunks and calls its callback between queries, so
// no read transaction stays open while a client is written to.
//
// # Changes from other processes
//
// A postern deliver process writes to the index while postern serve runs.
// With Options.WatchInterval > 0 a goroutine checks PRAGMA data_version on
// the writer connection at that interval. That value changes exactly when
// another connection, that is another process or Store, has committed.
// It then compares every mailbox's name, UIDNEXT and HIGHESTMODSEQ with the
// last known state, and publishes what changed: ChangeMailbox for mailboxes
// created, renamed or deleted; for mailboxes of accounts with open
// sessions, ChangeAdd for messages at or above the old UIDNEXT with a newer
// MODSEQ, ChangeFlags for the older ones, and ChangeExpunge from the expunge
// log. Each write transaction of this process does the same check at its
// start, which keeps the attribution exact: other processes' changes are
// published before this process's own, and never taken for them.
//
// Limits of the watch:
//   - Latency is up to WatchInterval, or until this process's next write.
//   - Intermediate states are folded: a message added and expunged between
//     two looks is never announced, and a flag changed twice is announced
//     once, with its last state.
//   - Subscription changes by other processes are not announced.
//   - Each look reads the whole mailbox table, so its cost grows with the
//     number of mailboxes on the server; it runs only after another
//     process committed.
//   - Changes are published to the sessions of this process only; the
//     writing process publishes its own changes to its own sessions.
//
// # Invariants
//
//   - A content file becomes reachable only through a committed row; a
//     row never names a file that was not fsynced first.
//   - UIDs are assigned from UIDNEXT inside the write transaction, so they
//     strictly ascend in commit order and are never reused; a mailbox that
//     is deleted and created again has a new UIDVALIDITY (and a new ID,
//     since IDs come from AUTOINCREMENT).
//   - Every change to a mailbox's messages raises its HIGHESTMODSEQ by one
//     and gives that MODSEQ to every message it changed; expunged UIDs are
//     logged with it, and the time, in the expunged table. A flag change
//     that changes nothing leaves the MODSEQ alone.
//   - The expunge log is complete above each mailbox's expunge_floor:
//     PruneExpunged raises the floor to the highest MODSEQ it removes, in
//     the transaction that removes it, and ExpungedSince reports an answer
//     for a MODSEQ below the floor as incomplete.
//   - The EmailID is the message row's ID: MOVE and the INBOX rename update
//     the row and keep it; COPY inserts a row and gets a new one.
package sqlite
