package imapserver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// previewStore counts the message contents its sessions open, and hides
// the kept previews of some UIDs, as for mail stored before the store
// kept previews, until one is kept for them. Its sessions offer no
// ContentLocator, so every open goes through OpenContent.
type previewStore struct {
	store.Store
	mu     sync.Mutex
	opens  int
	hidden map[store.UID]bool
	kept   map[store.UID]string
}

type previewSession struct {
	store.Session
	ps *previewStore
}

func (p *previewStore) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	s, err := p.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return previewSession{s, p}, nil
}

func (s previewSession) OpenContent(ctx context.Context, mb store.MailboxID, uid store.UID) (store.Content, error) {
	s.ps.mu.Lock()
	s.ps.opens++
	s.ps.mu.Unlock()
	return s.Session.OpenContent(ctx, mb, uid)
}

func (s previewSession) Previews(ctx context.Context, mb store.MailboxID, uids []store.UID) (map[store.UID]string, error) {
	m, err := s.Session.(store.PreviewKeeper).Previews(ctx, mb, uids)
	s.ps.mu.Lock()
	defer s.ps.mu.Unlock()
	for uid := range s.ps.hidden {
		delete(m, uid)
	}
	return m, err
}

func (s previewSession) KeepPreviews(ctx context.Context, mb store.MailboxID, previews map[store.UID]string) error {
	s.ps.mu.Lock()
	for uid, p := range previews {
		delete(s.ps.hidden, uid)
		s.ps.kept[uid] = p
	}
	s.ps.mu.Unlock()
	return s.Session.(store.PreviewKeeper).KeepPreviews(ctx, mb, previews)
}

func (p *previewStore) counts() (int, map[store.UID]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := make(map[store.UID]string, len(p.kept))
	for k, v := range p.kept {
		kept[k] = v
	}
	return p.opens, kept
}

// TestFetchPreviewKept checks that FETCH PREVIEW reads the preview the
// store kept at delivery and opens no message file (RFC 8970; issue 14),
// with and without the OpenVMS Mail view; that a message without a kept
// preview (stored before the store kept them) is read once, its preview
// computed and kept, and not read again; and that the kept preview is
// the one computed from the message.
func TestFetchPreviewKept(t *testing.T) {
	for _, m11 := range []bool{false, true} {
		t.Run(fmt.Sprintf("mail11=%v", m11), func(t *testing.T) {
			f := newFixture(t)
			if m11 {
				f.opts.Mail11 = &mail11.Options{Hostname: testHost}
				f.opts.IgnoreMail11Headers = true
			}
			ps := &previewStore{Store: f.st, hidden: map[store.UID]bool{}, kept: map[store.UID]string{}}
			f.opts.Store = ps
			f.addUser("alice", "pw")
			const n = fetchBatch + 3 // two batches
			for i := 1; i <= n; i++ {
				msg := fmt.Sprintf("From: a@example.org\r\nSubject: %d\r\n\r\nHello  number\r\n> quoted\r\n%d\r\n", i, i)
				if err := f.deliver("alice", "INBOX", []byte(msg)); err != nil {
					t.Fatal(err)
				}
			}
			c := dialRaw(t, f.start())
			c.send("a1 LOGIN alice pw")
			c.expect("a1 OK")
			c.send("a2 EXAMINE INBOX")
			c.expect("a2 OK")
			fetch := func(tag string) {
				t.Helper()
				c.send(tag + " FETCH 1:* (PREVIEW)")
				for i := 1; i <= n; i++ {
					want := fmt.Sprintf("* %d FETCH (PREVIEW \"Hello number %d\")\r\n", i, i)
					if got := c.expect("* "); got != want {
						t.Fatalf("%s: got %q, want %q", tag, got, want)
					}
				}
				c.expect(tag + " OK")
			}
			fetch("a3")
			if opens, kept := ps.counts(); opens != 0 || len(kept) != 0 {
				t.Fatalf("FETCH PREVIEW of kept previews opened %d messages and kept %v, want none", opens, kept)
			}

			ps.mu.Lock()
			ps.hidden[2], ps.hidden[n] = true, true
			ps.mu.Unlock()
			fetch("a4")
			opens, kept := ps.counts()
			want := map[store.UID]string{2: "Hello number 2", n: fmt.Sprintf("Hello number %d", n)}
			if opens != 2 || fmt.Sprint(kept) != fmt.Sprint(want) {
				t.Fatalf("previews not kept: opened %d messages and kept %v, want 2 and %v", opens, kept, want)
			}
			fetch("a5")
			if again, _ := ps.counts(); again != opens {
				t.Fatalf("the kept previews were computed again: %d opens, want %d", again, opens)
			}
		})
	}
}

// TestPreviewOfRebuiltBody checks that a message whose body the OpenVMS
// Mail view rebuilds (an imported MAIL message with its own header, shown
// as body text) gets the view's preview, not the kept one, and that it is
// not kept.
func TestPreviewOfRebuiltBody(t *testing.T) {
	f := newFixture(t)
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	ps := &previewStore{Store: f.st, hidden: map[store.UID]bool{}, kept: map[store.UID]string{}}
	f.opts.Store = ps
	f.addUser("alice", "pw")
	err := f.withSession("alice", func(s store.Session) error {
		mb, err := s.Mailbox(context.Background(), "INBOX")
		if err != nil {
			return err
		}
		_, err = s.Append(context.Background(), mb.ID, store.AppendRequest{
			Content: strings.NewReader("Subject: own\r\n\r\nbody text\r\n"),
			VMS:     &store.VMSEnvelope{From: "NODE::BOB", To: "ALICE", Subject: "own", OwnHeader: true},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, f.start())
	c.send("a1 LOGIN alice pw")
	c.expect("a1 OK")
	c.send("a2 EXAMINE INBOX")
	c.expect("a2 OK")
	c.send("a3 FETCH 1 (PREVIEW)")
	if got, want := c.expect("* "), "* 1 FETCH (PREVIEW \"Subject: own body text\")\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c.expect("a3 OK")
	if opens, kept := ps.counts(); opens != 1 || len(kept) != 0 {
		t.Fatalf("opened %d messages and kept %v, want 1 and none", opens, kept)
	}
}
