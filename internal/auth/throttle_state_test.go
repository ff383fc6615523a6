package auth

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"
)

// TestThrottleRecordsRestore: a throttle restored from another's records
// (through JSON, as between worker processes) holds back the same attempts
// for the same time, and leaves others alone.
func TestThrottleRecordsRestore(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := NewThrottle(ThrottleOptions{}, clock)
	bad, good := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.1")
	for range 6 {
		a.Failure(bad, "alice")
	}
	a.Success(good, "bob")
	want := a.Check(bad, "alice")
	if want <= 0 {
		t.Fatalf("six failures: wait %v, want a wait", want)
	}
	b, err := json.Marshal(a.Records())
	if err != nil {
		t.Fatal(err)
	}
	var rs []ThrottleRecord
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	c := NewThrottle(ThrottleOptions{}, clock)
	c.Restore(rs)
	if got := c.Check(bad, "alice"); got != want {
		t.Errorf("restored throttle: wait %v, want %v", got, want)
	}
	if got := c.Check(good, "bob"); got != 0 {
		t.Errorf("restored throttle holds back bob: %v", got)
	}
	if got, wantN := len(c.Records()), len(rs); got != wantN {
		t.Errorf("restored %d records, want %d", got, wantN)
	}
	c.Restore([]ThrottleRecord{{Count: 3}}) // no address: skipped
	if got := len(c.Records()); got != len(rs) {
		t.Errorf("a record without address was kept: %d records", got)
	}
}
