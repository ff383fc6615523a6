// Package queue is Postern's outbound mail queue: messages submitted for
// remote recipients (and local ones whose delivery must be retried) wait
// here until they are delivered, through the configured smart host or
// straight to the recipient domain's MX (RFC 5321 §5), or until they are
// returned to the sender with a delivery status notification (RFC 3464
// multipart/report, RFC 3462; status codes of RFC 3463).
//
// On disk, under Options.Dir:
//
//	msg/ID    the message, exactly as it will be sent (CRLF lines)
//	env/ID    the envelope and per-recipient state, JSON
//
// Invariants:
//
//   - Enqueue returns only once msg/ID and env/ID are written, fsync'd and
//     their directory entries fsync'd: an SMTP 250 that follows it cannot be
//     lost by a crash. msg/ID is written first; an env file exists only for
//     a complete message, and a msg file without an env file is debris from
//     a crash before the 250, removed at start.
//   - The envelope is rewritten atomically (temporary file, fsync, rename,
//     directory fsync) after every attempt, so a recipient marked done is
//     never sent to again. Between a remote server's 250 and that rewrite a
//     crash can cause one duplicate delivery (at-least-once, as every MTA);
//     it can never cause a loss.
//   - A message is removed (env first, then msg) only when every recipient
//     is delivered or has been reported to the sender as failed.
//   - A message with a null sender (a DSN) never causes another DSN.
//   - One goroutine runs deliveries; List, Flush and Delete are safe from
//     any goroutine.
package queue
