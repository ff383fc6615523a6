package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// The outbound SMTP queue lives in the store, so that every node of a
// shared store (PostgreSQL) sees every queued message and exactly one of
// them sends it (issue 18; docs/scale-out.md "Outbound queue"). A node
// takes a message with a lease: an owner and an expiry written on its row.
// While the lease runs no other node claims the message; the owner renews
// it during a long attempt and gives it back with the attempt's result. A
// node that dies mid-attempt renews nothing, and the message is claimed
// again once the lease has run out.

// Errors of [OutboundQueue].
var (
	// ErrNoSuchQueued: no queued message has that id.
	ErrNoSuchQueued = errors.New("no such queued message")
	// ErrLeaseLost: the caller no longer holds the message's lease (it
	// ran out and another owner claimed the message, or the message was
	// removed).
	ErrLeaseLost = errors.New("queue lease lost")
	// ErrQueuedBusy: the message is leased (being delivered).
	ErrQueuedBusy = errors.New("queued message is being delivered")
)

// QueuedMessage is one message of the outbound queue. The store keeps
// Envelope as opaque octets: the queue package owns its format.
type QueuedMessage struct {
	ID          string
	Created     time.Time
	NextAttempt time.Time
	Size        int64
	Envelope    []byte
	// LeaseOwner and LeaseUntil describe the current lease; "" and the
	// zero time when the message is not leased.
	LeaseOwner string
	LeaseUntil time.Time
}

// Leased reports whether the message is leased at now.
func (m QueuedMessage) Leased(now time.Time) bool {
	return m.LeaseOwner != "" && m.LeaseUntil.After(now)
}

// OutboundQueue is implemented by stores that keep the outbound queue.
// Times are the caller's clock; nodes sharing a store keep their clocks
// in step (NTP), well within a lease's duration.
type OutboundQueue interface {
	// QueueAdd stores a message and its body, read to EOF, durably: it
	// returns only once both are committed. m.Size is ignored and set
	// from the body; m's lease fields are ignored (not leased).
	QueueAdd(ctx context.Context, m QueuedMessage, body io.Reader) error
	// QueueClaim leases to owner, until now+lease, the oldest message
	// (by Created, then ID) due at now (NextAttempt not after now) and
	// not leased at now. It returns nil when there is none. Two callers
	// never hold the lease of one message at once.
	QueueClaim(ctx context.Context, owner string, now time.Time, lease time.Duration) (*QueuedMessage, error)
	// QueueRenew extends owner's lease to until. ErrLeaseLost when owner
	// does not hold it.
	QueueRenew(ctx context.Context, id, owner string, until time.Time) error
	// QueueRelease records an attempt's outcome: the new envelope and
	// next attempt, and ends owner's lease. ErrLeaseLost when owner does
	// not hold it (nothing is written).
	QueueRelease(ctx context.Context, id, owner string, envelope []byte, next time.Time) error
	// QueueRemove removes a message whose lease owner holds (its
	// delivery is finished). ErrLeaseLost when owner does not hold it.
	QueueRemove(ctx context.Context, id, owner string) error
	// QueueDelete removes a message that is not leased at now (an
	// administrator's delete). ErrNoSuchQueued, ErrQueuedBusy.
	QueueDelete(ctx context.Context, id string, now time.Time) error
	// QueueBody opens a message's body. ErrNoSuchQueued.
	QueueBody(ctx context.Context, id string) (io.ReadSeekCloser, error)
	// QueueList returns every queued message, oldest first (by Created,
	// then ID).
	QueueList(ctx context.Context) ([]QueuedMessage, error)
	// QueueFlush makes every message due at now and returns how many
	// there are.
	QueueFlush(ctx context.Context, now time.Time) (int, error)
	// QueueNextDue returns when a claim may next find something: the
	// earliest, over every message, of the later of NextAttempt and the
	// end of its lease. ok is false when the queue is empty.
	QueueNextDue(ctx context.Context) (next time.Time, ok bool, err error)
}

// QueueWaker is implemented by stores shared between nodes that tell a
// node's queue runner when any node queued a message (or flushed the
// queue), so that an idle runner takes a message queued on a node whose
// runner is busy at once rather than at its next poll. The channel holds
// at most one pending signal; only the queue runner reads it.
type QueueWaker interface {
	QueueWake() <-chan struct{}
}
