package postgres

import (
	"io"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// BenchmarkFetchBody reads a 50 KiB message the way FETCH BODY[] and
// POP3 RETR do: open by UID, read the header, then the whole body in
// 32 KiB pieces.
func BenchmarkFetchBody(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, pgtest.New(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	acc, err := s.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		b.Fatal(err)
	}
	ss, err := s.Open(ctx, acc.ID)
	if err != nil {
		b.Fatal(err)
	}
	defer ss.Close()
	inbox, _ := ss.Mailbox(ctx, "INBOX")
	msg := "Subject: bench\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n", 800)
	res, err := ss.Append(ctx, inbox.ID, store.AppendRequest{Content: strings.NewReader(msg)})
	if err != nil {
		b.Fatal(err)
	}
	uid := res[0].UID
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		c, err := ss.OpenContent(ctx, inbox.ID, uid)
		if err != nil {
			b.Fatal(err)
		}
		c.ReadAt(buf[:18], 0)
		var n int64
		for n < c.Size() {
			k, err := c.ReadAt(buf, n)
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != int64(len(msg)) {
			b.Fatalf("read %d, want %d", n, len(msg))
		}
		c.Close()
	}
}
