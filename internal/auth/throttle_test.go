package auth

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestThrottleGrowthAndCap(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{}, clock.Now)
	var got []time.Duration
	for range 9 {
		th.Failure(addrA)
		got = append(got, th.Delay(addrA))
		clock.Advance(time.Second)
	}
	s := time.Second
	want := []time.Duration{0, 0, s, 2 * s, 4 * s, 8 * s, 15 * s, 15 * s, 15 * s}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delays after 1..9 failures = %v, want %v", got, want)
	}
}

func TestThrottleDecay(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{}, clock.Now)
	for range 5 {
		th.Failure(addrA)
	}
	if d := th.Delay(addrA); d != 4*time.Second {
		t.Fatalf("delay = %v, want 4s", d)
	}
	clock.Advance(defaultThrottleDecayEvery - time.Second)
	if d := th.Delay(addrA); d != 4*time.Second {
		t.Errorf("delay before a full quiet period = %v, want 4s", d)
	}
	clock.Advance(time.Second)
	if d := th.Delay(addrA); d != 2*time.Second {
		t.Errorf("delay after one quiet period = %v, want 2s", d)
	}
	// A failure now starts from the decayed count (4), not from 5.
	th.Failure(addrA)
	if d := th.Delay(addrA); d != 4*time.Second {
		t.Errorf("delay after decay and a new failure = %v, want 4s", d)
	}
	clock.Advance(10 * defaultThrottleDecayEvery)
	if d := th.Delay(addrA); d != 0 {
		t.Errorf("delay after a long quiet period = %v, want 0", d)
	}
}

func TestThrottleKeys(t *testing.T) {
	th := NewThrottle(ThrottleOptions{Free: -1}, nil)
	th.Failure(addrA)
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
		if d := th.Delay(netip.MustParseAddr(tt.addr)); (d > 0) != tt.throttled {
			t.Errorf("Delay(%s) = %v, want throttled %v", tt.addr, d, tt.throttled)
		}
	}

	th.Failure(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	for addr, throttled := range map[string]bool{
		"2001:db8:1:2::99":          true, // same /64
		"2001:db8:1:2:ffff::1%eth0": true,
		"2001:db8:1:3::1":           false,
	} {
		if d := th.Delay(netip.MustParseAddr(addr)); (d > 0) != throttled {
			t.Errorf("Delay(%s) = %v, want throttled %v", addr, d, throttled)
		}
	}

	// Non-IP transports are not throttled.
	th.Failure(netip.Addr{})
	if d := th.Delay(netip.Addr{}); d != 0 {
		t.Errorf("Delay(zero Addr) = %v", d)
	}
}

func TestThrottleBounded(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	th := NewThrottle(ThrottleOptions{MaxEntries: 3, Free: -1}, clock.Now)
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.4"),
	}
	for _, a := range addrs[:3] {
		th.Failure(a)
		clock.Advance(time.Second)
	}
	th.Failure(addrs[0]) // now the most recent
	clock.Advance(time.Second)
	th.Failure(addrs[3]) // evicts addrs[1], the oldest
	if n := th.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	for i, want := range []bool{true, false, true, true} {
		if got := th.Delay(addrs[i]) > 0; got != want {
			t.Errorf("%s remembered = %v, want %v", addrs[i], got, want)
		}
	}
	// Fully decayed entries are dropped as new ones arrive.
	clock.Advance(time.Hour)
	th.Failure(netip.MustParseAddr("10.0.0.5"))
	if n := th.Len(); n > 2 {
		t.Errorf("Len after decay = %d, want at most 2", n)
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
				th.Failure(a)
				th.Delay(a)
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
// table see each other's failures from an address.
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
	if d := imap.auth.Delay(from); d == 0 {
		t.Error("failures over one protocol did not slow the other down")
	}
	if d := imap.auth.Delay(netip.MustParseAddr("192.0.2.8")); d != 0 {
		t.Errorf("another address is delayed %v", d)
	}
}
