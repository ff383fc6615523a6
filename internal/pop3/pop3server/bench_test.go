package pop3server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// benchRetrMessages is the maildrop size of BenchmarkRETR.
const benchRetrMessages = 500

// BenchmarkRETR retrieves every message of a maildrop, one RETR each,
// as the bench harness's POP3 workload does, with the Mail11 view and
// Ignore-Mail11-Headers on (the defaults).
func BenchmarkRETR(b *testing.B) {
	f := newFixture(b)
	f.mail11()
	f.opts.IgnoreMail11Headers = true
	if err := f.addUser("alice", "secret"); err != nil {
		b.Fatal(err)
	}
	var total int64
	for i := range benchRetrMessages {
		body := strings.Repeat(fmt.Sprintf("line %d of the body, some words to fill it up\r\n", i), 20+i%400)
		msg := fmt.Sprintf("From: s%d@example.org\r\nTo: alice@example.org\r\nSubject: message %d\r\n\r\n%s", i, i, body)
		total += int64(len(msg))
		if err := f.deliver("alice", "INBOX", []byte(msg)); err != nil {
			b.Fatal(err)
		}
	}
	addr := f.start()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	br.ReadString('\n')
	fmt.Fprintf(nc, "USER alice\r\nPASS secret\r\n")
	br.ReadString('\n')
	br.ReadString('\n')
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		for n := 1; n <= benchRetrMessages; n++ {
			fmt.Fprintf(nc, "RETR %d\r\n", n)
			if err := readMultiline(br); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// readMultiline reads a status line and a dot-terminated body.
func readMultiline(br *bufio.Reader) error {
	l, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(l, []byte("+OK")) {
		return fmt.Errorf("server: %q", l)
	}
	for {
		l, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		if bytes.Equal(l, []byte(".\r\n")) {
			return nil
		}
		if err == io.EOF {
			return err
		}
	}
}

// BenchmarkLogin measures a login (with cheap password hashing) on a
// maildrop of 2,000 messages: the snapshot, the view and the content refs.
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b)
	f.mail11()
	f.opts.IgnoreMail11Headers = true
	if err := f.addUser("alice", "secret"); err != nil {
		b.Fatal(err)
	}
	for i := range 2000 {
		if err := f.deliver("alice", "INBOX", []byte(fmt.Sprintf("Subject: m%d\r\n\r\nbody\r\n", i))); err != nil {
			b.Fatal(err)
		}
	}
	addr := f.start()
	b.ResetTimer()
	for range b.N {
		c := dial(b, addr)
		c.login("alice", "secret")
		c.expect("QUIT", "+OK")
		c.nc.Close()
	}
}

// largeMaildrop is the maildrop of issue 15's POP3 target: a login on
// 100,000 messages in ≤ 0.5 s. The benchmark reports; it asserts no time.
const largeMaildrop = 100_000

// BenchmarkLargeLogin measures a login (with cheap password hashing) on a
// maildrop of largeMaildrop messages, with the Mail11 view on as the
// server runs it (Ignore-Mail11-Headers ON, the default). Filling it
// takes minutes.
func BenchmarkLargeLogin(b *testing.B) {
	f := newFixture(b)
	f.mail11()
	f.opts.IgnoreMail11Headers = true
	if err := f.addUser("alice", "secret"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	acct, err := f.st.Account(ctx, "alice")
	if err != nil {
		b.Fatal(err)
	}
	sess, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		b.Fatal(err)
	}
	mb, err := sess.Mailbox(ctx, store.MailboxInbox)
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < largeMaildrop; start += 1000 {
		reqs := make([]store.AppendRequest, 1000)
		for i := range reqs {
			msg := fmt.Sprintf("From: s%d@example.org\r\nSubject: m%d\r\n\r\nbody\r\n", start+i, start+i)
			reqs[i] = store.AppendRequest{Content: strings.NewReader(msg)}
		}
		if _, err := sess.Append(ctx, mb.ID, reqs...); err != nil {
			b.Fatal(err)
		}
	}
	sess.Close()
	addr := f.start()
	b.ResetTimer()
	for range b.N {
		c := dial(b, addr)
		c.login("alice", "secret")
		c.expect("QUIT", "+OK")
		c.nc.Close()
	}
}
