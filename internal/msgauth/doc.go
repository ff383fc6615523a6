// Package msgauth is Postern's mail authentication: DKIM signing of
// submitted mail (RFC 6376, RFC 8463) with keys kept in the store, and
// the checks of inbound mail — SPF (RFC 7208), DKIM verification and
// DMARC (RFC 7489) — summarised in an Authentication-Results header field
// (RFC 8601). The protocol work is emersion/go-msgauth's (DKIM, DMARC
// records, Authentication-Results) and blitiri.com.ar/go/spf's; this
// package chooses keys, bounds every check in time, decides alignment and
// policy, and maps results to SMTP replies. docs/mail-auth.md records the
// decisions.
//
// Invariants:
//
//   - Every DNS query goes through the one *net.Resolver the caller gives
//     (the [SMTP] Resolver option), under a deadline: no check can hang a
//     transaction.
//   - A failure to sign never refuses a message: it goes unsigned, and
//     the failure is logged (the sender's mail is never lost for it).
//   - A DNS failure is a temperror, never a pass: with Dmarc-Reject on, a
//     DMARC temperror is answered 451 4.7.0 so the sender retries.
package msgauth
