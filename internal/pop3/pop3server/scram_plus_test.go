package pop3server

import (
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

// TestSCRAMPlus runs AUTH SCRAM-SHA-256-PLUS (RFC 5802 §6) with
// tls-exporter channel binding (RFC 9266) after STLS on TLS 1.3, with an
// independent client (xdg-go/scram) that computes the binding from its
// own side of the connection: CAPA offers it, the login succeeds and the
// client verifies the server. Binding data of another value fails; on a
// plain connection, or without SCRAM-Channel-Binding, the mechanism is
// neither offered nor accepted.
func TestSCRAMPlus(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	f.opts.TLS = testTLSConfig(t)
	f.channelBinding = true
	addr := f.start()
	b64 := base64.StdEncoding.EncodeToString
	run := func(c *client, cb scram.ChannelBinding) string {
		cl, err := scram.SHA256.NewClient("alice", "secret", "")
		if err != nil {
			t.Fatal(err)
		}
		conv := cl.NewConversationWithChannelBinding(cb)
		first, _ := conv.Step("")
		r := c.expect("AUTH SCRAM-SHA-256-PLUS "+b64([]byte(first)), "+ ")
		sf, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r, "+ "))
		final, err := conv.Step(string(sf))
		if err != nil {
			t.Fatal(err)
		}
		r = c.cmd(b64([]byte(final)))
		if !strings.HasPrefix(r, "+ ") {
			return r
		}
		sfin, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r, "+ "))
		if _, err := conv.Step(string(sfin)); err != nil || !conv.Valid() {
			t.Fatalf("server signature not valid: %v", err)
		}
		return c.cmd("")
	}
	binding := func(c *client) scram.ChannelBinding {
		cs := c.nc.(*tls.Conn).ConnectionState()
		data, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			t.Fatal(err)
		}
		return scram.ChannelBinding{Type: scram.ChannelBindingTLSExporter, Data: data}
	}

	c := dial(t, addr)
	c.expect("CAPA", "+OK")
	if caps := strings.Join(c.body(), "|"); strings.Contains(caps, "PLUS") {
		t.Errorf("CAPA without TLS offers PLUS: %s", caps)
	}
	c.expect("AUTH SCRAM-SHA-256-PLUS "+b64([]byte("p=tls-exporter,,n=alice,r=abc")), "-ERR")
	c.startTLS()
	c.expect("CAPA", "+OK")
	if caps := strings.Join(c.body(), "|"); !strings.Contains(caps, "SASL SCRAM-SHA-256-PLUS SCRAM-SHA-256") {
		t.Errorf("CAPA under TLS 1.3: %s", caps)
	}
	if r := run(c, binding(c)); r != "+OK Authentication successful" {
		t.Fatalf("SCRAM-SHA-256-PLUS: %q", r)
	}
	c.expect("QUIT", "+OK")

	c = dial(t, addr)
	c.startTLS()
	wrong := binding(c)
	wrong.Data[0] ^= 1
	if r := run(c, wrong); r != "-ERR [AUTH] authentication failed: channel binding" {
		t.Fatalf("SCRAM-SHA-256-PLUS with wrong binding data: %q", r)
	}
}
