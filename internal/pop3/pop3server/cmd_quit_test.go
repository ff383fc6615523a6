package pop3server

import (
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

func msg(subject string) []byte {
	return []byte("Subject: " + subject + "\r\n\r\nbody of " + subject + "\r\n")
}

// TestQuitMovesReadMail: by default, mail read with RETR and not deleted
// moves from INBOX to Mail at QUIT; TOP is not reading; deleted mail is
// removed; UIDLs survive the move.
func TestQuitMovesReadMail(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	for _, s := range []string{"a", "b", "c"} {
		f.deliver("alice", store.MailboxInbox, msg(s))
	}
	addr := f.start()
	c := dial(t, addr)
	c.login("alice", "secret")
	c.expect("UIDL", "+OK")
	uidls := c.body()
	c.expect("RETR 1", "+OK")
	c.body()
	c.expect("TOP 2 0", "+OK")
	c.body()
	c.expect("RETR 3", "+OK")
	c.body()
	c.expect("DELE 3", "+OK")
	c.expect("QUIT", "+OK Postern POP server")
	if in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail"); in != 1 || mail != 1 {
		t.Fatalf("INBOX %d, Mail %d; want 1 and 1", in, mail)
	}

	// Use-Mail-Folder serves Mail (after moving INBOX there): the UIDL of
	// message 1 is what it was in INBOX.
	f.opts.UseMailFolder = true
	addr = f.start()
	c = dial(t, addr)
	c.login("alice", "secret")
	c.expect("UIDL", "+OK")
	got := c.body()
	if len(got) != 2 || strings.Fields(got[0])[1] != strings.Fields(uidls[0])[1] ||
		strings.Fields(got[1])[1] != strings.Fields(uidls[1])[1] {
		t.Fatalf("UIDLs after the move %q, before %q", got, uidls)
	}
	c.expect("QUIT", "+OK")
	if in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail"); in != 0 || mail != 2 {
		t.Fatalf("Use-Mail-Folder: INBOX %d, Mail %d; want 0 and 2", in, mail)
	}
}

// TestLeaveInNewmail keeps read mail in INBOX.
func TestLeaveInNewmail(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, msg("a"))
	f.opts.LeaveInNewmail = true
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("RETR 1", "+OK")
	c.body()
	c.expect("QUIT", "+OK")
	if in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail"); in != 1 || mail != 0 {
		t.Fatalf("INBOX %d, Mail %d; want 1 and 0", in, mail)
	}
}

// TestPurgeReclaim runs the store's reclaim at QUIT after deletions.
func TestPurgeReclaim(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, msg("a"))
	f.opts.PurgeReclaim = true
	f.opts.Level.Set(-4) // debug
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("DELE 1", "+OK")
	c.expect("QUIT", "+OK")
	c.eof()
	if !strings.Contains(f.logs.String(), "pop3 purge-reclaim done") {
		t.Fatalf("no reclaim in the log:\n%s", f.logs)
	}
	if f.count("alice", "INBOX") != 0 {
		t.Fatal("message not deleted")
	}
}

// TestConcurrentChanges: a POP3 session keeps its snapshot while another
// session delivers and expunges; RETR of a message expunged elsewhere gets
// a clear -ERR, the rest works, and QUIT commits.
func TestConcurrentChanges(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, msg("a"))
	f.deliver("alice", store.MailboxInbox, msg("b"))
	c := dial(t, f.start())
	c.login("alice", "secret")
	stat := c.expect("STAT", "+OK 2 ")

	// An IMAP-side session: a delivery and an expunge of message 1.
	ctx := context.Background()
	acct, _ := f.st.Account(ctx, "alice")
	sess, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	inbox, _ := sess.Mailbox(ctx, "INBOX")
	msgs, _ := sess.Messages(ctx, inbox.ID)
	f.deliver("alice", store.MailboxInbox, msg("c"))
	if _, err := sess.Expunge(ctx, inbox.ID, []store.UID{msgs[0].UID}); err != nil {
		t.Fatal(err)
	}

	c.expect("STAT", stat) // the snapshot does not change
	c.expect("RETR 1", "-ERR message 1 was removed by another session")
	c.expect("TOP 1 0", "-ERR message 1 was removed by another session")
	c.expect("RETR 2", "+OK")
	if b := c.body(); b[0] != "Subject: b" {
		t.Fatalf("RETR 2: %q", b)
	}
	c.expect("DELE 1", "+OK")
	c.expect("QUIT", "+OK")
	// b was read and moved to Mail; c, delivered during the session, stays.
	if in, mail := f.count("alice", "INBOX"), f.count("alice", "Mail"); in != 1 || mail != 1 {
		t.Fatalf("INBOX %d, Mail %d; want 1 and 1", in, mail)
	}
}

// TestClientVanishesMidRETR: a client that disappears in the middle of a
// big RETR costs a clean close, counted as abnormal, and nothing is
// deleted or moved.
func TestClientVanishesMidRETR(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	big := []byte("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 200000))
	f.deliver("alice", store.MailboxInbox, big)
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("DELE 1", "+OK")
	c.expect("RSET", "+OK")
	c.expect("RETR 1", "+OK")
	c.line()
	c.nc.Close()
	f.srv.Shutdown(context.Background()) // waits for the connection to end
	snap := f.opts.Stats.Snapshot()
	if snap.AbnormalDisconnects != 1 || snap.RetrievedMessages != 0 || snap.CurrentThreads != 0 {
		t.Fatalf("stats after the vanished client: %+v", snap)
	}
	if f.count("alice", "INBOX") != 1 {
		t.Fatal("the message was moved or deleted")
	}
}

// TestMessageWithoutFinalCRLF: the size is the stored octets, and the
// CRLF before the terminating "." is added as part of the terminator.
func TestMessageWithoutFinalCRLF(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, []byte("Subject: x\r\n\r\n.\r\nend"))
	c := dial(t, f.start())
	c.login("alice", "secret")
	c.expect("LIST 1", "+OK 1 20")
	c.expect("RETR 1", "+OK 20 octets")
	if b := strings.Join(c.body(), "|"); b != "Subject: x||.|end" {
		t.Fatalf("RETR body %q", b)
	}
	c.expect("TOP 1 1", "+OK")
	if b := strings.Join(c.body(), "|"); b != "Subject: x||." {
		t.Fatalf("TOP body %q", b)
	}
}

// TestPipelining (RFC 2449 PIPELINING): commands sent in one write are
// answered in order.
func TestPipelining(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.deliver("alice", store.MailboxInbox, msg("a"))
	c := dial(t, f.start())
	c.nc.Write([]byte("USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 1\r\nQUIT\r\n"))
	for _, want := range []string{"+OK Password required", "+OK Username/password", "+OK 1 ", "+OK 1 messages"} {
		if l := c.line(); !strings.HasPrefix(l, want) {
			t.Fatalf("got %q, want %q", l, want)
		}
	}
	c.body()
	if l := c.line(); !strings.HasPrefix(l, "+OK ") {
		t.Fatalf("RETR: %q", l)
	}
	c.body()
	if l := c.line(); !strings.HasPrefix(l, "+OK Postern POP server") {
		t.Fatalf("QUIT: %q", l)
	}
	c.eof()
}
