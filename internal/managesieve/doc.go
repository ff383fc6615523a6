// Package managesieve is Postern's ManageSieve server (RFC 5804): users
// upload, check, list, fetch, rename, delete and activate their Sieve
// scripts, which live in the store (store.SieveKeeper) and run at
// delivery (internal/delivery, internal/sieve).
//
// States: not authenticated (CAPABILITY, STARTTLS, AUTHENTICATE, NOOP,
// LOGOUT) and authenticated (every command but STARTTLS and
// AUTHENTICATE). SASL goes through the same authenticator as IMAP; PLAIN
// is offered and accepted only over TLS or loopback unless
// AllowPlaintextAuth (the IMAP rule), SCRAM-SHA-256 always.
//
// Invariants: one goroutine owns a connection; no command line part other
// than a literal exceeds maxLine; a literal larger than the script size
// limit is read and dropped, never kept (RFC 5804 §4: non-synchronising
// literals cannot be refused before they arrive); a script is stored only
// if it compiles.
package managesieve
