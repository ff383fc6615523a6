package imapserver

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strings"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/postern/postern/internal/tlsconf"
)

// TestAuthenticateSCRAMPlus: AUTHENTICATE SCRAM-SHA-256-PLUS (RFC 5802
// §6) with tls-exporter channel binding (RFC 9266) after STARTTLS on TLS
// 1.3, the client being xdg-go/scram with the binding computed from its
// own tls.ConnectionState: the capability appears only under TLS, the
// login succeeds with SASL-IR and the server's final message as a last
// challenge, and the client verifies the server; binding data of another
// value gets NO [AUTHENTICATIONFAILED] and the session stays usable; "y"
// with SCRAM-SHA-256 on this connection (a downgrade) is refused. All
// with SCRAM-Channel-Binding on (fixture channelBinding).
func TestAuthenticateSCRAMPlus(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	certPath, keyPath, err := tlsconf.GenerateSelfSigned(t.TempDir(), testHost, []string{testHost})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	f.opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	f.channelBinding = true
	addr := f.start()
	b64 := base64.StdEncoding.EncodeToString

	dialTLS := func() (*zClient, scram.ChannelBinding) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c := newZClient(t, nc)
		c.send("a1 CAPABILITY")
		if caps := c.expect("* CAPABILITY"); strings.Contains(caps, "PLUS") {
			t.Errorf("capability before TLS: %s", caps)
		}
		c.send("a2 STARTTLS")
		c.expect("a2 OK")
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
		c.nc, c.w, c.br = tc, tc, bufio.NewReader(tc)
		c.send("a3 CAPABILITY")
		if caps := c.expect("* CAPABILITY"); !strings.Contains(caps, " AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256") {
			t.Errorf("capability under TLS 1.3: %s", caps)
		}
		c.expectExactly("a3 OK CAPABILITY completed")
		cs := tc.ConnectionState()
		data, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			t.Fatal(err)
		}
		return c, scram.ChannelBinding{Type: scram.ChannelBindingTLSExporter, Data: data}
	}
	client, err := scram.SHA256.NewClient("alice", "secret", "")
	if err != nil {
		t.Fatal(err)
	}
	// auth runs the exchange and returns the tagged response.
	auth := func(c *zClient, mech string, conv *scram.ClientConversation) string {
		first, _ := conv.Step("")
		c.send("a4 AUTHENTICATE " + mech + " " + b64([]byte(first)))
		l := c.line()
		for strings.HasPrefix(l, "+ ") {
			ch, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(l, "+ "))
			resp, err := conv.Step(string(ch))
			if err != nil {
				t.Fatalf("client step: %v", err)
			}
			c.send(b64([]byte(resp)))
			l = c.line()
		}
		return l
	}

	c, cb := dialTLS()
	conv := client.NewConversationWithChannelBinding(cb)
	if r := auth(c, "SCRAM-SHA-256-PLUS", conv); !strings.HasPrefix(r, "a4 OK [CAPABILITY ") || !conv.Valid() {
		t.Fatalf("SCRAM-SHA-256-PLUS: %q, server verified %v", r, conv.Valid())
	}

	c, cb = dialTLS()
	cb.Data[0] ^= 1
	if r := auth(c, "SCRAM-SHA-256-PLUS", client.NewConversationWithChannelBinding(cb)); r != "a4 NO [AUTHENTICATIONFAILED] Authentication failed" {
		t.Fatalf("wrong binding data: %q", r)
	}
	if r := auth(c, "SCRAM-SHA-256", client.NewConversationAdvertisingChannelBinding()); r != "a4 NO [AUTHENTICATIONFAILED] Authentication failed" {
		t.Fatalf("y where the server binds: %q", r)
	}
	c.send("a5 LOGIN alice secret")
	c.expect("a5 OK ")
}
