package store

import "context"

// Per-account quota limits (RFC 9208 §5.1 STORAGE, §5.2 MESSAGE). An
// account's limit for a resource is one of:
//   - QuotaDefault: the site default applies (the store's option, from
//     the global Quota-Storage / Quota-Messages);
//   - QuotaNone: no limit, whatever the site default;
//   - zero or more: the limit, in octets for storage and in messages.
const (
	QuotaNone    int64 = -1
	QuotaDefault int64 = -2
)

// QuotaUsage is one resource of a quota: what is used and the limit in
// force (QuotaNone when there is none).
type QuotaUsage struct {
	Used  int64
	Limit int64
}

// Limited reports whether the resource has a limit.
func (u QuotaUsage) Limited() bool { return u.Limit >= 0 }

// Fits reports whether n more units stay within the limit.
func (u QuotaUsage) Fits(n int64) bool { return !u.Limited() || u.Used+n <= u.Limit }

// Left returns what may still be used, or -1 when there is no limit.
func (u QuotaUsage) Left() int64 {
	if !u.Limited() {
		return -1
	}
	return max(0, u.Limit-u.Used)
}

// Quota is an account's usage and limits. Its one quota root holds every
// mailbox of the account. Storage is the sum of the stored sizes of the
// account's messages, in octets (a copy counts again, though the store
// shares its content); Messages is their number.
type Quota struct {
	Storage  QuotaUsage
	Messages QuotaUsage
}

// Limited reports whether any resource has a limit.
func (q Quota) Limited() bool { return q.Storage.Limited() || q.Messages.Limited() }

// Fits reports whether messages more messages of octets octets in all
// stay within every limit.
func (q Quota) Fits(octets, messages int64) bool {
	return q.Storage.Fits(octets) && q.Messages.Fits(messages)
}

// Full reports whether not even an empty message would fit.
func (q Quota) Full() bool { return !q.Fits(0, 1) }

// QuotaKeeper is implemented by stores that keep per-account usage and
// enforce quota limits: Append and Copy fail with ErrOverQuota, and add
// nothing, when what they add would take the account past a limit (a
// Move within an account changes no usage and is never refused). Usage is
// exact at every commit: expunges, deletions and deliveries by other
// processes count at once. Limits are set with Store.UpdateAccount
// (AccountUpdate.QuotaStorage and QuotaMessages) and apply to the next
// write, in every session and process.
type QuotaKeeper interface {
	// Quota returns the account's usage and the limits in force.
	// ErrNoSuchAccount if there is no such account.
	Quota(ctx context.Context, id AccountID) (Quota, error)
}
