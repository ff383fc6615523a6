package smtpserver

import (
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/xdg-go/scram"
)

// TestSubmissionSCRAMPlus: AUTH SCRAM-SHA-256-PLUS (RFC 5802 §6) with
// tls-exporter channel binding (RFC 9266) after STARTTLS on TLS 1.3, the
// binding computed by the client from its own side of the connection
// with xdg-go/scram, an independent implementation: EHLO offers it and
// the login succeeds; binding data of another value is refused with 535
// and the session can still send no mail. Without SCRAM-Channel-Binding
// (the default) EHLO does not offer it.
func TestSubmissionSCRAMPlus(t *testing.T) {
	t.Parallel()
	off := newTestEnv(t, parseSetup(t, "mode submission\nuser alice secret\nremote 192.0.2.9"))
	if _, mechs := off.smtpClient(t).Extension("AUTH"); mechs != "SCRAM-SHA-256 PLAIN LOGIN" {
		t.Errorf("AUTH without SCRAM-Channel-Binding: %q", mechs)
	}
	e := newTestEnv(t, parseSetup(t, "mode submission\nuser alice secret\nremote 192.0.2.9\nchannel-binding"))
	if _, mechs := e.smtpClient(t).Extension("AUTH"); mechs != "SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN LOGIN" {
		t.Errorf("AUTH with SCRAM-Channel-Binding: %q", mechs)
	}
	login := func(flip bool) error {
		c := e.smtpClient(t)
		cs, ok := c.TLSConnectionState()
		if !ok {
			t.Fatal("no TLS")
		}
		data, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			t.Fatal(err)
		}
		if flip {
			data[0] ^= 1
		}
		cl, err := scram.SHA256.NewClient("alice", "secret", "")
		if err != nil {
			t.Fatal(err)
		}
		conv := cl.NewConversationWithChannelBinding(scram.ChannelBinding{Type: scram.ChannelBindingTLSExporter, Data: data})
		if err := c.Auth(&scramClient{conv: conv, mech: "SCRAM-SHA-256-PLUS"}); err != nil {
			return err
		}
		if !conv.Valid() {
			t.Error("client did not verify the server's signature")
		}
		return c.Mail("alice@example.org", nil)
	}
	if err := login(false); err != nil {
		t.Fatalf("SCRAM-SHA-256-PLUS: %v", err)
	}
	err := login(true)
	if se, ok := err.(*smtp.SMTPError); !ok || se.Code != 535 {
		t.Errorf("wrong binding data: %v, want 535", err)
	}
}
