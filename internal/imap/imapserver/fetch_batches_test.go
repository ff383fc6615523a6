package imapserver

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/store"
)

// TestFetchEnvelopeManyBatches checks FETCH ENVELOPE and RFC822.SIZE
// across several batches (loaded ahead, top-level parts only) against the
// same items fetched with BODYSTRUCTURE (whole structures, one batch at a
// time), with and without a store that loads top-level parts alone.
func TestFetchEnvelopeManyBatches(t *testing.T) {
	for _, locator := range []bool{true, false} {
		f := newFixture(t)
		if !locator {
			f.opts.Store = plainStore{f.st}
		}
		f.addUser("alice", "pw")
		const n = 2*topFetchBatch + 17
		err := f.withSession("alice", func(s store.Session) error {
			mb, err := s.Mailbox(context.Background(), "INBOX")
			if err != nil {
				return err
			}
			reqs := make([]store.AppendRequest, n)
			for i := range reqs {
				msg := fmt.Sprintf("From: Sender %d <s%d@example.org>\r\nSubject: message %d\r\n\r\nbody\r\n", i, i, i)
				if i%3 == 0 {
					msg = nestedMessage
				}
				reqs[i] = store.AppendRequest{Content: strings.NewReader(msg)}
			}
			_, err = s.Append(context.Background(), mb.ID, reqs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c := dialClient(t, f.start())
		all := imap.SeqSet{}
		all.AddRange(1, 0)
		top, err := c.Fetch(all, &imap.FetchOptions{UID: true, Envelope: true, RFC822Size: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		full, err := c.Fetch(all, &imap.FetchOptions{UID: true, Envelope: true, RFC822Size: true,
			BodyStructure: &imap.FetchItemBodyStructure{}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		if len(top) != n || len(full) != n {
			t.Fatalf("locator=%v: got %d and %d messages, want %d", locator, len(top), len(full), n)
		}
		for i := range top {
			a, b := top[i], full[i]
			if a.SeqNum != uint32(i+1) || a.UID != imap.UID(i+1) || a.UID != b.UID ||
				a.RFC822Size != b.RFC822Size || !reflect.DeepEqual(a.Envelope, b.Envelope) {
				t.Fatalf("locator=%v: message %d: %d/%d %d %+v, want %d %+v", locator, i+1,
					a.SeqNum, a.UID, a.RFC822Size, a.Envelope, b.RFC822Size, b.Envelope)
			}
		}
		if want := fmt.Sprintf("message %d", n-2); top[n-2].Envelope.Subject != want {
			t.Errorf("locator=%v: subject %q, want %q", locator, top[n-2].Envelope.Subject, want)
		}
	}
}
