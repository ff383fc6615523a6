package pop3server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/postern/postern/internal/store"
)

// codeLoginDelay is the response code of a login refused within the
// minimum delay (RFC 2449 §8.1.1).
const codeLoginDelay = "LOGIN-DELAY"

// Expire is a retention policy for mail a client leaves on the server,
// announced as EXPIRE (RFC 2449 §6.7). The zero value is NEVER.
type Expire struct {
	// Set enforces a retention of Days; unset, the server never deletes
	// mail a client leaves on the server (EXPIRE NEVER).
	Set bool
	// Days is the retention when Set. 0: clients may not leave mail on the
	// server; every message retrieved with RETR in a session that ends
	// with QUIT is deleted as if DELE'd. N > 0: a message of the maildrop
	// first retrieved with RETR more than N days ago is deleted at the
	// next login of its account (see expireRetrieved); this needs a store
	// that records retrievals (store.RetrievalKeeper).
	Days int
}

// maxExpireDays bounds Expire.Days (a century), far below the overflow
// of a time.Duration.
const maxExpireDays = 36500

// zero reports EXPIRE 0.
func (e Expire) zero() bool { return e.Set && e.Days == 0 }

// retention returns the retention period of EXPIRE N > 0, or 0.
func (e Expire) retention() time.Duration {
	if !e.Set || e.Days <= 0 {
		return 0
	}
	return time.Duration(e.Days) * 24 * time.Hour
}

// check validates the policy against the store at New: a retention of
// days is refused when the store cannot record retrievals, rather than
// announced and not honoured.
func (e Expire) check(st store.Store) error {
	if !e.Set {
		return nil
	}
	if e.Days < 0 || e.Days > maxExpireDays {
		return fmt.Errorf("pop3server: Expire.Days %d is outside 0..%d", e.Days, maxExpireDays)
	}
	if _, ok := st.(store.RetrievalKeeper); e.Days > 0 && !ok {
		return errors.New("pop3server: Expire of some days needs a store that records retrievals (store.RetrievalKeeper)")
	}
	return nil
}

// capability is the EXPIRE capability's text. The policy is server-wide,
// so the same value is listed before and after login, never with RFC
// 2449's USER argument (which announces a value that varies per user).
func (e Expire) capability() string {
	if !e.Set {
		return "EXPIRE NEVER"
	}
	return "EXPIRE " + strconv.Itoa(e.Days)
}

// policyCaps are the EXPIRE and LOGIN-DELAY capabilities (RFC 2449 §6.7,
// §6.8), listed in both states. They are server-wide, so neither carries
// the USER argument.
func (c *conn) policyCaps() []string {
	delay := int64(c.s.opts.LoginDelay / time.Second)
	return []string{c.s.opts.Expire.capability(), "LOGIN-DELAY " + strconv.FormatInt(delay, 10)}
}

// expireRetrieved enforces EXPIRE N > 0 at login, before the snapshot is
// taken, with the maildrop locked: the messages of the served mailbox
// first retrieved more than N days ago are deleted (RFC 2449 §6.7: the
// retention counts from the first retrieval). Only messages retrieved
// with RETR in a session that ended with QUIT carry a retrieval time
// (markRetrieved), so mail never retrieved over POP3 is never deleted,
// nor is a foreign message (the store leaves those). A failure is logged
// and the login goes on: the mail is only kept longer.
func (c *conn) expireRetrieved(ctx context.Context, acct store.Account, mbox store.Mailbox) {
	keep := c.s.opts.Expire.retention()
	if keep <= 0 {
		return
	}
	rk := c.s.opts.Store.(store.RetrievalKeeper) // checked by New
	gone, err := rk.ExpireRetrieved(ctx, acct.ID, mbox.ID, c.s.opts.Clock().Add(-keep))
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "pop3 expire retrieved mail failed",
			slog.String("mailbox", mbox.Name), slog.Any("err", err))
		return
	}
	if len(gone) > 0 {
		c.log.LogAttrs(ctx, slog.LevelInfo, "pop3 expired retrieved mail",
			slog.String("mailbox", mbox.Name), slog.Int("messages", len(gone)), slog.Int("days", c.s.opts.Expire.Days))
	}
}

// markRetrieved records, at QUIT under EXPIRE N > 0, the first retrieval
// of the messages retrieved with RETR and not deleted, before they move
// to Mail (the store keeps the time through the move). A failure is
// logged: those messages are then kept longer, never lost.
func (c *conn) markRetrieved(ctx context.Context, uids []store.UID) {
	if c.s.opts.Expire.retention() <= 0 || len(uids) == 0 {
		return
	}
	rk := c.s.opts.Store.(store.RetrievalKeeper) // checked by New
	if err := rk.MarkRetrieved(ctx, c.account.ID, c.drop.mailbox.ID, uids, c.s.opts.Clock()); err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "pop3 record retrieval failed", slog.Any("err", err))
	}
}

// loginDelays remembers when each account last logged in, for
// LOGIN-DELAY. It is in memory: a restart forgets, which only ever lets a
// client in sooner.
type loginDelays struct {
	mu   sync.Mutex
	last map[store.AccountID]time.Time
}

// checkLoginDelay refuses a login that comes sooner than Options.LoginDelay
// after the account's previous one (RFC 2449 §6.8), and records the login
// otherwise. It runs once the credentials are verified, so it tells a
// client nothing about passwords (RFC 2449 §8.1.1).
func (c *conn) checkLoginDelay(acct store.Account) error {
	d := c.s.opts.LoginDelay
	if d <= 0 {
		return nil
	}
	now := c.s.opts.Clock()
	l := &c.s.logins
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.last[acct.ID]; ok && now.Sub(last) < d {
		return userError{code: codeLoginDelay, msg: "minimum time between logins not reached; try again later"}
	}
	if l.last == nil {
		l.last = map[store.AccountID]time.Time{}
	}
	for id, t := range l.last {
		if now.Sub(t) >= d {
			delete(l.last, id) // keep the map to the accounts still waiting
		}
	}
	l.last[acct.ID] = now
	return nil
}
