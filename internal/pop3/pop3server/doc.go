// Package pop3server is Postern's POP3 server: RFC 1939 with the
// extensions modern clients expect, and the behaviour and options of the
// POP server of HP TCP/IP Services for OpenVMS (hp-system.md §§1, 2, 4, 5).
//
// # Standards
//
//   - RFC 1939: USER, PASS, APOP, STAT, LIST, RETR, DELE, NOOP, RSET, TOP,
//     UIDL, QUIT; the AUTHORIZATION → TRANSACTION → UPDATE states.
//   - RFC 2449: CAPA (TOP, UIDL, USER, SASL, STLS, EXPIRE, LOGIN-DELAY,
//     RESP-CODES, AUTH-RESP-CODE, PIPELINING, IMPLEMENTATION); 255-octet
//     command lines; 40-octet arguments (PASS and AUTH's initial response
//     exempt); EXPIRE 0 enforced at QUIT, EXPIRE N (days) at login from
//     the first retrieval the store records (store.RetrievalKeeper),
//     LOGIN-DELAY with [LOGIN-DELAY].
//   - RFC 2595: STLS. Implicit TLS (port 995) arrives as a *tls.Conn from a
//     tls.NewListener.
//   - RFC 5034: AUTH with SASL-IR style initial responses, PLAIN
//     (RFC 4616), LOGIN (draft-murchison-sasl-login-00), OAUTHBEARER
//     (RFC 7628) and XOAUTH2 (with [OAuth], under TLS or loopback) and SCRAM-SHA-256
//     (RFC 7677); "*" cancels.
//   - RFC 3206: [AUTH], [SYS/TEMP], [SYS/PERM]; RFC 2449 [IN-USE].
//   - The original's XTND CLIENT, LOGLEVEL, STATS and SHUTDOWN (seed
//     Table 19-3), for accounts with the admin flag.
//
// # Invariants
//
//   - One goroutine owns a conn; nothing else touches its fields.
//   - The maildrop is a snapshot taken at login under the account's
//     maildrop lock (store.Session.LockMaildrop): message numbers, sizes
//     and UIDLs do not change during the session, whatever IMAP, LMTP or
//     another process do. Changes from other sessions are only used to mark
//     messages they removed, whose RETR/TOP then get "-ERR message N was
//     removed by another session".
//   - DELE only marks. The store is changed only in the UPDATE state, after
//     QUIT from TRANSACTION: expunge the marked messages, then move read,
//     undeleted mail from INBOX to Mail, then Purge-Reclaim. A dropped
//     connection, a timeout or a server shutdown commits nothing.
//   - The lock is released before the sign-off line is sent, so a client
//     that reconnects at once finds the maildrop free.
//   - Every size the client is told (STAT, LIST, RETR's "+OK n octets")
//     equals the octets RETR sends before byte-stuffing. Every read of a
//     message goes through conn.view, which fixes at login, once per
//     message, the header bytes the server sends (Send-ID-Headers, or the
//     header the Mail11 view rebuilds), the stored octets it leaves out
//     (an imported VMS message's empty header block) and the total size,
//     so the sizes stay exact whatever the view. Bodies are streamed from
//     the store, never loaded whole.
//   - State gating happens in dispatch, from the table in commands.go,
//     never in handlers; dispatch is the one epilogue that maps errors to
//     replies, logs and observes metrics.
//   - Passwords, APOP digests and SASL payloads never reach a trace file
//     or a log below the traceauth level.
//   - A panic is a bug: it is recovered per connection, logged with its
//     stack, counted in postern_pop3_panics_total, and the connection is
//     closed. Tests fail on any.
//
// # Decisions where the original was silent ([INF] in hp-system.md)
//
//   - UIDL: "<account>.<arrival yyyymmddhhmmss UTC>.<EmailID>", e.g.
//     "alice.20261125201247.42": the original's user name plus arrival
//     date, made unique by the EmailID, which MOVE between INBOX and Mail
//     keeps. At most 70 octets (the name is cut if needed). A message
//     imported with the old server's unique-id (store.UIDLKeeper) is
//     served under that one.
//   - Sign-off: "+OK Postern POP server at HOST signing off." (the
//     original: "+OK TCPIP  POP server at HOST signing off.").
//   - Greeting: "+OK POP server Postern Version V, OS at HOST, up since
//     yyyy-mm-dd hh:mm:ss <RANDOM.CID_D_MON_YYYY_HH_MM_SS@HOST>"; the
//     timestamp is unique per connection (per-start random part and the
//     process-wide connection id).
//   - "Read" means RETR. TOP, even of every line, does not move mail to
//     Mail at QUIT. RSET unmarks deletions but not reads.
//   - Message-Maximum n: the session's snapshot holds only the oldest n
//     messages of the maildrop; the rest are invisible until a later
//     session.
//   - SECURE wording: one text, "-ERR [AUTH] access denied", for every
//     failed login (unknown user, wrong password, refused account), since
//     the original's two texts would tell names apart. FRIENDLY: the
//     unknown name is refused at USER; each failure names its reason.
//   - Max-Auth-Attempts counts failed PASS, APOP and AUTH (and USER of an
//     unknown name in FRIENDLY mode); the last failure's reply ends with
//     "; too many failures, closing connection" and the connection closes.
//   - Fast-Scan is accepted and ignored: sizes are always exact, because
//     the store records them at delivery.
//   - A message whose last line lacks CRLF: the size counts the stored
//     octets, and the CRLF before the final "." is part of the terminator.
//   - Maximum-Threads: a client over the cap gets "-ERR [SYS/TEMP] too many
//     POP3 sessions; try again later" at once and is closed, counted as
//     Too Many Threads.
//   - An unknown command as the first command closes the connection
//     (cross-protocol attacks); later, ten unknown, out-of-state or
//     over-long commands in a row do.
package pop3server
