package pop3server

import (
	"strings"
	"testing"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// TestForeignMessages: mail that came by SMTP and holds binary data (a
// NUL octet: the store marks it foreign) is served as the header rebuilt
// from the envelope derived from its own header, then the notice, even
// with Ignore-Mail11-Headers on; a retrieved foreign message moves to
// Mail at QUIT although Leave-In-Newmail is on, and EXPIRE 0 does not
// delete it, while it deletes the retrieved text message; a foreign
// message the session did not touch stays in INBOX; DELE then RSET of a
// foreign message is no retrieval.
func TestForeignMessages(t *testing.T) {
	f := newFixture(t)
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	f.opts.IgnoreMail11Headers = true
	f.opts.LeaveInNewmail = true
	f.opts.Expire = Expire{Set: true, Days: 0}
	f.addUser("alice", "secret")
	binary := "From: Bob <bob@example.org>\r\nSubject: scan\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n\x00\x01\x02\r\n"
	for _, m := range [][]byte{[]byte(binary), msg("text"), []byte(binary), []byte(binary)} {
		if err := f.deliver("alice", store.MailboxInbox, m); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK")
	got := strings.Join(c.body(), "\n")
	want := "From: bob@example.org\nSubject: scan\nX-VMS-From: SMTP%\"bob@example.org\" \"Bob\"\n\n" +
		strings.TrimSuffix(strings.ReplaceAll(mail11.ForeignNotice, "\r\n", "\n"), "\n")
	if _, rest, _ := strings.Cut(got, "\n"); rest != want { // the first line is the Date
		t.Errorf("RETR of a foreign message:\n%s\nwant after the Date:\n%s", got, want)
	}
	if strings.Contains(got, "\x00") || strings.Contains(got, "%PDF") {
		t.Errorf("the binary content was sent: %q", got)
	}
	c.expect("RETR 2", "+OK")
	c.body()
	c.expect("DELE 4", "+OK message 4 is foreign: not deleted, moved to Mail at QUIT")
	c.expect("RSET", "+OK")
	c.expect("QUIT", "+OK")
	if in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail"); in != 2 || mail != 1 {
		t.Errorf("INBOX %d, Mail %d; want 2 (the untouched foreign messages) and 1 (the retrieved one)", in, mail)
	}
}
