package observe

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSumStats: totals add up, maxima take the largest, the minimum the
// smallest non-zero, the average is recomputed and the users are merged.
func TestSumStats(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := StatsSnapshot{Start: t0.Add(time.Hour), Now: t0.Add(2 * time.Hour), CPU: time.Second,
		CurrentThreads: 2, TotalThreads: 10, MaxThreads: 4, RetrievedMessages: 1, RetrievedOctets: 100,
		MinOctets: 100, MaxOctets: 100, AverageOctets: 100, AuthFailures: 1, CurrentUsers: []string{"bob"}}
	b := StatsSnapshot{Start: t0, Now: t0.Add(3 * time.Hour), CPU: 2 * time.Second,
		CurrentThreads: 1, TotalThreads: 5, MaxThreads: 3, RetrievedMessages: 3, RetrievedOctets: 500,
		MinOctets: 50, MaxOctets: 300, AverageOctets: 166, ReceivedMessages: 7, CurrentUsers: []string{"alice"}}
	empty := StatsSnapshot{Start: t0.Add(time.Minute), Now: t0}
	got := SumStats([]StatsSnapshot{a, b, empty})
	want := StatsSnapshot{Start: t0, Now: t0.Add(3 * time.Hour), CPU: 3 * time.Second,
		CurrentThreads: 3, TotalThreads: 15, MaxThreads: 4, RetrievedMessages: 4, RetrievedOctets: 600,
		MinOctets: 50, MaxOctets: 300, AverageOctets: 150, AuthFailures: 1, ReceivedMessages: 7,
		CurrentUsers: []string{"alice", "bob"}}
	if !slices.Equal(got.CurrentUsers, want.CurrentUsers) {
		t.Errorf("users %v, want %v", got.CurrentUsers, want.CurrentUsers)
	}
	got.CurrentUsers, want.CurrentUsers = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SumStats:\n got %+v\nwant %+v", got, want)
	}
}

// TestStatsGatherer: the series carry the values given, by protocol.
func TestStatsGatherer(t *testing.T) {
	mfs, err := StatsGatherer(map[string]StatsSnapshot{"pop3": {TotalThreads: 42}}).Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if !IsStatsMetric(mf.GetName()) {
			t.Errorf("%s is not a stats series", mf.GetName())
		}
		if mf.GetName() == "postern_pop3_stats_threads_total" {
			found = mf.GetMetric()[0].GetCounter().GetValue() == 42
		}
		if strings.HasPrefix(mf.GetName(), "postern_imap_") && mf.GetMetric()[0].GetGauge().GetValue()+mf.GetMetric()[0].GetCounter().GetValue() != 0 {
			t.Errorf("%s is not 0 without an IMAP snapshot", mf.GetName())
		}
	}
	if !found {
		t.Error("postern_pop3_stats_threads_total is not 42")
	}
}
