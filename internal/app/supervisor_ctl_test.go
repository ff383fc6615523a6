package app

import (
	"strings"
	"testing"
	"time"
)

// TestMergeStats: ctl stats over two workers sums the counters, keeps the
// largest maximum and the smallest non-zero minimum, recomputes the
// average, lists every current user and ends each section with the
// supervisor's lines.
func TestMergeStats(t *testing.T) {
	a := "Version Number : V\nStart Time : 2026-01-01 00:00:00\n\n[IMAP]\nTotal Threads : 3\nMax Threads : 2\n" +
		"Retrieved Messages : 1\nRetrieved Octets : 100\nAverage Octets : 100\nMinimum Octets : 100\nMaximum Octets : 100\n" +
		"Current Users :\n0. alice\n"
	b := "Version Number : V\nStart Time : 2026-01-02 00:00:00\n\n[IMAP]\nTotal Threads : 4\nMax Threads : 5\n" +
		"Retrieved Messages : 3\nRetrieved Octets : 500\nAverage Octets : 166\nMinimum Octets : 50\nMaximum Octets : 300\n" +
		"Current Users :\n0. bob\n1. carol\n"
	started := time.Date(2025, 12, 24, 10, 0, 0, 0, time.Local)
	got := mergeStats([]string{a, b}, started, []string{"Rollovers : 2", "Worker PID : 42"})
	want := "Version Number : V\nStart Time : 2025-12-24 10:00:00\n\n[IMAP]\nTotal Threads : 7\nMax Threads : 5\n" +
		"Retrieved Messages : 4\nRetrieved Octets : 600\nAverage Octets : 150\nMinimum Octets : 50\nMaximum Octets : 300\n" +
		"Current Users :\n0. alice\n1. bob\n2. carol\nRollovers : 2\nWorker PID : 42\n"
	if got != want {
		t.Errorf("merged:\n%s\nwant:\n%s", got, want)
	}
	if one := mergeStats([]string{a}, started, nil); !strings.Contains(one, "Total Threads : 3\n") {
		t.Errorf("one report changed:\n%s", one)
	}
}
