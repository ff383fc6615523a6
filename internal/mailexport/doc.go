// Package mailexport writes an account's mail out for `postern export`,
// in forms other servers and clients read, so that leaving Postern is as
// easy as arriving (docs/migration.md, "Export").
//
// # Maildir
//
// The export directory is a Maildir in Dovecot's default layout
// (Maildir++): INBOX is the directory itself, every other mailbox a
// ".Level.Level" directory beside cur/, each level encoded in modified
// UTF-7 (RFC 3501 §5.1.3) with '.' and '\' escaped as "\2e" and "\5c"
// (Dovecot's listescape form). Each message is a file in cur/ named
// "<internal date>.P<EmailID>Q<UID>.postern,S=<file size>,W=<size>:2,<flags>"
// (flags: D F R S T in ASCII order, then the keyword letters), written
// to tmp/ and renamed, with LF line endings (the store's CRLF made LF;
// foreign, binary, messages exactly as stored) and the internal date as
// its modification time. Beside them, as Dovecot keeps them:
// dovecot-uidlist (version 3: the mailbox's UIDVALIDITY and UIDNEXT, each
// message's UID, and its kept POP3 unique-id as a P field),
// dovecot-keywords (the first 26 keywords of the mailbox; others are left
// out and counted) and, at the top, subscriptions. Dovecot (and `postern
// import --format dovecot`) then keeps the UIDs clients know.
//
// # mbox
//
// One mboxrd file per mailbox (RFC 4155): DIR/INBOX.mbox,
// DIR/Archive/2020.mbox. Each message begins with "From MAILER-DAEMON
// <asctime internal date, UTC>"; lines matching ^>*From  get one more
// '>'; line endings are LF. Flags go into Status: (R for \Seen, O) and
// X-Status: (A F D T for \Answered \Flagged \Deleted \Draft) header
// fields and keywords into X-Keywords:, prepended to the message's own
// header, as mutt and Dovecot write them. Each file is written whole to a
// temporary name and renamed.
//
// Both are idempotent: a second export into the same directory writes
// only what changed (Maildir: new messages, and a file renamed when its
// flags changed) or rewrites each mbox file atomically.
package mailexport
