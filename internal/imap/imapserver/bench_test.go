package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// benchMessages is the mailbox size of the benchmarks (issue 4's closing
// note: SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE) on 10,000
// messages, and UID SEARCH TEXT).
const benchMessages = 10000

func benchServer(b *testing.B) string {
	b.Helper()
	f := newFixture(b)
	if err := f.addUser("alice", "pw"); err != nil {
		b.Fatal(err)
	}
	err := f.withSession("alice", func(s store.Session) error {
		ctx := context.Background()
		mb, err := s.Mailbox(ctx, "INBOX")
		if err != nil {
			return err
		}
		reqs := make([]store.AppendRequest, benchMessages)
		for i := range reqs {
			msg := fmt.Sprintf("From: Sender %d <s%d@example.org>\r\nTo: alice@example.org\r\nSubject: message number %d\r\n"+
				"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%d@example.org>\r\n\r\n%s\r\n", i, i, i, i, strings.Repeat("body text ", 50))
			reqs[i] = store.AppendRequest{Content: strings.NewReader(msg)}
		}
		_, err = s.Append(ctx, mb.ID, reqs...)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return f.start()
}

// benchConn logs in and runs cmd per iteration, reading to the tagged OK.
func benchCommand(b *testing.B, addr string, setup []string, cmd string) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64*1024)
	run := func(tag, line string) {
		fmt.Fprintf(nc, "%s %s\r\n", tag, line)
		for {
			l, err := br.ReadSlice('\n')
			if err != nil && err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
			if bytes.HasPrefix(l, []byte(tag+" ")) {
				if !bytes.HasPrefix(l, []byte(tag+" OK")) {
					b.Fatalf("%s: %s", line, l)
				}
				return
			}
		}
	}
	br.ReadString('\n')
	run("s0", "LOGIN alice pw")
	for i, s := range setup {
		run(fmt.Sprintf("s%d", i+1), s)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(fmt.Sprintf("b%d", i), cmd)
	}
}

func BenchmarkSelectFetchEnvelope(b *testing.B) {
	addr := benchServer(b)
	b.Run("select+fetch", func(b *testing.B) {
		benchCommand(b, addr, nil, "SELECT INBOX")
	})
	b.Run("fetch-uid-flags-size-envelope", func(b *testing.B) {
		benchCommand(b, addr, []string{"SELECT INBOX"}, "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)")
	})
	b.Run("uid-search-text", func(b *testing.B) {
		benchCommand(b, addr, []string{"SELECT INBOX"}, "UID SEARCH TEXT \"number 9999\"")
	})
	// Issue 15: header searches answered from the index columns.
	for _, key := range []string{`FROM "s9999@example.org"`, `SUBJECT "number 9999"`} {
		b.Run("uid-search-"+strings.ToLower(strings.Fields(key)[0]), func(b *testing.B) {
			start := processCPU()
			benchCommand(b, addr, []string{"SELECT INBOX"}, "UID SEARCH "+key)
			b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkIdleConnMemory reports the heap held per idle authenticated
// connection with a mailbox selected (issue 4's closing note), as
// bytes/conn. Goroutine stacks are not in the heap figure.
func BenchmarkIdleConnMemory(b *testing.B) {
	f := newFixture(b)
	f.addUser("alice", "pw")
	for range 20 {
		f.deliver("alice", "INBOX", []byte("Subject: x\r\n\r\nhello\r\n"))
	}
	addr := f.start()
	const n = 200
	var before, after runtime.MemStats
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&before)
		conns := make([]net.Conn, 0, n)
		for range n {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			br := bufio.NewReader(nc)
			br.ReadString('\n')
			fmt.Fprintf(nc, "a LOGIN alice pw\r\nb SELECT INBOX\r\n")
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(l, "b ") {
					break
				}
			}
			conns = append(conns, nc)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "heap-bytes/conn")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/n, "stack-bytes/conn")
		for _, nc := range conns {
			nc.Close()
		}
	}
}
