package pop3server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mail11"
	msgparse "github.com/postern/postern/internal/message"
)

// TestMail11Sizes checks, for every combination of the view's options,
// that what RETR sends is exactly the size LIST and STAT report, and that
// TOP with a large line count sends the same bytes as RETR and TOP 0 the
// same header block (hp-system §3.1, pop3server doc invariants).
func TestMail11Sizes(t *testing.T) {
	msgs := []struct {
		vms  bool
		data string
	}{
		{false, "From: \"Bob\" <bob@example.org>\nTo: alice@example.org\nSubject: plain\n\n.dot\nbody\n"},
		{false, "Subject: no final newline\n\nbody without end"},
		{false, "Subject: empty body\n\n"},
		{false, "Subject: folded\n  header\nTo: a@b.example,\n c@d.example\n\n\n\n.\n"},
		{true, "From: ORDERS::J_SMITH\nPersonal-Name: John Smith\nTo: ALICE\nSubj: vms\n\nline 1\n.line 2\n"},
		{true, "From: SMTP%\"carol@example.net\"\nOwn-Header: yes\n\nFrom: carol@example.net\nSubject: own\n\nbody\n"},
		{true, "From: SMTP%\"carol@example.net\"\nSubj: bare\n\nbody\n"},
		{true, "From: NODE::\"x@y.example\"\nSubj: Zoë\n\n"},
	}
	for _, ignore := range []bool{false, true} {
		for _, sendID := range []bool{false, true} {
			for _, view := range []bool{false, true} {
				name := fmt.Sprintf("view=%v/ignore=%v/sendid=%v", view, ignore, sendID)
				t.Run(name, func(t *testing.T) {
					f := newFixture(t)
					if view {
						f.mail11().PersonalName = true
						f.mail11().Nodes = map[string]string{"ORDERS": "orders.example"}
					}
					f.opts.IgnoreMail11Headers = ignore
					f.opts.SendIDHeaders = sendID
					if err := f.addUser("alice", "secret"); err != nil {
						t.Fatal(err)
					}
					for _, m := range msgs {
						var err error
						if m.vms {
							err = f.deliverVMS("alice", []byte(m.data))
						} else {
							err = f.deliver("alice", "INBOX", []byte(m.data))
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					c := dial(t, f.start())
					c.login("alice", "secret")
					var total int64
					for i := range msgs {
						n := strconv.Itoa(i + 1)
						size, _ := strconv.ParseInt(strings.Fields(c.expect("LIST "+n, "+OK"))[2], 10, 64)
						total += size
						c.expect("RETR "+n, "+OK "+strconv.FormatInt(size, 10)+" octets")
						retr := c.body()
						got := int64(0)
						for _, l := range retr {
							got += int64(len(l)) + 2
						}
						if i == 1 {
							got -= 2 // the CRLF the terminator adds to a last line without one
						}
						if got != size {
							t.Errorf("message %s: RETR sent %d octets, LIST said %d", n, got, size)
						}
						c.expect("TOP "+n+" 1000", "+OK")
						if top := c.body(); strings.Join(top, "\n") != strings.Join(retr, "\n") {
							t.Errorf("message %s: TOP n 1000 differs from RETR:\n%q\n%q", n, top, retr)
						}
						c.expect("TOP "+n+" 0", "+OK")
						top0 := c.body()
						if len(top0) > len(retr) || strings.Join(top0, "\n") != strings.Join(retr[:len(top0)], "\n") {
							t.Errorf("message %s: TOP n 0 is not a prefix of RETR:\n%q\n%q", n, top0, retr)
						}
						if view && i == 4 && !strings.Contains(strings.Join(retr, "\n"), "From: \"John Smith\" <j_smith@orders.example>") {
							t.Errorf("message 5: From not rebuilt: %q", retr)
						}
					}
					c.expect("STAT", fmt.Sprintf("+OK %d %d", len(msgs), total))
					c.expect("QUIT", "+OK")
				})
			}
		}
	}
}

// TestDerivedEnvelopeKeepsOwnHeader pins what viewInputs relies on to skip
// reading headers when Ignore-Mail11-Headers is on: an envelope derived
// from any header keeps the message's own header under mail11.Decide.
func TestDerivedEnvelopeKeepsOwnHeader(t *testing.T) {
	for _, h := range []string{
		"",
		"Return-Path: <>\r\n",
		"From: bob@example.org\r\n",
		"From: \"a\\\"b\" <\"q uo\"@example.org>\r\nReply-To: broken <<<\r\n",
		"Sender: ORDERS::J_SMITH\r\n",
	} {
		hdr, err := msgparse.ReadHeader(strings.NewReader(h+"\r\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		env := mail11.DeriveEnvelope(hdr, time.Time{})
		if !mail11.Decide(env, true) {
			t.Errorf("header %q: derived envelope %+v gets a rebuilt header with Ignore-Mail11-Headers on", h, env)
		}
	}
}
