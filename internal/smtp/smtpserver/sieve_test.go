package smtpserver

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/store"
)

// setSieve stores and activates a Sieve script for account.
func (e *testEnv) setSieve(account, script string) {
	e.t.Helper()
	ctx := context.Background()
	acct, err := e.st.Account(ctx, account)
	if err != nil {
		e.t.Fatal(err)
	}
	sk := e.st.(store.SieveKeeper)
	if err := sk.PutSieveScript(ctx, acct.ID, "main", script); err != nil {
		e.t.Fatal(err)
	}
	if err := sk.SetActiveSieveScript(ctx, acct.ID, "main"); err != nil {
		e.t.Fatal(err)
	}
}

// TestLMTPSieve: the recipient's script sees the envelope (RFC 5228
// §5.4) and decides per recipient: alice's rejects at the protocol level
// (RFC 5429 §2.1.1: 550 5.7.1 with the reason), bob's files into a folder.
func TestLMTPSieve(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode lmtp\nuser alice pw\nuser bob pw"))
	e.setSieve("alice", `require ["envelope", "reject"];
if envelope :is "from" "sender@example.net" { reject "No mail from you, please."; }`)
	e.setSieve("bob", `require ["envelope", "subaddress", "fileinto"];
if envelope :detail :is "to" "lists" { fileinto "Junk"; }`)
	c := e.dial()
	startTx(c, true)
	c.send("RCPT TO:<bob+lists@example.org>")
	c.expect("250 *")
	c.send("DATA")
	c.expect("354 *")
	c.writeRaw(dataBlock(plainMsg))
	c.expect("550 5.7.1 <alice@example.org> Rejected by the recipient: No mail from you, please.")
	c.expect("250 2.0.0 <bob+lists@example.org> *")
	if n := len(e.messages("alice", "INBOX")); n != 0 {
		t.Errorf("alice's INBOX has %d messages", n)
	}
	if n := len(e.messages("bob", "Junk")); n != 1 {
		t.Errorf("bob's Junk has %d messages", n)
	}
}
