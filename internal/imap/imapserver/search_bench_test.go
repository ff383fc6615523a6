package imapserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/store"
)

// benchSearchWords is the prose the search benchmark's bodies are drawn
// from; none contains the searched word.
var benchSearchWords = []string{"the", "of", "and", "meeting", "report", "budget", "server",
	"mailbox", "quarterly", "schedule", "invoice", "project", "café", "Zürich", "naïve"}

// benchSearchMessage is message i of a corpus shaped like the bench
// harness's: plain text of 2–20 KiB, every 50th MIME with a base64
// attachment, the searched word in every 97th.
func benchSearchMessage(rng *rand.Rand, i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Sender %d <s%d@example.org>\r\nTo: Bench <bench@localhost>\r\nSubject: report %d\r\n"+
		"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%d@example.org>\r\nMIME-Version: 1.0\r\n", i, i, i, i)
	if i%50 == 49 {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
		benchSearchText(&b, rng, i, 2<<10+rng.IntN(4<<10))
		raw := make([]byte, 16<<10+rng.IntN(400<<10))
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		b.WriteString("--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		enc := base64.StdEncoding.EncodeToString(raw)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n--b--\r\n")
		return b.Bytes()
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	benchSearchText(&b, rng, i, 2<<10+rng.IntN(18<<10))
	return b.Bytes()
}

func benchSearchText(b *bytes.Buffer, rng *rand.Rand, i, size int) {
	if i%97 == 96 {
		b.WriteString("Note the quokkaphone item below.\r\n")
	}
	for n := 0; n < size; n += 60 {
		for j := 0; j < 8; j++ {
			b.WriteString(benchSearchWords[rng.IntN(len(benchSearchWords))] + " ")
		}
		b.WriteString("\r\n")
	}
}

// BenchmarkSearchText runs UID SEARCH TEXT and BODY over a mailbox
// shaped like the bench harness's corpus.
func BenchmarkSearchText(b *testing.B) {
	f := newFixture(b)
	if err := f.addUser("alice", "pw"); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	err := f.withSession("alice", func(s store.Session) error {
		ctx := context.Background()
		mb, err := s.Mailbox(ctx, "INBOX")
		if err != nil {
			return err
		}
		for start := 0; start < benchMessages; start += 500 {
			reqs := make([]store.AppendRequest, 500)
			for i := range reqs {
				reqs[i] = store.AppendRequest{Content: bytes.NewReader(benchSearchMessage(rng, start+i))}
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
	for _, key := range []string{"TEXT", "BODY"} {
		b.Run(strings.ToLower(key), func(b *testing.B) {
			start := processCPU()
			benchCommand(b, addr, []string{"SELECT INBOX"}, `UID SEARCH `+key+` "quokkaphone"`)
			b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// processCPU returns the user and system CPU time the process has used,
// in nanoseconds: on a busy machine it moves less than wall time.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
