package sqlite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// BenchmarkAppend4KiB measures durable appends of a 4 KiB message (each
// one fsynced and committed before the next is acknowledged), by 1 and by 8
// concurrent sessions.
func BenchmarkAppend4KiB(b *testing.B) {
	body := testMessage("bench", 4096)
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			f := newFixture(b, b.TempDir(), Options{})
			sessions := make([]store.Session, writers)
			for i := range sessions {
				sessions[i] = openFixture(b, f.st, f.acc).ss
			}
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for _, ss := range sessions {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						_, err := ss.Append(b.Context(), f.inbox.ID, store.AppendRequest{Content: strings.NewReader(body)})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkMessages100k measures listing UID, flags and the rest of the
// index data of a 100,000-message mailbox (what SELECT needs): read
// whole, and from the snapshot of the list read before (snapshot.go),
// with one flag change since.
func BenchmarkMessages100k(b *testing.B) {
	for _, c := range []struct {
		name string
		min  int
	}{{"whole", math.MaxInt}, {"snapshot", 0}} {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, b.TempDir(), Options{SnapshotMin: c.min})
			bulkInsert(b, f, 100_000)
			if _, err := f.ss.Messages(b.Context(), f.inbox.ID); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				uid := store.UID(1 + i%100_000)
				if _, err := f.ss.StoreFlags(b.Context(), f.inbox.ID, []store.UID{uid}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagFlagged}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				infos, err := f.ss.Messages(b.Context(), f.inbox.ID)
				if err != nil || len(infos) != 100_000 {
					b.Fatalf("Messages = %d, %v", len(infos), err)
				}
			}
		})
	}
}

// BenchmarkMessageData10k measures FETCH 1:* ENVELOPE's store side on a
// 10,000-message mailbox: structure and envelope of every message.
func BenchmarkMessageData10k(b *testing.B) {
	f := newFixture(b, b.TempDir(), Options{})
	bulkInsert(b, f, 10_000)
	uids := make([]store.UID, 10_000)
	for i := range uids {
		uids[i] = store.UID(i + 1)
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := f.ss.MessageData(b.Context(), f.inbox.ID, uids, func(md store.MessageData) error {
			if md.Part.Envelope != nil {
				n++
			}
			return nil
		})
		if err != nil || n != len(uids) {
			b.Fatalf("MessageData = %d, %v", n, err)
		}
	}
}

// bulkInsert is TEST-ONLY. It fills INBOX with n messages (UIDs 1..n)
// quickly: one message is appended for real, and n-1 more index rows
// sharing its content are inserted with direct SQL in one transaction,
// bypassing the durable append path. Production code never does this.
func bulkInsert(tb testing.TB, f fixture, n int) {
	tb.Helper()
	ctx := tb.Context()
	f.append(tb, "bulk")
	tx, err := f.st.wdb.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	var contentID, size int64
	if err := tx.QueryRowContext(ctx, `SELECT content, size FROM message WHERE mailbox = ? AND uid = 1`, f.inbox.ID).Scan(&contentID, &size); err != nil {
		tb.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO message (mailbox, uid, modseq, flags, seen, deleted, internal_date, size, content)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	date := time.Now().UnixNano()
	for uid := 2; uid <= n; uid++ {
		flags, seen := "", false
		if uid%2 == 0 {
			flags, seen = `$Work \Seen`, true
		}
		if _, err := stmt.ExecContext(ctx, f.inbox.ID, uid, uid+1, flags, seen, date, size, contentID); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailbox SET uidnext = ?, highestmodseq = ? WHERE id = ?`, n+1, n+1, f.inbox.ID); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkAppendText measures durable appends of plain-text messages of
// 2–20 KiB drawn from a word list (as the bench harness's corpus is), by 1
// session (IMAP APPEND) and by 4 (LMTP's 4 clients): the search index's
// cost grows with the distinct trigrams of the text, which a repeated
// line does not have.
func BenchmarkAppendText(b *testing.B) {
	msgs := textMessages(64)
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			f := newFixture(b, b.TempDir(), Options{})
			sessions := make([]store.Session, writers)
			for i := range sessions {
				sessions[i] = openFixture(b, f.st, f.acc).ss
			}
			b.ResetTimer()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for _, ss := range sessions {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						_, err := ss.Append(b.Context(), f.inbox.ID, store.AppendRequest{Content: strings.NewReader(msgs[i%int64(len(msgs))])})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// textMessages returns n plain-text messages of 2–20 KiB of words from a
// fixed seed.
func textMessages(n int) []string {
	words := strings.Fields(`the of and to in a is that for it as was with be by on not he this are
		meeting report budget server mailbox quarterly schedule invoice project deadline review
		attached please thanks regards update release customer order shipment warehouse ledger
		account cluster node volume backup tape queue batch printer terminal operator manager
		résumé café naïve Zürich München Ærø`)
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		var sb strings.Builder
		fmt.Fprintf(&sb, "From: Sender %d <s%d@example.org>\r\nTo: alice@example.org\r\nSubject: report %d on the %s\r\nMessage-ID: <%d@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
			i, i, i, words[rng.IntN(len(words))], i)
		size := 2<<10 + rng.IntN(18<<10)
		for sb.Len() < size {
			for range 12 {
				sb.WriteString(words[rng.IntN(len(words))])
				sb.WriteByte(' ')
			}
			sb.WriteString("\r\n")
		}
		out[i] = sb.String()
	}
	return out
}

// BenchmarkIndexPending measures the background indexer's work per
// message: b.N text messages are appended with no indexer running, then
// FlushIndex indexes them all (timed).
func BenchmarkIndexPending(b *testing.B) {
	msgs := textMessages(64)
	f := newFixture(b, b.TempDir(), Options{IndexDelay: -1})
	for i := range b.N {
		if _, err := f.ss.Append(b.Context(), f.inbox.ID, store.AppendRequest{Content: strings.NewReader(msgs[i%len(msgs)])}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	if err := f.st.FlushIndex(b.Context()); err != nil {
		b.Fatal(err)
	}
}
