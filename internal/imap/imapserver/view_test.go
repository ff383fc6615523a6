package imapserver

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// deliverVMS appends a message carrying an OpenVMS envelope.
func (f *fixture) deliverVMS(user, content string, env *store.VMSEnvelope) {
	f.t.Helper()
	err := f.withSession(user, func(s store.Session) error {
		ctx := context.Background()
		mb, err := s.Mailbox(ctx, "INBOX")
		if err != nil {
			return err
		}
		_, err = s.Append(ctx, mb.ID, store.AppendRequest{Content: strings.NewReader(content), VMS: env, InternalDate: testTime})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// TestMail11View checks that the OpenVMS Mail view plugs in through the
// one view function: a message imported from VMS MAIL (empty header
// block) and one that came by SMTP with its own header, served with the
// rebuilt header, with ENVELOPE, BODY[], BODY[HEADER], BODY[TEXT],
// RFC822.SIZE and BINARY.SIZE[] in agreement, Send-ID-Headers included.
func TestMail11View(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	f.opts.SendIDHeaders = true
	date := time.Date(2001, 5, 30, 16, 19, 53, 0, time.UTC)
	f.deliverVMS("alice", "\r\nHello from VMS.\r\n", &store.VMSEnvelope{
		From: "NODE::SMITH", PersonalName: "John Smith", To: "ALICE", Subject: "vms note", Date: date})
	f.deliverVMS("alice", "From: bob@example.org\r\nSubject: real header\r\n\r\nbody\r\n", &store.VMSEnvelope{
		From: `SMTP%"bob@example.org"`, To: "ALICE", Subject: "real header", Date: date, OwnHeader: true})
	c := dialClient(t, f.start())
	all := &imap.FetchItemBodySection{Peek: true}
	hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
	text := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierText}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{
		RFC822Size: true, Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:       []*imap.FetchItemBodySection{all, hdr, text},
		BinarySectionSize: []*imap.FetchItemBinarySectionSize{{}},
	}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("fetch: %v", err)
	}
	for i, m := range msgs {
		body, h, txt := m.FindBodySection(all), m.FindBodySection(hdr), m.FindBodySection(text)
		if int64(len(body)) != m.RFC822Size {
			t.Errorf("message %d: BODY[] %d bytes, RFC822.SIZE %d", i+1, len(body), m.RFC822Size)
		}
		if bs, ok := m.FindBinarySectionSize(nil); !ok || int64(bs) != m.RFC822Size {
			t.Errorf("message %d: BINARY.SIZE[] %d, RFC822.SIZE %d", i+1, bs, m.RFC822Size)
		}
		if !bytes.Equal(body, append(append([]byte{}, h...), txt...)) {
			t.Errorf("message %d: BODY[] is not HEADER then TEXT:\n%q\n%q\n%q", i+1, body, h, txt)
		}
		if !bytes.HasPrefix(h, []byte("Date: ")) || !bytes.Contains(h, []byte("X-VMS-From: ")) || !bytes.Contains(h, []byte("X-IMAP4-ID: ")) {
			t.Errorf("message %d: header not rebuilt:\n%s", i+1, h)
		}
		if sp, ok := m.BodyStructure.(*imap.BodyStructureSinglePart); !ok || sp.Size != uint32(len(txt)) {
			t.Errorf("message %d: BODYSTRUCTURE %#v, text %d bytes", i+1, m.BodyStructure, len(txt))
		}
	}
	if s := msgs[0].Envelope.Subject; s != "vms note" {
		t.Errorf("ENVELOPE subject %q", s)
	}
	if got := string(msgs[0].FindBodySection(text)); got != "Hello from VMS.\r\n" {
		t.Errorf("imported VMS message text %q", got)
	}
	// Without Ignore-Mail11-Headers, mail with its own header shows it
	// as the first lines of the body (hp-system.md §3.1).
	if got := string(msgs[1].FindBodySection(text)); !strings.HasPrefix(got, "From: bob@example.org\r\n") {
		t.Errorf("own header not at the top of the body: %q", got)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-VMS-From", Value: "smith"}}}, nil).Wait()
	if err != nil || len(data.AllUIDs()) != 1 || data.AllUIDs()[0] != 1 {
		t.Errorf("SEARCH on the rebuilt header: %v %v", err, data)
	}
}
