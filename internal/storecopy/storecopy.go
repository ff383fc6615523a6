// Package storecopy copies one store into another through the store
// seam: `postern store copy --from sqlite:DIR --to postgres://…` moves a
// site from the embedded store to PostgreSQL (docs/scale-out.md).
//
// What clients know is kept: each mailbox's UIDVALIDITY, every message's
// UID, flags and keywords, internal date (with its zone) and POP3 unique-id
// (store.UIDLKeeper), UIDNEXT, and HIGHESTMODSEQ as a floor (every message
// gets a new MODSEQ above the source's HIGHESTMODSEQ, so a CONDSTORE client
// refetches flags, never bodies). Accounts keep their credentials, flags
// and quotas; subscriptions, Sieve scripts, DKIM keys and the outbound
// queue (not leased: the copy runs with the server stopped) are copied
// when both stores keep them.
//
// A copy is resumable: a mailbox already in the target continues from its
// UIDNEXT (store.IdentityImporter); a run stopped midway and run again
// copies only what is missing.
package storecopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/postern/postern/internal/store"
)

// Progress is told, after each batch, how many messages are copied of
// how many the source holds.
type Progress func(done, total int)

// Result counts a copy's work.
type Result struct {
	Accounts, Mailboxes int
	Messages            int // copied by this run
	Skipped             int // already in the target
	Queued              int // outbound messages copied by this run
}

// batch is how many messages one AppendIdentified adds.
const batch = 100

// Copy copies every account of src into dst.
func Copy(ctx context.Context, src, dst store.Store, progress Progress) (Result, error) {
	var res Result
	accs, err := src.Accounts(ctx)
	if err != nil {
		return res, err
	}
	total, err := countMessages(ctx, src, accs)
	if err != nil {
		return res, err
	}
	c := &copier{src: src, dst: dst, total: total, progress: progress, res: &res}
	for _, a := range accs {
		if err := c.account(ctx, a); err != nil {
			return res, fmt.Errorf("account %s: %w", a.Name, err)
		}
		res.Accounts++
	}
	if err := copyDKIM(ctx, src, dst); err != nil {
		return res, err
	}
	n, err := copyQueue(ctx, src, dst)
	res.Queued = n
	return res, err
}

type copier struct {
	src, dst store.Store
	total    int
	progress Progress
	res      *Result
}

func (c *copier) tick() {
	if c.progress != nil {
		c.progress(c.res.Messages+c.res.Skipped, c.total)
	}
}

func countMessages(ctx context.Context, st store.Store, accs []store.Account) (int, error) {
	n := 0
	for _, a := range accs {
		ss, err := st.Open(ctx, a.ID)
		if err != nil {
			return 0, err
		}
		mbs, err := ss.Mailboxes(ctx)
		for _, mb := range mbs {
			if err != nil {
				break
			}
			var s store.MailboxStatus
			s, err = ss.Status(ctx, mb.ID)
			n += int(s.Messages)
		}
		ss.Close()
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// account copies one account: its row, mailboxes, subscriptions and
// Sieve scripts.
func (c *copier) account(ctx context.Context, a store.Account) error {
	u := store.AccountUpdate{PasswordHash: &a.PasswordHash, SCRAM: &a.SCRAM, APOPSecret: &a.APOPSecret,
		Disabled: &a.Disabled, NoMail: &a.NoMail, Expires: &a.Expires, Admin: &a.Admin,
		QuotaStorage: &a.QuotaStorage, QuotaMessages: &a.QuotaMessages, Source: &a.Source}
	da, err := c.dst.CreateAccount(ctx, a.Name, u)
	if errors.Is(err, store.ErrAccountExists) {
		da, err = c.dst.UpdateAccount(ctx, a.Name, u)
	}
	if err != nil {
		return err
	}
	ss, err := c.src.Open(ctx, a.ID)
	if err != nil {
		return err
	}
	defer ss.Close()
	ds, err := c.dst.Open(ctx, da.ID)
	if err != nil {
		return err
	}
	defer ds.Close()
	mbs, err := ss.Mailboxes(ctx)
	if err != nil {
		return err
	}
	for _, mb := range mbs {
		if err := c.mailbox(ctx, ss, ds, mb); err != nil {
			return fmt.Errorf("mailbox %s: %w", mb.Name, err)
		}
		c.res.Mailboxes++
	}
	subs, err := ss.Subscriptions(ctx)
	if err != nil {
		return err
	}
	for _, name := range subs {
		if err := ds.SetSubscribed(ctx, name, true); err != nil {
			return err
		}
	}
	return copySieve(ctx, c.src, c.dst, a.ID, da.ID)
}

// mailbox copies one mailbox, keeping its identity.
func (c *copier) mailbox(ctx context.Context, ss, ds store.Session, mb store.Mailbox) error {
	imp, ok := ds.(store.IdentityImporter)
	if !ok {
		return errors.New("the target store cannot keep UIDs (store.IdentityImporter)")
	}
	dmb, err := ds.Mailbox(ctx, mb.Name)
	if errors.Is(err, store.ErrNoSuchMailbox) {
		dmb, err = ds.CreateMailbox(ctx, mb.Name, mb.SpecialUse)
	}
	if err != nil {
		return err
	}
	switch {
	case dmb.UIDNext == 1:
		// A fresh mailbox (the account's defaults included) takes the
		// source's identity and its HIGHESTMODSEQ as a floor.
		if dmb, err = imp.SetMailboxIdentity(ctx, dmb.ID, mb.UIDValidity, mb.HighestModSeq); err != nil {
			return fmt.Errorf("the target mailbox holds other mail: %w", err)
		}
	case dmb.UIDValidity != mb.UIDValidity:
		// Not a copy this command began: refused, never mixed.
		return fmt.Errorf("the target mailbox holds other mail (UIDVALIDITY %d, the source's %d): %w",
			dmb.UIDValidity, mb.UIDValidity, store.ErrNotEmpty)
	}
	infos, err := ss.Messages(ctx, mb.ID)
	if err != nil {
		return err
	}
	var todo []store.MessageInfo
	for _, in := range infos {
		if in.UID >= dmb.UIDNext {
			todo = append(todo, in)
		} else {
			c.res.Skipped++
		}
	}
	uidls, err := keptUIDLs(ctx, ss, mb.ID)
	if err != nil {
		return err
	}
	for len(todo) > 0 {
		n := min(len(todo), batch)
		if err := c.appendBatch(ctx, ss, imp, mb.ID, dmb.ID, todo[:n], uidls); err != nil {
			return err
		}
		todo = todo[n:]
		c.tick()
	}
	_, err = imp.RaiseUIDNext(ctx, dmb.ID, mb.UIDNext)
	return err
}

// appendBatch copies messages of one mailbox in one AppendIdentified.
func (c *copier) appendBatch(ctx context.Context, ss store.Session, imp store.IdentityImporter, from, to store.MailboxID,
	infos []store.MessageInfo, uidls map[store.UID]string) error {
	uids := make([]store.UID, len(infos))
	for i, in := range infos {
		uids[i] = in.UID
	}
	data := map[store.UID]store.MessageData{}
	if err := ss.MessageData(ctx, from, uids, func(d store.MessageData) error { data[d.Info.UID] = d; return nil }); err != nil {
		return err
	}
	reqs := make([]store.IdentifiedAppend, 0, len(infos))
	var open []io.Closer
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for _, in := range infos {
		content, err := ss.OpenContent(ctx, from, in.UID)
		if errors.Is(err, store.ErrNoSuchMessage) {
			continue // expunged meanwhile
		} else if err != nil {
			return err
		}
		open = append(open, content)
		d := data[in.UID]
		reqs = append(reqs, store.IdentifiedAppend{
			AppendRequest: store.AppendRequest{
				Content: io.NewSectionReader(content, 0, content.Size()), Exact: true,
				Flags: in.Flags, InternalDate: in.InternalDate, VMS: d.VMS, Foreign: d.Foreign,
			},
			UID: in.UID, POP3UIDL: uidls[in.UID],
		})
	}
	if len(reqs) == 0 {
		return nil
	}
	if _, err := imp.AppendIdentified(ctx, to, reqs...); err != nil {
		return err
	}
	c.res.Messages += len(reqs)
	return nil
}

func keptUIDLs(ctx context.Context, ss store.Session, mailbox store.MailboxID) (map[store.UID]string, error) {
	out := map[store.UID]string{}
	k, ok := ss.(store.UIDLKeeper)
	if !ok {
		return out, nil
	}
	err := k.POP3UIDLs(ctx, mailbox, func(u store.UID, s string) error { out[u] = s; return nil })
	return out, err
}

// copySieve copies an account's Sieve scripts and which one is active.
func copySieve(ctx context.Context, src, dst store.Store, from, to store.AccountID) error {
	sk, ok1 := src.(store.SieveKeeper)
	dk, ok2 := dst.(store.SieveKeeper)
	if !ok1 || !ok2 {
		return nil
	}
	scripts, err := sk.SieveScripts(ctx, from)
	if err != nil {
		return err
	}
	for _, s := range scripts {
		text, active, err := sk.SieveScript(ctx, from, s.Name)
		if err != nil {
			return err
		}
		if err := dk.PutSieveScript(ctx, to, s.Name, text); err != nil {
			return err
		}
		if active {
			if err := dk.SetActiveSieveScript(ctx, to, s.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyDKIM copies the DKIM keys the target does not have.
func copyDKIM(ctx context.Context, src, dst store.Store) error {
	sk, ok1 := src.(store.DKIMKeyKeeper)
	dk, ok2 := dst.(store.DKIMKeyKeeper)
	if !ok1 || !ok2 {
		return nil
	}
	keys, err := sk.DKIMKeys(ctx, "")
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := dk.AddDKIMKey(ctx, k); err != nil && !errors.Is(err, store.ErrDKIMKeyExists) {
			return err
		}
	}
	return nil
}

// copyQueue copies the outbound queue's messages the target does not
// have, free of any lease, and returns how many it copied.
func copyQueue(ctx context.Context, src, dst store.Store) (int, error) {
	sq, ok1 := src.(store.OutboundQueue)
	dq, ok2 := dst.(store.OutboundQueue)
	if !ok1 || !ok2 {
		return 0, nil
	}
	list, err := sq.QueueList(ctx)
	if err != nil {
		return 0, err
	}
	have, err := dq.QueueList(ctx)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, m := range have {
		seen[m.ID] = true
	}
	n := 0
	for _, m := range list {
		if seen[m.ID] {
			continue
		}
		if err := copyQueued(ctx, sq, dq, m); err != nil {
			return n, fmt.Errorf("queued message %s: %w", m.ID, err)
		}
		n++
	}
	return n, nil
}

func copyQueued(ctx context.Context, sq, dq store.OutboundQueue, m store.QueuedMessage) error {
	body, err := sq.QueueBody(ctx, m.ID)
	if err != nil {
		return err
	}
	defer body.Close()
	m.LeaseOwner, m.LeaseUntil = "", time.Time{}
	return dq.QueueAdd(ctx, m, body)
}
