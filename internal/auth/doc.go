// Package auth verifies credentials for the POP3, IMAP and SMTP servers:
// password hashing, the SASL mechanisms PLAIN, LOGIN and SCRAM-SHA-256,
// APOP, the account rules of the original (DISUSER, DISMAIL, expiry), and
// throttling of repeated failures.
//
// # Standards
//
//   - RFC 4616: PLAIN. An authorization identity must be empty or equal
//     to the authentication identity, unless Options.AdminImpersonation
//     lets an administrator act as another account (impersonate.go).
//   - draft-murchison-sasl-login-00: LOGIN, challenges "Username:" and
//     "Password:". A user name sent as initial response is accepted.
//   - RFC 5802 and RFC 7677: SCRAM-SHA-256, server side, without channel
//     binding (SCRAM-SHA-256-PLUS is not offered: a GS2 flag "y" is
//     accepted, "p=" refused with ErrChannelBinding).
//   - RFC 1939 §7: APOP, MD5 of the greeting timestamp and the shared
//     secret (the original's POP_SECRET.DAT, hp-system.md §1.5).
//   - RFC 4013: SASLprep, applied to passwords; see [PreparePassword].
//   - RFC 9106: argon2id, stored in the PHC string format. bcrypt hashes
//     are verified for accounts migrated from other systems, and replaced
//     on the next password login through Options.Upgrade.
//
// Accounts come from the [Source]s given in Options, asked in order; the
// store's accounts are [LocalSource]. Throttling, the cache, the attempt
// report and the account rules are the Authenticator's, the same for every
// source (docs/accounts.md).
//
// A [Mechanism] exchanges raw bytes. Framing belongs to each protocol:
// base64, "*" to cancel and "=" for an empty initial response are in
// RFC 4954 §4 (SMTP AUTH), RFC 5034 §4 (POP3 AUTH) and RFC 9051 §6.2.2
// with RFC 4959 (IMAP AUTHENTICATE and SASL-IR). Where a success reply
// cannot carry data, SCRAM's server-final message goes out as one more
// challenge answered by an empty response.
//
// # Errors
//
// Every verdict is a sentinel from errors.go. All "wrong credentials"
// errors wrap [ErrBadCredentials]; [ErrUnknownUser] is distinguishable only
// for logs and FRIENDLY wording, and SECURE mode must answer it exactly like
// a wrong password (hp-system.md §1.4: SECURE says +OK to any USER and
// "access denied" after PASS). Account flags are checked only after the
// credentials are verified, so only the account's owner learns that it is
// disabled, expired or barred from mail. [Result] turns an error into a
// fixed label for metrics.
//
// # Invariants
//
//   - Secrets are never logged: not passwords, SASL payloads, digests,
//     proofs, hashes, salts or keys. Log lines carry the mechanism, the user
//     name given, the remote address and the result only. Protocol trace
//     logs must redact AUTH, PASS, APOP and LOGIN arguments themselves.
//   - Secrets are compared in constant time (crypto/subtle, bcrypt).
//   - No user enumeration by answer or, where feasible, by timing: an
//     unknown user's password is hashed against a dummy hash of the same
//     cost; SCRAM runs a full fake exchange with a salt derived from the
//     name and a per-process secret, so it is stable across attempts;
//     APOP computes the digest against a fake secret. What remains: a
//     SCRAM account whose stored iteration count differs from the default
//     shows that count, and store lookups may differ in speed.
//   - Throttling is keyed by remote address (IPv6 by /64), never by
//     account, so no one can lock a user out; a correct password from an
//     address with no failures is never delayed. The delay is taken
//     before the credentials are checked, so it cannot be skipped by
//     timing out a failure reply. The table is bounded.
//   - Argon2 computations are bounded by Hasher.MaxConcurrent (derived by
//     [HashConcurrency] from GOMAXPROCS and a memory budget), so a burst of
//     logins cannot exhaust memory (64 MiB each by default); once the queue
//     has been quiet for a second after a burst, that memory goes back to
//     the system (hashmem.go).
//   - The verified-credentials [Cache] keeps only an HMAC of (account,
//     stored hash, password) under a per-process random key (RFC 2104),
//     compared in constant time. It answers only the password check: the
//     account is read from the store and its flags checked on every login,
//     the throttle waits before the cache is consulted, only successful
//     logins are cached, and a changed stored hash misses. Concurrent
//     attempts with the same credentials share one verification.
//   - The package never writes to the store; credential upgrades go
//     through the Options.Upgrade callback.
package auth
