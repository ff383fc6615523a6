package pop3server

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// TestKeptUIDL: a message imported with the old server's unique-id
// (store.IdentityImporter) is listed under it, before and after the
// move to Mail; a message delivered here keeps Postern's own.
func TestKeptUIDL(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	ctx := context.Background()
	acct, err := f.st.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := sess.Mailbox(ctx, store.MailboxInbox)
	if err != nil {
		t.Fatal(err)
	}
	ii := sess.(store.IdentityImporter)
	_, err = ii.AppendIdentified(ctx, inbox.ID, store.IdentifiedAppend{
		AppendRequest: store.AppendRequest{Content: bytes.NewReader(msg("old"))},
		UID:           5, POP3UIDL: "000000056734A9F0",
	})
	sess.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.deliver("alice", store.MailboxInbox, msg("new"))

	for _, useMail := range []bool{false, true} {
		f.opts.UseMailFolder = useMail
		c := dial(t, f.start())
		c.login("alice", "secret")
		c.expect("UIDL", "+OK")
		got := c.body()
		if len(got) != 2 || got[0] != "1 000000056734A9F0" || !strings.HasPrefix(got[1], "2 alice.") {
			t.Fatalf("Use-Mail-Folder %v: UIDL = %q; want the kept unique-id, then Postern's", useMail, got)
		}
		c.expect("UIDL 1", "+OK 1 000000056734A9F0")
		c.expect("QUIT", "+OK")
	}
}
