package imapserver

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// largeMessages is the mailbox of issue 15's scale targets: SELECT ≤ 0.2 s,
// STATUS ≤ 0.05 s, FETCH 1:* (UID FLAGS) ≤ 0.5 s, FETCH 1:* ENVELOPE
// ≤ 3 s on 100,000 messages. The benchmark reports; it asserts no time.
const largeMessages = 100000

// BenchmarkLargeMailbox runs the scale commands on a mailbox of
// largeMessages messages (filling it takes minutes), and reports the heap
// a selected session holds per 1,000 messages.
func BenchmarkLargeMailbox(b *testing.B) {
	f := newFixture(b)
	level := new(slog.LevelVar)
	level.Set(slog.LevelInfo)
	f.opts.Logger = observe.NewLogger(f.logs, level, observe.FormatText)
	if err := f.addUser("alice", "pw"); err != nil {
		b.Fatal(err)
	}
	err := f.withSession("alice", func(s store.Session) error {
		ctx := context.Background()
		mb, err := s.Mailbox(ctx, "INBOX")
		if err != nil {
			return err
		}
		for start := 0; start < largeMessages; start += 1000 {
			reqs := make([]store.AppendRequest, 1000)
			for i := range reqs {
				n := start + i
				msg := fmt.Sprintf("From: Sender %d <s%d@example.org>\r\nTo: alice@example.org\r\nSubject: message number %d\r\n"+
					"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%d@example.org>\r\n\r\nbody of message %d\r\n", n, n, n, n, n)
				reqs[i] = store.AppendRequest{Content: strings.NewReader(msg)}
				if n%3 == 0 {
					reqs[i].Flags = store.Flags{store.FlagSeen}
				}
			}
			if _, err := s.Append(ctx, mb.ID, reqs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	addr := f.start()
	for _, c := range []struct{ name, cmd string }{
		{"select", "SELECT INBOX"},
		{"status", "STATUS INBOX (MESSAGES UNSEEN UIDNEXT RECENT)"},
		{"fetch-uid-flags", "FETCH 1:* (UID FLAGS)"},
		{"uid-fetch-size-date", "UID FETCH 1:* (UID RFC822.SIZE INTERNALDATE)"},
		{"fetch-envelope", "FETCH 1:* ENVELOPE"},
		{"uid-search-from", `UID SEARCH FROM "s99999@example.org"`},
	} {
		b.Run(c.name, func(b *testing.B) {
			var setup []string
			if c.name != "select" && c.name != "status" {
				setup = []string{"SELECT INBOX"}
			}
			start := processCPU()
			benchCommand(b, addr, setup, c.cmd)
			b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
	b.Run("selected-heap", func(b *testing.B) {
		for range b.N {
			b.ReportMetric(selectedHeap(b, addr, 4)/(largeMessages/1000), "heap-bytes/session/1000msgs")
		}
	})
}

// selectedHeap returns the heap that n sessions with the mailbox selected
// hold, per session.
func selectedHeap(b *testing.B, addr string, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	for range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, nc)
		br := bufio.NewReaderSize(nc, 64<<10)
		br.ReadString('\n')
		fmt.Fprintf(nc, "a LOGIN alice pw\r\nb SELECT INBOX\r\n")
		if err := readTagged(br, "b"); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}
