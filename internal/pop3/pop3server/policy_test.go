package pop3server

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// TestExpireZeroDeletesRetrieved: with EXPIRE 0 (RFC 2449 §6.7) every
// message retrieved with RETR is deleted at QUIT even without DELE; TOP is
// not retrieval.
func TestExpireZeroDeletesRetrieved(t *testing.T) {
	f := newFixture(t)
	f.opts.ExpireZero = true
	f.addUser("alice", "secret")
	for _, s := range []string{"a", "b", "c"} {
		f.deliver("alice", store.MailboxInbox, msg(s))
	}
	addr := f.start()
	c := dial(t, addr)
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK")
	c.body()
	c.expect("TOP 2 0", "+OK")
	c.body()
	c.expect("QUIT", "+OK Postern POP server")
	if in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail"); in != 2 || mail != 0 {
		t.Fatalf("INBOX %d, Mail %d; want 2 and 0", in, mail)
	}
}

// TestLoginDelay: a second login of the same account within Login-Delay
// is refused with [LOGIN-DELAY] (RFC 2449 §8.1.1), another account is
// not held up, and the account may log in again once the delay is over.
func TestLoginDelay(t *testing.T) {
	f := newFixture(t)
	var later atomic.Int64 // added to testTime: server goroutines read the clock
	f.opts.Clock = func() time.Time { return testTime.Add(time.Duration(later.Load())) }
	f.opts.LoginDelay = time.Minute
	f.addUser("alice", "secret")
	f.addUser("bob", "secret")
	addr := f.start()
	c := dial(t, addr)
	c.login("alice", "secret")
	c.expect("QUIT", "+OK")
	c = dial(t, addr)
	c.expect("USER alice", "+OK")
	c.expect("PASS secret", "-ERR [LOGIN-DELAY] ")
	c.login("bob", "secret")
	c.expect("QUIT", "+OK")
	later.Store(int64(time.Minute))
	c = dial(t, addr)
	c.login("alice", "secret")
	c.expect("QUIT", "+OK")
}
