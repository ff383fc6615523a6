package imapserver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// noRefsStore hides store.ContentLocator from its sessions, so FETCH
// takes the path without content refs or read-ahead.
type noRefsStore struct{ store.Store }

type noRefsSession struct{ store.Session }

func (s noRefsStore) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	ss, err := s.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return noRefsSession{ss}, nil
}

// readAheadMessage is message i of TestFetchReadAhead: every one differs
// in size and text.
func readAheadMessage(i int) string {
	return fmt.Sprintf("Subject: m%d\r\n\r\n%s", i, strings.Repeat(fmt.Sprintf("line %d\r\n", i), i+1))
}

// fetchBody fetches BODY.PEEK[] of one message by sequence number.
func fetchBody(c *imapclient.Client, seq uint32) (string, error) {
	msgs, err := c.Fetch(imap.SeqSetNum(seq), &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		return "", err
	}
	if len(msgs) != 1 || len(msgs[0].BodySection) != 1 {
		return "", fmt.Errorf("FETCH %d: %d messages", seq, len(msgs))
	}
	return string(msgs[0].BodySection[0].Bytes), nil
}

// TestFetchReadAhead fetches a mailbox one message per command, as the
// read-ahead window serves it, with and without content refs: every body
// is the message's, a message expunged by another session while in the
// window is left out of an OK [EXPUNGEISSUED] answer as it would be
// without the window, and a
// message delivered meanwhile is served once announced.
func TestFetchReadAhead(t *testing.T) {
	for _, refs := range []bool{true, false} {
		t.Run(fmt.Sprintf("refs=%v", refs), func(t *testing.T) {
			f := newFixture(t)
			f.opts.Mail11 = &mail11.Options{Hostname: testHost}
			f.opts.IgnoreMail11Headers = true
			if !refs {
				f.opts.Store = noRefsStore{f.st}
			}
			f.addUser("alice", "pw")
			const n = 3 * maxReadAhead
			for i := range n {
				if err := f.deliver("alice", "INBOX", []byte(readAheadMessage(i))); err != nil {
					t.Fatal(err)
				}
			}
			c := dialClient(t, f.start())
			const gone = 40
			for seq := uint32(1); seq <= n; seq++ {
				if seq == gone { // in the window, and the view does not know yet
					err := f.withSession("alice", func(s store.Session) error {
						mb, err := s.Mailbox(context.Background(), "INBOX")
						if err == nil {
							_, err = s.Expunge(context.Background(), mb.ID, []store.UID{gone})
						}
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				if seq == gone {
					// OK [EXPUNGEISSUED] with no FETCH response (docs/imap.md).
					msgs, err := c.Fetch(imap.SeqSetNum(seq), &imap.FetchOptions{
						BodySection: []*imap.FetchItemBodySection{{Peek: true}},
					}).Collect()
					if err != nil || len(msgs) != 0 {
						t.Fatalf("FETCH %d of an expunged message: %d messages, %v", seq, len(msgs), err)
					}
					continue
				}
				body, err := fetchBody(c, seq)
				if err != nil {
					t.Fatalf("FETCH %d: %v", seq, err)
				}
				if want := readAheadMessage(int(seq) - 1); body != want {
					t.Fatalf("FETCH %d: %d octets, want %d (%.20q)", seq, len(body), len(want), body)
				}
			}
			f.deliver("alice", "INBOX", []byte(readAheadMessage(n)))
			if err := c.Noop().Wait(); err != nil {
				t.Fatal(err)
			}
			if body, err := fetchBody(c, n); err != nil || body != readAheadMessage(n) {
				t.Fatalf("FETCH of the new message: %.20q, %v", body, err)
			}
		})
	}
}

// TestFetchBodyLarge fetches bodies larger than the borrowed write buffer
// and bodies whose response ends near its edge, several per command and
// one per command, with and without the Send-ID headers before them.
func TestFetchBodyLarge(t *testing.T) {
	for _, sendID := range []bool{false, true} {
		t.Run(fmt.Sprintf("send-id=%v", sendID), func(t *testing.T) {
			f := newFixture(t)
			f.opts.SendIDHeaders = sendID
			f.addUser("alice", "pw")
			var want []string
			for _, size := range []int{5 * bulkBufferSize, bulkBufferSize - 60, bulkBufferSize - 20, bulkBufferSize, 100} {
				msg := "Subject: large\r\n\r\n"
				msg += strings.Repeat("x", size-len(msg)-2) + "\r\n"
				if err := f.deliver("alice", "INBOX", []byte(msg)); err != nil {
					t.Fatal(err)
				}
				want = append(want, msg)
			}
			c := dialClient(t, f.start())
			msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5), &imap.FetchOptions{
				BodySection: []*imap.FetchItemBodySection{{Peek: true}},
			}).Collect()
			if err != nil || len(msgs) != len(want) {
				t.Fatalf("FETCH 1:5: %d messages, %v", len(msgs), err)
			}
			for i, m := range msgs {
				one, err := fetchBody(c, uint32(i+1))
				if err != nil {
					t.Fatal(err)
				}
				got := string(m.BodySection[0].Bytes)
				if !strings.HasSuffix(got, want[i]) || one != got {
					t.Errorf("message %d: %d octets in FETCH 1:5, %d alone, want %d and the message at the end",
						i+1, len(got), len(one), len(want[i]))
				}
			}
		})
	}
}
