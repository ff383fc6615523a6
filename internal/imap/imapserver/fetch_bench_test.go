package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// benchBodyMessages is the mailbox size of BenchmarkFetchBody.
const benchBodyMessages = 500

// BenchmarkFetchBody fetches every message's BODY[] with one command per
// message, as the bench harness's IMAP workload does, with the Mail11
// view and Ignore-Mail11-Headers on (the defaults).
func BenchmarkFetchBody(b *testing.B) {
	f := newFixture(b)
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	f.opts.IgnoreMail11Headers = true
	if err := f.addUser("alice", "pw"); err != nil {
		b.Fatal(err)
	}
	var total int64
	err := f.withSession("alice", func(s store.Session) error {
		ctx := context.Background()
		mb, err := s.Mailbox(ctx, "INBOX")
		if err != nil {
			return err
		}
		reqs := make([]store.AppendRequest, benchBodyMessages)
		for i := range reqs {
			body := strings.Repeat(fmt.Sprintf("line %d of the body, some words to fill it up\r\n", i), 20+i%400)
			msg := fmt.Sprintf("From: s%d@example.org\r\nTo: alice@example.org\r\nSubject: message %d\r\n\r\n%s", i, i, body)
			total += int64(len(msg))
			reqs[i] = store.AppendRequest{Content: strings.NewReader(msg), Flags: store.Flags{store.FlagSeen}}
		}
		_, err = s.Append(ctx, mb.ID, reqs...)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	nc, err := net.Dial("tcp", f.start())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	br.ReadString('\n')
	fmt.Fprintf(nc, "a LOGIN alice pw\r\nb SELECT INBOX\r\n")
	if err := readTagged(br, "b"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	start := processCPU()
	b.ResetTimer()
	for range b.N {
		for n := 1; n <= benchBodyMessages; n++ {
			fmt.Fprintf(nc, "f FETCH %d BODY[]\r\n", n)
			if err := readTagged(br, "f"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N*benchBodyMessages)/1e3, "cpu-µs/fetch")
}

// readTagged reads responses, skipping literals, up to the tagged OK.
func readTagged(br *bufio.Reader, tag string) error {
	for {
		l, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if bytes.HasPrefix(l, []byte(tag+" ")) {
			if !bytes.HasPrefix(l, []byte(tag+" OK")) {
				return fmt.Errorf("%s", l)
			}
			return nil
		}
		if i := bytes.LastIndexByte(l, '{'); i >= 0 && bytes.HasSuffix(l, []byte("}\r\n")) {
			n, err := strconv.Atoi(string(l[i+1 : len(l)-3]))
			if err != nil {
				return err
			}
			if _, err := br.Discard(n); err != nil {
				return err
			}
		}
	}
}
