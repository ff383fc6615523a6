package observe

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestStats(t *testing.T) {
	s := NewStats(fixedClock)
	if snap := s.Snapshot(); snap.MinOctets != 0 || snap.AverageOctets != 0 || !snap.Start.Equal(fixedTime) {
		t.Errorf("empty snapshot: %+v", snap)
	}
	s.ConnOpened()
	s.ConnOpened()
	s.ConnOpened()
	s.ConnClosed(DisconnectNormal)
	s.ConnClosed(DisconnectTimeout)
	s.ConnOpened()
	s.ConnClosed(DisconnectAbnormal)
	s.TooManyThreads()
	s.BlockedSocket()
	s.AuthFailure()
	s.Retrieved(300)
	s.Retrieved(100)
	s.Retrieved(200)
	s.AddUser("smith")
	s.AddUser("jones")
	s.AddUser("smith")
	s.RemoveUser("smith")
	s.AddUser("adams")
	s.RemoveUser("adams")
	s.RemoveUser("nobody")

	got := s.Snapshot()
	want := StatsSnapshot{
		CurrentThreads: 1, TotalThreads: 4, MaxThreads: 3, TooManyThreads: 1,
		NormalDisconnects: 1, AbnormalDisconnects: 1, ClientTimeouts: 1, BlockedSockets: 1,
		RetrievedMessages: 3, RetrievedOctets: 600, AverageOctets: 200, MinOctets: 100, MaxOctets: 300,
		AuthFailures: 1,
	}
	want.Start, want.Now, want.CPU, want.CurrentUsers = got.Start, got.Now, got.CPU, got.CurrentUsers
	if !slices.Equal(got.CurrentUsers, []string{"jones", "smith"}) {
		t.Errorf("users %v", got.CurrentUsers)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("snapshot\n got %+v\nwant %+v", got, want)
	}
	if got.CPU <= 0 {
		t.Errorf("CPU %v", got.CPU)
	}
}

func TestStatsConcurrent(t *testing.T) {
	s := NewStats(nil)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 100 {
				s.ConnOpened()
				s.AddUser("u")
				s.Retrieved(int64(g*100 + i + 1))
				s.Snapshot()
				s.RemoveUser("u")
				s.ConnClosed(DisconnectNormal)
			}
		})
	}
	wg.Wait()
	snap := s.Snapshot()
	if snap.CurrentThreads != 0 || snap.TotalThreads != 1600 || snap.NormalDisconnects != 1600 ||
		snap.MinOctets != 1 || snap.MaxOctets != 1600 || len(snap.CurrentUsers) != 0 ||
		snap.MaxThreads < 1 || snap.MaxThreads > 16 {
		t.Errorf("%+v", snap)
	}
}

func TestMailStatsCounters(t *testing.T) {
	s := NewStats(nil)
	s.ConnOpened()
	s.Received(100)
	s.Received(50)
	s.Delivered(2)
	s.Queued(3)
	s.FailedRecipients(1)
	var b strings.Builder
	WriteMailStatsCounters(&b, s.Snapshot())
	for _, want := range []string{"Current Threads : 1\n", "Received Messages : 2\n", "Received Octets : 150\n",
		"Delivered Recipients : 2\n", "Queued Recipients : 3\n", "Failed Recipients : 1\n", "Auth Failures : 0\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Retrieved") {
		t.Errorf("mail counters show retrievals:\n%s", b.String())
	}
}
