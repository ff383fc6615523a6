package store

import (
	"context"
	"time"
)

// SaveDateKeeper is implemented by sessions whose store records the save
// date of each message (RFC 8514 §3): the time it was saved in its
// current mailbox, by APPEND, delivery, import, COPY or MOVE (a copy and
// a moved message get the time of the COPY or MOVE). Once set, it does
// not change while the message stays in its mailbox.
type SaveDateKeeper interface {
	// SaveDates returns the save date of each message of uids present in
	// the mailbox (every message of the mailbox when uids is nil), in
	// UTC. The zero time stands for a message whose save date is not
	// known: one stored before the store recorded save dates. Absent
	// UIDs are left out. ErrNoSuchMailbox when the mailbox is not one of
	// the session's account.
	SaveDates(ctx context.Context, mailbox MailboxID, uids []UID) (map[UID]time.Time, error)
}
