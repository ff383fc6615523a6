package delivery

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/sieve"
	"github.com/postern/postern/internal/store"
)

// sent is one message handed to the outbound queue.
type sent struct {
	from string
	to   []string
	body string
}

type sieveFixture struct {
	d     *Deliverer
	st    store.Store
	sk    store.SieveKeeper
	acct  store.Account
	sent  []sent
	now   time.Time
	fails bool // Send fails
}

func newSieveFixture(t *testing.T, script string) *sieveFixture {
	t.Helper()
	_, st := newDeliverer(t)
	f := &sieveFixture{st: st, sk: st.(store.SieveKeeper), now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	acct, err := st.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.acct = acct
	sess, err := st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.CreateMailbox(ctx, "Lists", ""); err != nil {
		t.Fatal(err)
	}
	sess.Close()
	f.d = New(Options{Store: st, MaxSize: 1 << 20, Clock: func() time.Time { return f.now }, Hostname: "mx.example.com",
		SieveBudget: sieve.Budget{MaxRedirects: 2},
		Send: func(ctx context.Context, from string, to []string, content io.Reader) error {
			if f.fails {
				return errors.New("queue down")
			}
			b, _ := io.ReadAll(content)
			f.sent = append(f.sent, sent{from, to, string(b)})
			return nil
		}})
	if script != "" {
		f.setScript(t, script)
	}
	return f
}

func (f *sieveFixture) setScript(t *testing.T, script string) {
	t.Helper()
	ctx := context.Background()
	if err := f.sk.PutSieveScript(ctx, f.acct.ID, "main", script); err != nil {
		t.Fatal(err)
	}
	if err := f.sk.SetActiveSieveScript(ctx, f.acct.ID, "main"); err != nil {
		t.Fatal(err)
	}
}

func (f *sieveFixture) deliver(t *testing.T, from, msg string) (Result, error) {
	t.Helper()
	return f.d.Deliver(context.Background(), Request{Account: "alice", Content: strings.NewReader(msg),
		Envelope: &Envelope{From: from, To: "alice@example.com"}})
}

// contents lists mailbox's messages as "flags|subject".
func (f *sieveFixture) contents(t *testing.T, mailbox string) []string {
	t.Helper()
	ctx := context.Background()
	sess, err := f.st.Open(ctx, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := sess.Messages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range infos {
		c, err := sess.OpenContent(ctx, mb.ID, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.NewSectionReader(c, 0, 1<<20))
		c.Close()
		subj := ""
		for _, l := range strings.Split(string(b), "\r\n") {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				subj = s
			}
		}
		out = append(out, strings.Join(m.Flags, " ")+"|"+subj)
	}
	return out
}

const listMsg = "From: a@example.org\r\nTo: alice@example.com\r\nList-Id: <dev.example.org>\r\nSubject: list\r\n\r\nhi\r\n"
const plainMsg = "From: a@example.org\r\nTo: alice@example.com\r\nSubject: plain\r\nMessage-ID: <p@x>\r\n\r\nhi\r\n"

func TestSieveFileIntoAndFlags(t *testing.T) {
	f := newSieveFixture(t, `require ["fileinto", "imap4flags"];
if exists "list-id" { fileinto :flags "\\Seen" "Lists"; stop; }
if header :is "subject" "missing" { fileinto "Nope"; stop; }
addflag "$Important"; addflag "bad flag("; keep;`)
	if res, err := f.deliver(t, "a@example.org", listMsg); err != nil || res.Mailbox != "Lists" {
		t.Fatalf("list: %+v %v", res, err)
	}
	if res, err := f.deliver(t, "a@example.org", plainMsg); err != nil || res.Mailbox != "INBOX" {
		t.Fatalf("plain: %+v %v", res, err)
	}
	// RFC 5228 §4.1: fileinto a missing mailbox keeps the message in INBOX.
	res, err := f.deliver(t, "a@example.org", strings.Replace(plainMsg, "plain", "missing", 1))
	if err != nil || res.Mailbox != "INBOX" || !res.FellBack {
		t.Fatalf("missing folder: %+v %v", res, err)
	}
	if got := f.contents(t, "Lists"); len(got) != 1 || got[0] != `\Seen|list` {
		t.Errorf("Lists = %q", got)
	}
	// "bad flag(" is no IMAP atom: dropped, the rest kept.
	if got := f.contents(t, "INBOX"); len(got) != 2 || got[0] != `$Important bad|plain` && got[0] != `$Important|plain` || got[1] != "|missing" {
		t.Errorf("INBOX = %q", got)
	}
}

func TestSieveDiscardRejectRedirect(t *testing.T) {
	f := newSieveFixture(t, `require ["reject", "copy"];
if header :is "subject" "spam" { discard; stop; }
if header :is "subject" "go away" { reject text:
Not here.
Really.
.
; stop; }
if header :is "subject" "fwd" { redirect "bob@example.net"; stop; }
redirect :copy "carol@example.net";`)
	res, err := f.deliver(t, "a@example.org", "Subject: spam\r\n\r\nx\r\n")
	if err != nil || !res.Discarded {
		t.Errorf("discard: %+v %v", res, err)
	}
	_, err = f.deliver(t, "a@example.org", "Subject: go away\r\n\r\nx\r\n")
	if !errors.Is(err, ErrRejected) || !Permanent(err) || Status(err) != "5.7.1" || RejectReason(err) != "Not here. Really." {
		t.Errorf("reject: %v (reason %q)", err, RejectReason(err))
	}
	if res, err := f.deliver(t, "a@example.org", "Subject: fwd\r\n\r\nx\r\n"); err != nil || !res.Discarded {
		t.Errorf("redirect: %+v %v", res, err)
	}
	if res, err := f.deliver(t, "a@example.org", "Subject: copy\r\n\r\nx\r\n"); err != nil || res.Mailbox != "INBOX" {
		t.Errorf("redirect :copy: %+v %v", res, err)
	}
	if len(f.sent) != 2 || f.sent[0].to[0] != "bob@example.net" || f.sent[0].from != "a@example.org" ||
		f.sent[1].to[0] != "carol@example.net" || !strings.Contains(f.sent[0].body, "Subject: fwd") {
		t.Errorf("sent = %+v", f.sent)
	}
	if got := f.contents(t, "INBOX"); len(got) != 1 || got[0] != "|copy" {
		t.Errorf("INBOX = %q", got)
	}
	// Loop control: a message this recipient redirected before comes
	// back; the script does not run again and the message is kept.
	if res, err := f.deliver(t, "a@example.org", f.sent[0].body); err != nil || res.Mailbox != "INBOX" || len(f.sent) != 2 {
		t.Errorf("loop: %+v %v, %d sent", res, err, len(f.sent))
	}
	if !strings.HasPrefix(f.sent[0].body, "X-Postern-Sieve-Redirected-From: alice@example.com\r\n") {
		t.Errorf("redirected message starts %q", f.sent[0].body[:40])
	}
	// A redirect the queue refuses keeps the message.
	f.fails = true
	if res, err := f.deliver(t, "a@example.org", "Subject: fwd\r\n\r\nx\r\n"); err != nil || res.Mailbox != "INBOX" || res.UID == 0 {
		t.Errorf("failed redirect: %+v %v", res, err)
	}
}

// TestSieveFailureKeeps: a script that does not compile, or fails at run
// time, delivers to INBOX (RFC 5228 §2.10.6).
func TestSieveFailureKeeps(t *testing.T) {
	for name, script := range map[string]string{
		"compile":   `fileinto "x";`,
		"redirects": `require "copy"; redirect :copy "a@x.y"; redirect :copy "b@x.y"; redirect :copy "c@x.y";`,
		"conflict":  `require ["reject", "fileinto"]; fileinto "Lists"; reject "no";`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newSieveFixture(t, "")
			// Stored as is: the store does not check scripts.
			f.setScript(t, script)
			res, err := f.deliver(t, "a@example.org", plainMsg)
			if err != nil || res.Mailbox != "INBOX" || res.UID == 0 {
				t.Fatalf("%+v %v", res, err)
			}
			if len(f.sent) != 0 {
				t.Errorf("sent %v", f.sent)
			}
		})
	}
}

// TestSieveVacation: one response per sender per :days (RFC 5230 §4.2),
// from the null sender, never to list mail.
func TestSieveVacation(t *testing.T) {
	f := newSieveFixture(t, `require "vacation"; vacation :days 2 :subject "Away" "I am away.";`)
	for i := 0; i < 2; i++ {
		if _, err := f.deliver(t, "a@example.org", plainMsg); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.sent) != 1 {
		t.Fatalf("two messages within :days: %d responses", len(f.sent))
	}
	r := f.sent[0]
	if r.from != "" || r.to[0] != "a@example.org" || !strings.Contains(r.body, "Subject: Away\r\n") ||
		!strings.Contains(r.body, "In-Reply-To: <p@x>\r\n") || !strings.Contains(r.body, "@mx.example.com>") {
		t.Errorf("response %+v", r)
	}
	if _, err := f.deliver(t, "b@example.org", plainMsg); err != nil || len(f.sent) != 2 {
		t.Errorf("another sender: %d responses, %v", len(f.sent), err)
	}
	if _, err := f.deliver(t, "a@example.org", listMsg); err != nil || len(f.sent) != 2 {
		t.Errorf("list mail answered")
	}
	f.now = f.now.Add(49 * time.Hour)
	if _, err := f.deliver(t, "a@example.org", plainMsg); err != nil || len(f.sent) != 3 {
		t.Errorf("after :days: %d responses", len(f.sent))
	}
	if got := f.contents(t, "INBOX"); len(got) != 5 {
		t.Errorf("INBOX has %d messages, want 5", len(got))
	}
}

// TestSieveOnlyFinalDelivery: a request without an envelope (Save-Sent,
// notices) runs no script.
func TestSieveOnlyFinalDelivery(t *testing.T) {
	f := newSieveFixture(t, `discard;`)
	res, err := f.d.Deliver(context.Background(), Request{Account: "alice", Content: strings.NewReader(plainMsg)})
	if err != nil || res.Discarded || res.UID == 0 {
		t.Errorf("%+v %v", res, err)
	}
}

// TestSieveBody: the body test sees the spooled message (RFC 5173).
func TestSieveBody(t *testing.T) {
	f := newSieveFixture(t, `require ["body", "fileinto"]; if body :text :contains "invoice" { fileinto "Lists"; }`)
	if res, err := f.deliver(t, "a@example.org", "Subject: x\r\n\r\nyour Invoice is due\r\n"); err != nil || res.Mailbox != "Lists" {
		t.Errorf("body match: %+v %v", res, err)
	}
	if res, err := f.deliver(t, "a@example.org", "Subject: invoice\r\n\r\nnothing\r\n"); err != nil || res.Mailbox != "INBOX" {
		t.Errorf("header only: %+v %v", res, err)
	}
}

// TestSieveInclude: include loads the user's other scripts from the store
// (RFC 6609); a missing one makes the script fail, which keeps the message.
func TestSieveInclude(t *testing.T) {
	f := newSieveFixture(t, `require ["include"]; include "lists"; include :optional :global "site";`)
	ctx := context.Background()
	if err := f.sk.PutSieveScript(ctx, f.acct.ID, "lists", `require "fileinto"; if exists "list-id" { fileinto "Lists"; }`); err != nil {
		t.Fatal(err)
	}
	if res, err := f.deliver(t, "a@example.org", listMsg); err != nil || res.Mailbox != "Lists" {
		t.Errorf("included rule: %+v %v", res, err)
	}
	if err := f.sk.DeleteSieveScript(ctx, f.acct.ID, "lists"); err != nil {
		t.Fatal(err)
	}
	if res, err := f.deliver(t, "a@example.org", listMsg); err != nil || res.Mailbox != "INBOX" {
		t.Errorf("missing include: %+v %v", res, err)
	}
}
