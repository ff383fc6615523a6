package imapserver

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/mail11"
)

// TestMail11ViewResentAndReturnPath: the IMAP view derives the VMS From
// of SMTP mail from the real header, as the POP3 view does
// (hp-system.md §3.4): Resent-From ranks before Sender and From,
// Return-Path before From, and an absent Reply-To is not taken to be the
// From (the ENVELOPE's default). FETCH of the header, RFC822.SIZE, the
// read-ahead path (BODY[]) and SEARCH agree.
func TestMail11ViewResentAndReturnPath(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	msgs := []string{
		"Return-Path: <bounce@example.net>\r\nSender: sender@example.net\r\nFrom: Bob <bob@example.org>\r\n" +
			"Resent-From: Carol <carol@example.org>\r\nSubject: resent\r\n\r\nbody\r\n",
		"Return-Path: <bounce@example.net>\r\nFrom: Bob <bob@example.org>\r\nSubject: bounced\r\n\r\nbody\r\n",
		"Sender: sender@example.net\r\nFrom: Bob <bob@example.org>\r\nSubject: sent for\r\n\r\nbody\r\n",
	}
	for _, m := range msgs {
		if err := f.deliver("alice", "INBOX", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	c := dialClient(t, f.start())
	hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
	all := &imap.FetchItemBodySection{Peek: true}
	got, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{
		RFC822Size: true, BodySection: []*imap.FetchItemBodySection{hdr, all}}).Collect()
	if err != nil || len(got) != 3 {
		t.Fatalf("fetch: %v", err)
	}
	want := []string{
		"X-VMS-From: SMTP%\"carol@example.org\" \"Carol\"\r\n",
		"X-VMS-From: SMTP%\"bounce@example.net\"\r\n",
		"X-VMS-From: SMTP%\"sender@example.net\"\r\n",
	}
	for i, m := range got {
		h := string(m.FindBodySection(hdr))
		if !strings.Contains(h, want[i]) {
			t.Errorf("message %d: header lacks %q:\n%s", i+1, want[i], h)
		}
		if body := m.FindBodySection(all); int64(len(body)) != m.RFC822Size || !strings.HasPrefix(string(body), h) {
			t.Errorf("message %d: BODY[] (%d bytes) and RFC822.SIZE %d or the header disagree", i+1, len(body), m.RFC822Size)
		}
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-VMS-From", Value: "bounce@"}}}, nil).Wait()
	if err != nil || len(data.AllUIDs()) != 1 || data.AllUIDs()[0] != 2 {
		t.Errorf("SEARCH on the derived header: %v %v", err, data)
	}
}
