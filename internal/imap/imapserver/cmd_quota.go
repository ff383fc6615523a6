package imapserver

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// QUOTA (RFC 9208). Each account has one quota root, named "" for the
// account itself, which holds all its mailboxes (§3.2); its resources are
// STORAGE (§5.1, in units of 1024 octets) and MESSAGE (§5.2). An admin
// (store.Account.Admin) may also name any account's root as "#user/NAME"
// in GETQUOTA and SETQUOTA, and only an admin may SETQUOTA. The store
// keeps the usage and enforces the limits (store.QuotaKeeper); APPEND,
// COPY and MOVE map its store.ErrOverQuota to NO [OVERQUOTA] (§7).

// userRootPrefix starts the quota root name of another account, for admins.
const userRootPrefix = "#user/"

// Quota resource names (RFC 9208 §5).
const (
	resStorage = "STORAGE"
	resMessage = "MESSAGE"
)

// errNoSuchRoot answers a quota root that does not exist (RFC 9208 §4.1:
// tagged NO).
var errNoSuchRoot = nof("NONEXISTENT", "No such quota root")

// quotaTarget resolves a quota root name to its account: "" is the
// session's own; "#user/NAME" is NAME's, for an admin only.
func (c *conn) quotaTarget(ctx context.Context, root string) (store.Account, error) {
	if root == "" {
		return c.s.opts.Store.Account(ctx, c.account.Name)
	}
	name, ok := strings.CutPrefix(root, userRootPrefix)
	if !ok || name == "" {
		return store.Account{}, errNoSuchRoot
	}
	if admin, err := c.isAdmin(ctx); err != nil {
		return store.Account{}, err
	} else if !admin {
		return store.Account{}, errNoSuchRoot
	}
	acc, err := c.s.opts.Store.Account(ctx, name)
	if errors.Is(err, store.ErrNoSuchAccount) {
		return acc, errNoSuchRoot
	}
	return acc, err
}

// isAdmin reads the account's admin flag from the store, so that a
// change by `postern user set --no-admin` applies to running sessions.
func (c *conn) isAdmin(ctx context.Context) (bool, error) {
	acc, err := c.s.opts.Store.Account(ctx, c.account.Name)
	return acc.Admin, err
}

// quotaResources returns the limited resources of q as the QUOTA
// response lists them: STORAGE usage rounded up to whole KiB, its limit
// rounded down, so that a full account never shows room (§5.1).
func quotaResources(q store.Quota) []imapwire.QuotaResource {
	var res []imapwire.QuotaResource
	if q.Storage.Limited() {
		res = append(res, imapwire.QuotaResource{Name: resStorage, Usage: kib(q.Storage.Used), Limit: q.Storage.Limit / 1024})
	}
	if q.Messages.Limited() {
		res = append(res, imapwire.QuotaResource{Name: resMessage, Usage: q.Messages.Used, Limit: q.Messages.Limit})
	}
	return res
}

// kib is octets in units of 1024 octets, rounded up.
func kib(octets int64) int64 { return (octets + 1023) / 1024 }

// writeQuota writes "* QUOTA root (…)" for an account with a limit and
// reports whether it did: a root without any limit has no QUOTA response
// (the grammar needs a resource), so it does not exist.
func (c *conn) writeQuota(ctx context.Context, root string, acc store.Account) (bool, error) {
	q, err := c.s.quota.Quota(ctx, acc.ID)
	if err != nil {
		return false, err
	}
	res := quotaResources(q)
	if len(res) == 0 {
		return false, nil
	}
	return true, c.enc.Quota(root, res)
}

// errNoQuota answers a QUOTA command when the store keeps no quotas and
// QUOTA is not advertised: as any command the server does not offer.
var errNoQuota = badf("Unknown command")

// cmdGetQuota: RFC 9208 §4.1.
func (c *conn) cmdGetQuota(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	root := imapwire.ParseGetQuotaArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if c.s.quota == nil {
		return errNoQuota
	}
	acc, err := c.quotaTarget(ctx, root)
	if err != nil {
		return err
	}
	ok, err := c.writeQuota(ctx, root, acc)
	if err == nil && !ok {
		err = errNoSuchRoot
	}
	return err
}

// cmdGetQuotaRoot: RFC 9208 §4.2. Every mailbox is under the account's
// root "", which is listed when the account has a limit.
func (c *conn) cmdGetQuotaRoot(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	name := imapwire.ParseGetQuotaRootArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if c.s.quota == nil {
		return errNoQuota
	}
	stored, err := c.storeName(name)
	if err != nil {
		return err
	}
	if _, err := c.sess.Mailbox(ctx, stored); err != nil {
		return err
	}
	q, err := c.s.quota.Quota(ctx, c.sess.Account())
	if err != nil {
		return err
	}
	res := quotaResources(q)
	var roots []string
	if len(res) > 0 {
		roots = []string{""}
	}
	if err := c.enc.QuotaRoot(name, roots); err != nil || len(res) == 0 {
		return err
	}
	return c.enc.Quota("", res)
}

// cmdSetQuota: RFC 9208 §4.3. The limits listed replace every limit of
// the root: a resource not listed has no limit afterwards, whatever the
// site default. Only an admin may set limits (NO [NOPERM], RFC 5530 §3).
func (c *conn) cmdSetQuota(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseSetQuotaArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if c.s.quota == nil {
		return errNoQuota
	}
	if admin, err := c.isAdmin(ctx); err != nil {
		return err
	} else if !admin {
		return nof("NOPERM", "Only an administrator may set quotas")
	}
	acc, err := c.quotaTarget(ctx, args.Root)
	if err != nil {
		return err
	}
	storage, messages, err := setQuotaLimits(args.Resources)
	if err != nil {
		return err
	}
	acc, err = c.s.opts.Store.UpdateAccount(ctx, acc.Name, store.AccountUpdate{QuotaStorage: &storage, QuotaMessages: &messages})
	if err != nil {
		return err
	}
	_, err = c.writeQuota(ctx, args.Root, acc)
	return err
}

// setQuotaLimits turns SETQUOTA's resources into the account's limits.
func setQuotaLimits(res []imapwire.QuotaResource) (storage, messages int64, err error) {
	storage, messages = store.QuotaNone, store.QuotaNone
	seen := map[string]bool{}
	for _, r := range res {
		if seen[r.Name] {
			return 0, 0, nof("CANNOT", "Resource %s listed twice", r.Name)
		}
		seen[r.Name] = true
		switch r.Name {
		case resStorage:
			if r.Limit > math.MaxInt64/1024 {
				return 0, 0, nof("LIMIT", "STORAGE limit too large")
			}
			storage = r.Limit * 1024
		case resMessage:
			messages = r.Limit
		default:
			return 0, 0, nof("CANNOT", "Unsupported quota resource %s", r.Name)
		}
	}
	return storage, messages, nil
}
