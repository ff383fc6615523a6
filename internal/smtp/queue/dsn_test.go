package queue

import (
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestDSNRequests: RFC 3461 NOTIFY, ORCPT, ENVID and RET carried by the
// queue into its notices: SUCCESS gets a "relayed" notice, NEVER gets no
// failure notice, the default and FAILURE get one with the original
// recipient, the envelope id and (RET=FULL) the whole message.
func TestDSNRequests(t *testing.T) {
	t.Parallel()
	s := startSink(t, nil, func(to string) error {
		if strings.HasPrefix(to, "gone") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
		}
		return nil
	})
	tq := newTestQueue(t, t.TempDir(), relayTo(s))
	rcpts := []Recipient{
		{Addr: "bob@remote.example", Notify: []string{"SUCCESS"}, ORcpt: "rfc822;Bob@remote.example"},
		{Addr: "gone1@remote.example", Notify: []string{"NEVER"}},
		{Addr: "gone2@remote.example", ORcpt: "rfc822;old+2@remote.example"},
		{Addr: "gone3@remote.example", Notify: []string{"DELAY"}},
	}
	if _, err := tq.EnqueueDSN(context.Background(), "alice@local.example", DSN{Ret: "FULL", EnvID: "env-42"}, rcpts, strings.NewReader(testMsg)); err != nil {
		t.Fatal(err)
	}
	tq.drain()
	dsns := tq.local.get("alice@local.example")
	if len(dsns) != 2 {
		t.Fatalf("%d notices, want a failure and a success:\n%s", len(dsns), strings.Join(dsns, "\n----\n"))
	}
	var failure, success string
	for _, d := range dsns {
		if strings.Contains(d, "Action: failed") {
			failure = d
		} else {
			success = d
		}
	}
	for _, want := range []string{"Original-Envelope-Id: env-42\r\n",
		"Original-Recipient: rfc822; old+2@remote.example\r\nFinal-Recipient: rfc822; gone2@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
		"Content-Type: message/rfc822\r\n\r\n" + testMsg} {
		if !strings.Contains(failure, want) {
			t.Errorf("failure notice lacks %q:\n%s", want, failure)
		}
	}
	for _, absent := range []string{"gone1@", "gone3@"} {
		if strings.Contains(failure, absent) {
			t.Errorf("failure notice reports %s, which did not ask for it", absent)
		}
	}
	for _, want := range []string{"Subject: Successful Mail Delivery Report",
		"Original-Recipient: rfc822; Bob@remote.example\r\nFinal-Recipient: rfc822; bob@remote.example\r\nAction: relayed\r\nStatus: 2.0.0\r\n",
		"Content-Type: text/rfc822-headers"} {
		if !strings.Contains(success, want) {
			t.Errorf("success notice lacks %q:\n%s", want, success)
		}
	}
	if l := tq.list(t); len(l) != 0 {
		t.Errorf("queue not empty: %+v", l)
	}
}
