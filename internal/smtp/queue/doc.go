// Package queue is Postern's outbound mail queue: messages submitted for
// remote recipients (and local ones whose delivery must be retried) wait
// here until they are delivered, through the configured smart host or
// straight to the recipient domain's MX (RFC 5321 §5), or until they are
// returned to the sender with a delivery status notification (RFC 3464
// multipart/report, RFC 3462; status codes of RFC 3463).
//
// The queue lives in the store (store.OutboundQueue): each message is a
// row with its envelope (JSON, this package's format) and its body, so
// that with a shared store (PostgreSQL) every node sees every message
// (docs/scale-out.md "Outbound queue"). An older version kept the queue
// in files under Data-Directory/queue (msg/ID, env/ID); New moves them
// into the store.
//
// Invariants:
//
//   - Enqueue returns only once the message and its envelope are
//     committed to the store: an SMTP 250 that follows it cannot be lost
//     by a crash.
//   - A runner attempts a message only under a lease (QueueClaim): an
//     owner and an expiry on its row, so that of several runners (nodes,
//     or processes on one store) exactly one sends it. The lease is
//     renewed every third of its duration while the attempt runs, and
//     ended by writing the attempt's outcome (QueueRelease) or removing
//     the message (QueueRemove). A runner that dies renews nothing: the
//     message is claimed again once the lease has run out.
//   - The envelope is rewritten after every attempt, so a recipient
//     marked done is never sent to again. Between a remote server's 250
//     and that write a crash can cause one duplicate delivery
//     (at-least-once, as every MTA); it can never cause a loss.
//   - A message is removed only when every recipient is delivered or has
//     been reported to the sender as failed.
//   - A message with a null sender (a DSN) never causes another DSN.
//   - One goroutine per runner attempts deliveries; List, Flush and
//     Delete are safe from any goroutine.
package queue
