// Package imapserver is Postern's IMAP server: IMAP4rev2 and IMAP4rev1 on
// one connection loop, with the extensions today's clients rely on, and the
// options of the OpenVMS TCP/IP Services IMAP server (hp-system.md §6–§8).
//
// # Specifications
//
//   - RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1: every command of each;
//     rev2 behaviour after ENABLE IMAP4rev2 (ESEARCH results, LIST in
//     SELECT, no \Recent, UTF-8 mailbox names).
//   - RFC 2177 IDLE, RFC 2342 NAMESPACE, RFC 4315 UIDPLUS, RFC 6851 MOVE,
//     RFC 3691 UNSELECT, RFC 7888 LITERAL+, RFC 4959 SASL-IR, RFC 5161
//     ENABLE, RFC 2971 ID, RFC 3348 CHILDREN, RFC 6154 SPECIAL-USE and
//     CREATE-SPECIAL-USE, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS,
//     RFC 4731 ESEARCH, RFC 5182 SEARCHRES, RFC 8438 STATUS=SIZE, RFC 7889
//     APPENDLIMIT, RFC 3502 MULTIAPPEND, RFC 3516 BINARY, RFC 6855
//     UTF8=ACCEPT (ENABLE only), RFC 7162 §3.1 CONDSTORE (cmd_condstore.go)
//     and §3.2 QRESYNC (cmd_qresync.go), RFC 5256 SORT and THREAD with RFC
//     5957 SORT=DISPLAY and RFC 5267 §3 ESORT (cmd_sort.go, cmd_thread.go),
//     RFC 5267 §4 CONTEXT=SEARCH and CONTEXT=SORT (cmd_context.go),
//     RFC 4978 COMPRESS=DEFLATE, RFC 8508 REPLACE (cmd_replace.go), RFC
//     4469 CATENATE with RFC 5092 URLs (cmd_catenate.go), RFC 5465 NOTIFY
//     (cmd_notify.go; between commands, notify_wait.go), RFC 5464 METADATA
//     (cmd_metadata.go), RFC 8970 PREVIEW (preview.go), RFC 8474 OBJECTID
//     (objectid.go), RFC 9586 UIDONLY (uidonly.go), RFC 9585 INPROGRESS
//     (progress.go).
//   - AUTH=PLAIN (RFC 4616) and AUTH=SCRAM-SHA-256 (RFC 7677) through
//     internal/auth; STARTTLS, and LOGINDISABLED on an unencrypted
//     connection that is not loopback (RFC 9051 §6.2.3). AUTH=OAUTHBEARER
//     (RFC 7628) and AUTH=XOAUTH2 when [OAuth] is set, under TLS or on
//     loopback only.
//
// # Structure (STYLE.md B2)
//
// server.go holds Options, New (with the boot-time capability check of
// capability.go), Serve and Shutdown; conn.go the connection loop; commands.go
// the dispatch table and the one epilogue; state.go the states;
// errors.go the three error classes; cmd_*.go the handlers; selected.go the
// selected-mailbox view; recent.go the RFC 3501 \Recent of IMAP4rev1
// sessions, claimed through the store; view.go the one function every message read goes
// through (Send-ID-Headers and the OpenVMS Mail view of internal/mail11);
// respond.go the responses several handlers share; search_key.go the
// SEARCH key tree compiled from imapwire's. imapwire is the only IMAP
// grammar and the only encoder: every handler parses its arguments with an
// imapwire Parse…Args function (commands_test.go checks that the dispatch
// table and imapwire's command list agree), and every byte the server
// writes goes through the connection's imapwire.Encoder.
//
// # Invariants
//
//   - One goroutine owns a connection. Shutdown touches it only through an
//     atomic flag and a read deadline; the IDLE line reader owns the
//     buffered reader until it hands its line back over a channel.
//   - The state is checked in dispatch, from the table, never in handlers.
//   - Store changes from other sessions reach the client only through
//     sendUpdates, called by the epilogue of a command in the selected
//     state, and by IDLE. EXPUNGE is never sent while answering FETCH,
//     STORE or SEARCH (RFC 9051 §7.5.1): an expunged message keeps its
//     sequence number as a "gone" entry until then, so sequence numbers
//     always agree with the client's.
//   - The view is changed only by the connection's own commands and by
//     sendUpdates; a session does not receive its own changes, so APPEND,
//     COPY and MOVE into the selected mailbox resynchronise the view.
//   - The view only renders what the store committed. STORE, the \Seen a
//     FETCH sets, EXPUNGE, UID EXPUNGE and CLOSE are decided by the store
//     from the flags it holds (store.Session.StoreFlags, ExpungeDeleted),
//     never from the view's copy; the states the store returns and the
//     changes of other sessions are merged by MODSEQ (selected.merge), so
//     an older state never replaces a newer one. The view's copy may only
//     hint the cost (store.FlagRequest.ExpectChange, viewExpectsChange).
//   - No store read is open while writing to the client: FETCH and SEARCH
//     load a batch of structures, then write.
//   - Message bodies are streamed from the store's content with
//     io.SectionReader; a literal from the client is read to its end into
//     memory (small) or a temporary file, and never without consent: an
//     APPEND literal over APPENDLIMIT is refused with [TOOBIG] before any
//     byte of it is read, and a command line is bounded by MaxLineLength.
//   - Passwords never reach a trace file: the trace reader redacts LOGIN
//     arguments, AUTHENTICATE initial responses and exchanges, and the
//     literals that carry them.
//   - Label values of metrics come from the dispatch table or a fixed set.
package imapserver
