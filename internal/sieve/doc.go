// Package sieve parses, checks and runs Sieve mail filtering scripts
// (RFC 5228). It is pure: a script, a message's header, size and SMTP
// envelope go in; a list of actions comes out. Carrying the actions out
// (storing, redirecting, answering) is internal/delivery's job.
//
// Three stages, each bounded:
//
//   - [Parse] turns script text into a syntax tree (RFC 5228 §8). It refuses
//     scripts larger than [MaxScriptSize] and blocks or test lists nested
//     deeper than [MaxNesting], so no input can exhaust the stack.
//   - [Compile] checks the tree against the commands, tests and tagged
//     arguments of the extensions the script requires (RFC 5228 §3.2) and
//     reports the first error with its line.
//   - [Program.Run] interprets a compiled script under a [Budget]: a
//     deadline, a maximum number of actions and of redirects. A script
//     that exceeds it fails with a runtime error; the caller then keeps
//     the message in INBOX (RFC 5228 §2.10.6).
//
// Extensions implemented (the SIEVE capability is [Extensions]): fileinto,
// envelope, imap4flags (RFC 5232), reject and ereject (RFC 5429), vacation
// (RFC 5230), copy (RFC 3894), subaddress (RFC 5233), relational
// (RFC 5231) and comparator-i;ascii-numeric (RFC 4790). Extensions not in
// that list are refused by require, never accepted and ignored.
//
// Invariants: nothing in this package touches the network, the store or
// the clock except through [Budget]; a Program is immutable and safe for
// concurrent Runs.
package sieve
