package pop3server

import (
	"strconv"
	"sync"
	"time"

	"github.com/postern/postern/internal/store"
)

// codeLoginDelay is the response code of a login refused within the
// minimum delay (RFC 2449 §8.1.1).
const codeLoginDelay = "LOGIN-DELAY"

// policyCaps are the EXPIRE and LOGIN-DELAY capabilities (RFC 2449 §6.7,
// §6.8), listed in both states. They are server-wide, so neither carries
// the USER argument.
//
// EXPIRE is NEVER unless Options.ExpireZero: Postern never deletes mail a
// client leaves on the server, so the only other value it can announce
// truthfully is 0, which it enforces (see update). A retention of N days
// would need the time each message was first retrieved, which the store
// does not keep; such values are refused by the configuration.
func (c *conn) policyCaps() []string {
	expire := "EXPIRE NEVER"
	if c.s.opts.ExpireZero {
		expire = "EXPIRE 0"
	}
	delay := int64(c.s.opts.LoginDelay / time.Second)
	return []string{expire, "LOGIN-DELAY " + strconv.FormatInt(delay, 10)}
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
