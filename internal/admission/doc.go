// Package admission is the one door every listener goes through: IMAP,
// POP3, submission, inbound SMTP and LMTP accept their connections from an
// admission [Listener] and never see the failures and floods it absorbs.
//
// It owns three things:
//
//   - Accept that never dies. Temporary and resource-exhaustion errors
//     (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, EINTR, timeouts) are
//     retried with a back-off of 5 ms doubling to 1 s. At the descriptor
//     limit a [Reserve] of spare descriptors lets the listener still take
//     one waiting client, answer it with the protocol's temporary reply
//     and close it, instead of leaving clients to hang in the backlog. Any
//     other accept error is a failed listener: it is counted
//     (postern_listener_failures_total), reported (Options.OnFailure, the
//     event log's LISTENER line) and the listener is re-created on the
//     same address after a back-off of up to 30 s, as often as needed.
//
//   - Connection admission shared by all protocols ([Table]): caps on
//     connections per IPv4 address or IPv6 /64 (Max-Connections-Per-IP),
//     on connections that have not authenticated yet (Max-Preauth-Per-IP),
//     on all connections of a service (Service-Limit), and an optional
//     rate per address. A refused client gets the protocol's temporary
//     reply (IMAP "* BYE [UNAVAILABLE]", POP3 "-ERR [SYS/TEMP]", SMTP and
//     LMTP "421 4.7.0") on plaintext ports; implicit-TLS ports are closed
//     without a reply, since no handshake is spent on a refused client.
//     Loopback is not exempt; addresses in Trusted-Networks are.
//
//   - The pre-authentication deadline. A [Conn] that has not been marked
//     [Authenticated] cannot set a read deadline later than its accept
//     time plus Options.PreauthLimit, so a client trickling one byte at a
//     time (slowloris) is disconnected however it paces its input.
//
// Graceful stop stays in package drain: admission decides who gets in,
// drain tracks who is in and ends them on Shutdown.
//
// Invariants: every Conn returned by Accept holds exactly one slot in its
// Table and releases it exactly once, on its first Close. A Conn moves
// from pre-auth to authenticated at most once. The Listener's lock is
// never held across a blocking call other than the accept itself.
package admission
