package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// fail records n failures of user from a, each after its wait, and returns
// the wait Check asks for after each.
func failN(th *Throttle, clock *fakeClock, a netip.Addr, user string, n int) []time.Duration {
	var waits []time.Duration
	for range n {
		if d := th.Check(a, user); d > 0 {
			clock.Advance(d)
			if d := th.Check(a, user); d != 0 {
				panic(fmt.Sprintf("still %v to wait after waiting", d))
			}
		}
		th.Failure(a, user)
		waits = append(waits, th.Check(a, user))
		th.Release(a, user) // the probe above reserved nothing unless it was let through
	}
	return waits
}

func TestThrottleGrowthAndCap(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{}, clock.Now)
	got := failN(th, clock, addrA, "alice", 9)
	s := time.Second
	want := []time.Duration{0, 0, 0, s, 2 * s, 4 * s, 8 * s, 15 * s, 15 * s}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("waits after 1..9 failures = %v, want %v", got, want)
	}
	if addr, pair := th.Failures(addrA, "alice"); pair != 8 || addr != 9 {
		t.Errorf("counts: address %d, pair %d; want 9 and 8 (capped where the wait stops growing)", addr, pair)
	}
}

// TestThrottleDecaysInMinutes is issue 12 finding 4: the owner on the
// attacker's address waited for hours. Every quiet minute forgets one
// failure, and counts stop growing at the cap, so even a long attack is
// forgiven within minutes of its end.
func TestThrottleDecaysInMinutes(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{}, clock.Now)
	failN(th, clock, addrA, "alice", 200) // a long attack on one account
	if d := th.Check(addrA, "alice"); d != 15*time.Second {
		t.Fatalf("wait right after = %v, want 15s", d)
	}
	clock.Advance(5 * time.Minute)
	if d := th.Check(addrA, "alice"); d != 0 {
		t.Errorf("wait 5 minutes after the attack = %v, want 0", d)
	}
	th.Release(addrA, "alice")
	clock.Advance(10 * time.Minute)
	if addr, pair := th.Failures(addrA, "alice"); addr != 0 || pair != 0 {
		t.Errorf("15 minutes after: %d address and %d pair failures remembered, want none", addr, pair)
	}
}

// TestThrottleOwnerNotPunished is issue 13: failures for other users from
// the same address (a NAT, a webmail host) do not hold back a user's
// correct password, and a user who logged in from an address before is
// not held back even when the address sprays guesses at everyone.
func TestThrottleOwnerNotPunished(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{}, clock.Now)
	failN(th, clock, addrA, "bob", 6) // a colleague's typos
	if d := th.Check(addrA, "alice"); d != 0 {
		t.Fatalf("alice waits %v for bob's failures", d)
	}
	th.Success(addrA, "alice")
	// Now the address sprays guesses over many users: past AddrFree,
	// users without a recent success from it must wait...
	for i := range 12 {
		u := fmt.Sprintf("victim%d", i)
		th.Check(addrA, u)
		th.Failure(addrA, u)
	}
	if d := th.Check(addrA, "carol"); d == 0 {
		t.Error("a spraying address is not held back for a new user")
	}
	// ...but not alice, who logged in from it.
	if d := th.Check(addrA, "alice"); d != 0 {
		t.Errorf("alice waits %v although she logged in from this address", d)
	}
	th.Success(addrA, "alice")
	// Another address is never affected.
	if d := th.Check(addrB, "carol"); d != 0 {
		t.Errorf("another address waits %v", d)
	}
}

// TestThrottleOneAttemptInFlight: once failures are recent, parallel
// connections get one attempt per wait, not one each (issue 12 finding 4:
// 20 parallel connections made 1.3 guesses/s).
func TestThrottleOneAttemptInFlight(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{}, clock.Now)
	failN(th, clock, addrA, "alice", 5)
	clock.Advance(time.Minute / 2)
	allowed := 0
	for range 20 {
		if th.Check(addrA, "alice") == 0 {
			allowed++
		}
	}
	if allowed != 1 {
		t.Fatalf("%d of 20 parallel attempts let through, want 1", allowed)
	}
	th.Failure(addrA, "alice")
	if d := th.Check(addrA, "alice"); d != 4*time.Second {
		t.Errorf("wait after that failure = %v, want 4s", d)
	}
	// A reservation whose outcome never comes expires by itself.
	clock.Advance(4 * time.Second)
	th.Check(addrA, "alice")
	clock.Advance(15 * time.Second)
	if d := th.Check(addrA, "alice"); d != 0 {
		t.Errorf("a lost reservation still holds: %v", d)
	}
}

func TestThrottleKeys(t *testing.T) {
	th := NewThrottle(ThrottleOptions{Free: -1}, nil)
	th.Failure(addrA, "alice")
	tests := []struct {
		addr      string
		throttled bool
	}{
		{"192.0.2.1", true},
		{"::ffff:192.0.2.1", true}, // IPv4-mapped is the same host
		{"192.0.2.2", false},       // IPv4 is counted per address
		{"198.51.100.7", false},
	}
	for _, tt := range tests {
		if d := th.Check(netip.MustParseAddr(tt.addr), "ALICE"); (d > 0) != tt.throttled {
			t.Errorf("Check(%s) = %v, want throttled %v", tt.addr, d, tt.throttled)
		}
	}
	th.Failure(netip.MustParseAddr("2001:db8:1:2:aaaa::1"), "alice")
	for addr, throttled := range map[string]bool{
		"2001:db8:1:2::99":          true, // same /64
		"2001:db8:1:2:ffff::1%eth0": true,
		"2001:db8:1:3::1":           false,
	} {
		if d := th.Check(netip.MustParseAddr(addr), "alice"); (d > 0) != throttled {
			t.Errorf("Check(%s) = %v, want throttled %v", addr, d, throttled)
		}
	}
	// Non-IP transports are not throttled.
	th.Failure(netip.Addr{}, "alice")
	if d := th.Check(netip.Addr{}, "alice"); d != 0 {
		t.Errorf("Check(zero Addr) = %v", d)
	}
}

// TestThrottleTrustedAndOff: Trusted-Networks are never throttled, and
// loopback is not trusted unless listed.
func TestThrottleTrustedAndOff(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	th := NewThrottle(ThrottleOptions{Free: -1, Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil)
	for _, a := range []string{"10.1.2.3", "127.0.0.1"} {
		th.Failure(netip.MustParseAddr(a), "alice")
	}
	if d := th.Check(netip.MustParseAddr("10.1.2.3"), "alice"); d != 0 {
		t.Errorf("trusted address waits %v", d)
	}
	if d := th.Check(lo, "alice"); d == 0 {
		t.Error("loopback is exempt without being listed")
	}
	off := NewThrottle(ThrottleOptions{Off: true, Free: -1}, nil)
	off.Failure(addrA, "alice")
	if d := off.Check(addrA, "alice"); d != 0 {
		t.Errorf("Off throttle waits %v", d)
	}
}

func TestThrottleBounded(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{MaxEntries: 3, Free: -1, AddrFree: -1}, clock.Now)
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.4"),
	}
	for _, a := range addrs[:3] {
		th.Failure(a, "x")
		clock.Advance(time.Millisecond)
	}
	th.Failure(addrs[0], "x") // now the most recent
	th.Failure(addrs[3], "x") // evicts addrs[1], the least recent
	if n := th.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	for i, want := range []int{2, 0, 1, 1} {
		if got, _ := th.Failures(addrs[i], "x"); got != want {
			t.Errorf("%s: %d failures remembered, want %d", addrs[i], got, want)
		}
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := NewThrottle(ThrottleOptions{MaxEntries: 50}, nil)
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				a := netip.AddrFrom4([4]byte{10, byte(g), byte(i >> 8), byte(i)})
				th.Check(a, "u")
				th.Failure(a, "u")
				th.Priority(a, "u")
			}
		}()
	}
	for range 8 {
		<-done
	}
	if n := th.Len(); n > 50 {
		t.Errorf("Len = %d, want at most 50", n)
	}
}

// TestSharedThrottle: two Authenticators (say POP3 and IMAP) sharing one
// table see each other's failures.
func TestSharedThrottle(t *testing.T) {
	shared := NewThrottle(ThrottleOptions{}, nil)
	pop := newTestEnv(t, func(o *Options) { o.SharedThrottle = shared })
	imap := newTestEnv(t, func(o *Options) { o.SharedThrottle = shared })
	pop.addUser(t, "alice", "right")
	imap.addUser(t, "alice", "right")
	from := netip.MustParseAddr("192.0.2.7")
	for range 4 {
		if _, err := pop.auth.Login(t.Context(), "alice", "wrong", connFrom(from)); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	if _, err := imap.auth.Login(t.Context(), "alice", "right", connFrom(from)); !errors.Is(err, ErrThrottled) {
		t.Errorf("IMAP login after POP3 failures: %v, want ErrThrottled", err)
	}
	if _, err := imap.auth.Login(t.Context(), "alice", "right", connFrom(netip.MustParseAddr("192.0.2.8"))); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// TestFairQueue is issue 12 finding 4: with the hash slots busy and a
// queue of attempts from a flood of addresses, an attempt from another
// address is served after at most one waiter per address ahead of it in
// its class, and a user known from its address goes first.
func TestFairQueue(t *testing.T) {
	q := newFairQueue(1)
	hold, err := q.acquire(context.Background(), queueTicket{class: 1})
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 64)
	queued := map[queueTicket]int{}
	start := func(name string, tk queueTicket) {
		ready := make(chan struct{})
		go func() {
			close(ready)
			release, err := q.acquire(context.Background(), tk)
			if err != nil {
				t.Error(err)
				return
			}
			order <- name
			release()
		}()
		<-ready
		waitQueued(q, tk, queued[tk]+1)
		queued[tk]++
	}
	flood := netip.MustParsePrefix("203.0.113.9/32")
	for i := range 10 { // one address, ten connections, suspect
		start(fmt.Sprintf("flood%d", i), queueTicket{class: 2, addr: flood})
	}
	start("other", queueTicket{class: 2, addr: netip.MustParsePrefix("203.0.113.10/32")})
	start("clean", queueTicket{class: 1, addr: netip.MustParsePrefix("192.0.2.1/32")})
	start("owner", queueTicket{class: 0, addr: netip.MustParsePrefix("198.51.100.7/32")})
	hold()
	var got []string
	for range 13 {
		got = append(got, <-order)
	}
	want := "[owner clean flood0 other flood1 flood2 flood3 flood4 flood5 flood6 flood7 flood8 flood9]"
	if fmt.Sprint(got) != want {
		t.Errorf("served %v\nwant   %v", got, want)
	}
}

// waitQueued waits until n waiters with ticket tk are in q.
func waitQueued(q *fairQueue, tk queueTicket, want int) {
	for {
		q.mu.Lock()
		el := q.keys[queueKey(tk)]
		n := 0
		if el != nil {
			n = len(el.Value.(*keyQueue).waiters)
		}
		q.mu.Unlock()
		if n >= want {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFairQueueCancel(t *testing.T) {
	q := newFairQueue(1)
	hold, _ := q.acquire(context.Background(), queueTicket{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	tk := queueTicket{class: 2, addr: netip.MustParsePrefix("192.0.2.1/32")}
	go func() { _, err := q.acquire(ctx, tk); done <- err }()
	waitQueued(q, tk, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire = %v, want Canceled", err)
	}
	hold()
	release, err := q.acquire(context.Background(), queueTicket{})
	if err != nil {
		t.Fatal(err)
	}
	release()
	if q.free != 1 || len(q.keys) != 0 {
		t.Errorf("queue after cancel: free %d, %d keys waiting", q.free, len(q.keys))
	}
}
