package imapserver

import (
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// uploadMsg is an RFC 822 message a client uploads.
const uploadMsg = "From: Bob Sender <bob@example.org>\r\nTo: alice@example.org\r\nCc: carol@example.org\r\n" +
	"Subject: uploaded\r\nMessage-ID: <u1@example.org>\r\n\r\nbody of the upload\r\n"

// TestMail11Uploads pins the field mapping of uploads (hp-system.md §10
// I5, docs/openvms.md): a message stored by APPEND, and its COPY, is a
// native message whose VMS fields are taken from its RFC 822 header as VMS
// SMTP took them — From SMTP%"addr", To and CC the header's addresses,
// Subj the Subject — and whose RFC 822 text is kept whole: with
// Ignore-Mail11-Headers off it is the body under the rebuilt header, with
// it on it is served unchanged.
func TestMail11Uploads(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	c := dialClient(t, f.start())
	if err := c.Create("Saved", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ac := c.Append("INBOX", int64(len(uploadMsg)), nil)
	if _, err := ac.Write([]byte(uploadMsg)); err != nil {
		t.Fatal(err)
	}
	if err := ac.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Saved").Wait(); err != nil {
		t.Fatalf("COPY: %v", err)
	}

	for _, mbox := range []string{"INBOX", "Saved"} {
		if _, err := c.Select(mbox, nil).Wait(); err != nil {
			t.Fatal(err)
		}
		hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
		text := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierText}
		msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
			BodySection: []*imap.FetchItemBodySection{hdr, text}}).Collect()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%s: fetch: %v", mbox, err)
		}
		h := string(msgs[0].FindBodySection(hdr))
		for _, want := range []string{
			"\r\nFrom: bob@example.org\r\n", "\r\nTo: alice@example.org\r\n", "\r\nCC: carol@example.org\r\n",
			"\r\nSubject: uploaded\r\n", "\r\nX-VMS-From: SMTP%\"bob@example.org\" \"Bob Sender\"\r\n",
		} {
			if !strings.Contains(h, want) {
				t.Errorf("%s: rebuilt header lacks %q:\n%s", mbox, want, h)
			}
		}
		if got := string(msgs[0].FindBodySection(text)); got != uploadMsg {
			t.Errorf("%s: the RFC 822 text is not kept whole:\n%q", mbox, got)
		}
	}
	// Stored as uploaded: the native message has no VMS envelope of its
	// own; the view derives one from its header each time.
	err := f.withSession("alice", func(s store.Session) error {
		ctx := context.Background()
		for _, name := range []string{"INBOX", "Saved"} {
			mb, err := s.Mailbox(ctx, name)
			if err != nil {
				return err
			}
			err = s.MessageData(ctx, mb.ID, []store.UID{1}, func(d store.MessageData) error {
				if d.VMS != nil || d.Info.Size != int64(len(uploadMsg)) {
					t.Errorf("%s: stored VMS %+v, size %d", name, d.VMS, d.Info.Size)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Ignore-Mail11-Headers on (the default in configuration): served as
	// uploaded.
	f.opts.IgnoreMail11Headers = true
	c = dialClient(t, f.start())
	if _, err := c.Select("Saved", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	all := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{all}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Ignore-Mail11-Headers: fetch: %v", err)
	}
	if got := string(msgs[0].FindBodySection(all)); got != uploadMsg {
		t.Errorf("Ignore-Mail11-Headers: served %q", got)
	}
}
