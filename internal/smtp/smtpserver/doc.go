// Package smtpserver is Postern's SMTP side: message submission (RFC 6409)
// on the submission port with STARTTLS (RFC 3207) and on the submissions
// port over implicit TLS (RFC 8314), inbound SMTP (RFC 5321) for the local
// domains, and LMTP (RFC 2033) for an MTA in front of us.
//
// The wire is this package's own (conn.go, commands.go, parse.go,
// dotreader.go): the command loop, the replies, DATA and BDAT framing
// (RFC 3030 CHUNKING), the ESMTP parameters (RFC 1870 SIZE, RFC 6152
// 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING, RFC 2034
// ENHANCEDSTATUSCODES) and the AUTH exchange (RFC 4954). It replaced
// emersion/go-smtp's server (v0.25.1) for issue 12: that server closed the
// connection without a reply on a DATA line over its line limit, could not
// parse a SIZE beyond 32 bits (501 instead of 552), echoed raw EHLO bytes,
// and its BDAT goroutine read the session after teardown had cleared it
// (a nil dereference any unauthenticated client could trigger). go-smtp
// remains for its reply and option types and for the queue's client.
// session.go, deliver.go and receive.go own the meaning: who may send, who
// may receive, and what an accepted message becomes.
//
// The three modes differ only in policy, never in code path:
//
//   - Submission: AUTH (PLAIN, LOGIN, SCRAM-SHA-256 from internal/auth;
//     OAUTHBEARER and XOAUTH2 with [OAuth], under TLS or loopback only) is
//     required before MAIL, and offered only under TLS or on loopback unless
//     AllowPlaintextAuth is set; the envelope sender must belong to the
//     authenticated account; Date and Message-ID are added when missing;
//     local recipients are delivered, remote ones queued.
//   - Inbound: no AUTH; only local-domain recipients (never an open
//     relay); per-IP connection caps and rates.
//   - LMTP: like inbound, with one reply per recipient after DATA.
//
// Invariants:
//
//   - A 250 reply (per recipient in LMTP) is sent only after
//     delivery.Deliverer.Deliver returned nil for every local target of the
//     recipient and the queue's Enqueue returned nil for every remote one:
//     both return only once the message is fsync'd and indexed.
//   - Delivery is one path: this package never writes to the store; it
//     calls internal/delivery.
//   - Unknown recipients are refused at RCPT (550 5.1.1), so an accepted
//     message never bounces for that reason.
//   - DATA and BDAT content is always read to its end, whatever is wrong
//     with it, so the session stays in step: a bare CR, a bare LF or a NUL
//     gets 550 5.6.0, a line over 2,000 octets 500 5.5.2, a message over
//     the size limit 552 5.3.4 (per recipient in LMTP), and nothing is
//     stored. Only "<CR><LF>.<CR><LF>" ends DATA, so "<LF>.<LF>" smuggling
//     cannot split a message.
//   - BDAT runs on the connection's goroutine: chunks go straight into the
//     receiver, so no other goroutine ever sees the session.
//   - Whatever a client pipelined after STARTTLS is dropped with the
//     plaintext read buffer.
//   - Every message taken in gets a Received header (RFC 5321 §4.4).
//   - The seam for DKIM signing and SPF/DKIM/DMARC checks is
//     Options.Inspect: it sees the spooled message before any delivery
//     and may prepend header fields and drop received ones (internal/app
//     wires internal/msgauth into it; docs/mail-auth.md).
package smtpserver
