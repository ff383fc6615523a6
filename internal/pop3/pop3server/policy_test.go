package pop3server

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// TestExpireZeroDeletesRetrieved: with EXPIRE 0 (RFC 2449 §6.7) every
// message retrieved with RETR is deleted at QUIT even without DELE; TOP is
// not retrieval.
func TestExpireZeroDeletesRetrieved(t *testing.T) {
	f := newFixture(t)
	f.opts.Expire = Expire{Set: true, Days: 0}
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

// subjects logs in, reads the Subject of every message of the maildrop
// with TOP (which is no retrieval) and quits.
func subjects(t *testing.T, addr string) []string {
	t.Helper()
	c := dial(t, addr)
	c.login("alice", "secret")
	var out []string
	c.expect("LIST", "+OK")
	n := len(c.body())
	for i := 1; i <= n; i++ {
		c.expect("TOP "+strconv.Itoa(i)+" 0", "+OK")
		for _, l := range c.body() {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				out = append(out, s)
			}
		}
	}
	c.expect("QUIT", "+OK")
	return out
}

// TestExpireDays: with EXPIRE 30 (RFC 2449 §6.7) a message retrieved with
// RETR, and left on the server by a session that ended with QUIT, is
// deleted at the first login more than 30 days after that first
// retrieval, on a fake clock: kept at 30 days exactly, gone a second
// later. A later RETR does not restart the clock; TOP is no retrieval,
// and a message never retrieved stays.
func TestExpireDays(t *testing.T) {
	f := newFixture(t)
	var later atomic.Int64 // added to testTime: server goroutines read the clock
	f.opts.Clock = func() time.Time { return testTime.Add(time.Duration(later.Load())) }
	f.opts.Expire = Expire{Set: true, Days: 30}
	f.opts.LeaveInNewmail = true
	f.addUser("alice", "secret")
	for _, s := range []string{"a", "b", "c"} {
		f.deliver("alice", store.MailboxInbox, msg(s))
	}
	addr := f.start()
	day := 24 * time.Hour

	c := dial(t, addr)
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK") // a: first retrieved at day 0
	c.body()
	c.expect("TOP 2 5", "+OK") // b: TOP is not retrieval
	c.body()
	c.expect("QUIT", "+OK")

	later.Store(int64(10 * day))
	c = dial(t, addr)
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK") // a again: the first retrieval counts
	c.body()
	c.expect("RETR 3", "+OK") // c: first retrieved at day 10
	c.body()
	c.expect("QUIT", "+OK")

	later.Store(int64(30 * day))
	if got := subjects(t, addr); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("30 days after the first retrieval: %v, want all three", got)
	}
	later.Store(int64(30*day + time.Second))
	if got := subjects(t, addr); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("30 days and a second after: %v, want b and c", got)
	}
	later.Store(int64(40*day + time.Second))
	if got := subjects(t, addr); !slices.Equal(got, []string{"b"}) {
		t.Errorf("40 days and a second after: %v, want b (never retrieved)", got)
	}
	later.Store(int64(1000 * day))
	if got := subjects(t, addr); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after 1000 days: %v, want b (never retrieved)", got)
	}
}

// TestExpireDaysMaildropOnly: EXPIRE N deletes from the maildrop only.
// With Leave-In-Newmail off a retrieved message moves to Mail at QUIT and
// stays there, however long; with Use-Mail-Folder, Mail is the maildrop
// and its retrieved messages expire, but not a foreign one (hp-system
// §1.6), nor mail filed there that POP3 never retrieved.
func TestExpireDaysMaildropOnly(t *testing.T) {
	for _, useMail := range []bool{false, true} {
		f := newFixture(t)
		var later atomic.Int64
		f.opts.Clock = func() time.Time { return testTime.Add(time.Duration(later.Load())) }
		f.opts.Expire = Expire{Set: true, Days: 1}
		f.opts.UseMailFolder = useMail
		f.opts.Mail11 = &mail11.Options{Hostname: testHost}
		f.opts.IgnoreMail11Headers = true
		f.addUser("alice", "secret")
		binary := "From: bob@example.org\r\nSubject: scan\r\n\r\n%PDF-1.4\r\n\x00\x01\r\n"
		f.deliver("alice", store.MailboxInbox, msg("text"))
		f.deliver("alice", store.MailboxInbox, []byte(binary))
		f.deliver("alice", store.MailboxMail, msg("filed"))
		addr := f.start()
		c := dial(t, addr)
		c.login("alice", "secret")
		// Use-Mail-Folder serves Mail, the filed message first: skip it.
		first := 1
		if useMail {
			first = 2
		}
		for _, n := range []int{first, first + 1} {
			c.expect("RETR "+strconv.Itoa(n), "+OK")
			c.body()
		}
		c.expect("QUIT", "+OK")
		later.Store(int64(48 * time.Hour))
		c = dial(t, addr)
		c.login("alice", "secret")
		c.expect("QUIT", "+OK")
		in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail")
		if useMail && (in != 0 || mail != 2) {
			t.Errorf("Use-Mail-Folder: INBOX %d, Mail %d; want 0 and 2 (the foreign and the filed message)", in, mail)
		}
		if !useMail && (in != 0 || mail != 3) {
			t.Errorf("INBOX %d, Mail %d; want 0 and 3 (nothing expires outside the maildrop)", in, mail)
		}
	}
}

// TestExpireDaysNeedsRetrievalKeeper: a retention of days is refused at
// New by a store that cannot record retrievals, rather than announced and
// not honoured; NEVER and 0 need nothing of the store.
func TestExpireDaysNeedsRetrievalKeeper(t *testing.T) {
	f := newFixture(t)
	f.opts.Auth = auth.New(auth.Options{Store: f.st, Hasher: f.hasher})
	f.opts.Store = plainStore{f.st}
	for _, e := range []Expire{{}, {Set: true}} {
		f.opts.Expire = e
		if _, err := New(f.opts); err != nil {
			t.Errorf("New with %+v: %v", e, err)
		}
	}
	for _, e := range []Expire{{Set: true, Days: 7}, {Set: true, Days: -1}} {
		f.opts.Expire = e
		if _, err := New(f.opts); err == nil {
			t.Errorf("New with %+v and a store without RetrievalKeeper succeeded", e)
		}
	}
	f.opts.Store = f.st
	f.opts.Expire = Expire{Set: true, Days: maxExpireDays + 1}
	if _, err := New(f.opts); err == nil {
		t.Errorf("New with %d days succeeded", maxExpireDays+1)
	}
}

// plainStore hides every optional capability of a store.
type plainStore struct{ store.Store }
