package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"
)

// tlsPair makes a TLS connection of the given version over a pipe and
// returns the client's and the server's view of it.
func tlsPair(t *testing.T, version uint16) (client, server tls.ConnectionState) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	sc := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
	cc := tls.Client(b, &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version})
	errc := make(chan error, 1)
	go func() { errc <- sc.Handshake() }()
	if err := cc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return cc.ConnectionState(), sc.ConnectionState()
}

// clientBinding is the tls-exporter binding as a client computes it
// (RFC 9266 §2), independently of TLSExporter.
func clientBinding(t *testing.T, cs tls.ConnectionState) scram.ChannelBinding {
	t.Helper()
	b, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	return scram.ChannelBinding{Type: scram.ChannelBindingTLSExporter, Data: b}
}

// runPlus runs an exchange of mech with an xdg-go/scram conversation and
// returns the server's error and whether the client accepted the server.
func runPlus(t *testing.T, a *Authenticator, mech string, ci ConnInfo, conv *scram.ClientConversation) (error, bool) {
	t.Helper()
	m, err := a.NewMechanism(mech, ci)
	if err != nil {
		return err, false
	}
	var challenge string
	for {
		msg, err := conv.Step(challenge)
		if err != nil {
			t.Fatalf("client step: %v", err)
		}
		ch, done, err := m.Next(context.Background(), []byte(msg))
		if err != nil {
			return err, false
		}
		challenge = string(ch)
		if done {
			_, cerr := conv.Step(challenge)
			return nil, cerr == nil && conv.Valid()
		}
	}
}

// TestSCRAMPlus: SCRAM-SHA-256-PLUS with tls-exporter channel binding
// (RFC 5802 §6, RFC 9266) against xdg-go/scram, an independent client,
// on a real TLS 1.3 connection: the binding the client computes from its
// side of the connection is accepted and the client verifies the server;
// the binding of another connection, a client that does not bind, and
// another binding type are refused; SCRAM-SHA-256 refuses "y" where the
// server can bind (a downgrade) and still takes "y" where it cannot.
func TestSCRAMPlus(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.ChannelBinding = true })
	e.addUser(t, "alice", "pencil")
	client, server := tlsPair(t, tls.VersionTLS13)
	ci := ConnInfo{Remote: addrA, Proto: "imap", TLS: true, TLSExporter: TLSExporter(server)}
	if !ci.ChannelBindingAvailable() {
		t.Fatal("no tls-exporter data on a TLS 1.3 connection")
	}
	c, err := scram.SHA256.NewClient("alice", "pencil", "")
	if err != nil {
		t.Fatal(err)
	}
	if err, ok := runPlus(t, e.auth, MechSCRAMSHA256Plus, ci, c.NewConversationWithChannelBinding(clientBinding(t, client))); err != nil || !ok {
		t.Fatalf("PLUS with the connection's binding: %v, server verified %v", err, ok)
	}
	otherClient, _ := tlsPair(t, tls.VersionTLS13)
	if err, _ := runPlus(t, e.auth, MechSCRAMSHA256Plus, ci, c.NewConversationWithChannelBinding(clientBinding(t, otherClient))); !errors.Is(err, ErrChannelBinding) {
		t.Errorf("PLUS with another connection's binding: %v, want ErrChannelBinding (channel-bindings-dont-match)", err)
	}
	if err, _ := runPlus(t, e.auth, MechSCRAMSHA256Plus, ci, c.NewConversation()); !errors.Is(err, ErrChannelBinding) {
		t.Errorf("PLUS without binding (n): %v, want ErrChannelBinding", err)
	}
	if err, _ := runPlus(t, e.auth, MechSCRAMSHA256Plus, ci, c.NewConversationAdvertisingChannelBinding()); !errors.Is(err, ErrChannelBinding) {
		t.Errorf("PLUS with y: %v, want ErrChannelBinding", err)
	}
	unique := scram.ChannelBinding{Type: scram.ChannelBindingTLSUnique, Data: []byte("0123456789ab")}
	if err, _ := runPlus(t, e.auth, MechSCRAMSHA256Plus, ci, c.NewConversationWithChannelBinding(unique)); !errors.Is(err, ErrChannelBinding) {
		t.Errorf("PLUS with tls-unique: %v, want ErrChannelBinding", err)
	}
	if err, _ := runPlus(t, e.auth, MechSCRAMSHA256, ci, c.NewConversationAdvertisingChannelBinding()); !errors.Is(err, ErrChannelBinding) {
		t.Errorf("SCRAM-SHA-256 with y where the server binds: %v, want ErrChannelBinding", err)
	}
	if err, ok := runPlus(t, e.auth, MechSCRAMSHA256, ConnInfo{}, c.NewConversationAdvertisingChannelBinding()); err != nil || !ok {
		t.Errorf("SCRAM-SHA-256 with y where the server cannot bind: %v %v, want success", err, ok)
	}
	if err, ok := runPlus(t, e.auth, MechSCRAMSHA256, ci, c.NewConversation()); err != nil || !ok {
		t.Errorf("SCRAM-SHA-256 with n over TLS 1.3: %v %v, want success", err, ok)
	}
	if err, _ := runPlus(t, e.auth, MechSCRAMSHA256Plus, ConnInfo{}, c.NewConversationWithChannelBinding(clientBinding(t, client))); !errors.Is(err, ErrUnsupportedMechanism) {
		t.Errorf("PLUS without TLS: %v, want ErrUnsupportedMechanism", err)
	}
	// SCRAM-Channel-Binding off (the default): PLUS is not offered, so
	// "y" is what a binding client rightly says, and is accepted.
	off := newTestEnv(t)
	off.addUser(t, "alice", "pencil")
	if off.auth.ChannelBinding(ci) {
		t.Error("ChannelBinding with the option off")
	}
	if err, _ := runPlus(t, off.auth, MechSCRAMSHA256Plus, ci, c.NewConversationWithChannelBinding(clientBinding(t, client))); !errors.Is(err, ErrUnsupportedMechanism) {
		t.Errorf("PLUS with the option off: %v, want ErrUnsupportedMechanism", err)
	}
	if err, ok := runPlus(t, off.auth, MechSCRAMSHA256, ci, c.NewConversationAdvertisingChannelBinding()); err != nil || !ok {
		t.Errorf("y with the option off over TLS 1.3: %v %v, want success", err, ok)
	}
}

// TestSCRAMPlusWire: the exact messages of a PLUS exchange (RFC 5802 §7):
// "c=" is base64 of the GS2 header "p=tls-exporter,," followed by the 32
// octets of binding data, and the server's final message is "v=…"; a
// wrong "c=" gets "e=channel-bindings-dont-match".
func TestSCRAMPlusWire(t *testing.T) {
	e := newRFC7677Env(t, func(o *Options) { o.ChannelBinding = true })
	cb := []byte(strings.Repeat("\x01", 32))
	ci := ConnInfo{TLSExporter: cb}
	run := func(c string) (string, error) {
		m, err := e.auth.NewMechanism("scram-sha-256-plus", ci)
		if err != nil {
			t.Fatal(err)
		}
		if _, done, err := m.Next(context.Background(), []byte("p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO")); err != nil || done {
			t.Fatalf("client-first: %v %v", done, err)
		}
		ch, _, err := m.Next(context.Background(), []byte(c+",r=rOprNGfwEbeRWgbNEkqO"+rfc7677ServerNonce+",p="+strings.Repeat("A", 43)+"="))
		return string(ch), err
	}
	bad := "c=" + b64("p=tls-exporter,,"+strings.Repeat("\x02", 32))
	if ch, err := run(bad); ch != "e=channel-bindings-dont-match" || !errors.Is(err, ErrChannelBinding) {
		t.Errorf("wrong binding data: %q %v", ch, err)
	}
	if ch, err := run("c=" + b64("p=tls-exporter,,")); ch != "e=channel-bindings-dont-match" || !errors.Is(err, ErrChannelBinding) {
		t.Errorf("GS2 header without binding data: %q %v", ch, err)
	}
	// The right binding with a wrong proof gets as far as the proof.
	if ch, err := run("c=" + b64("p=tls-exporter,,"+string(cb))); ch != "e=invalid-proof" || !errors.Is(err, ErrBadCredentials) {
		t.Errorf("right binding, wrong proof: %q %v", ch, err)
	}
	for _, first := range []string{"p=,,n=user,r=a", "p=tls exporter,,n=user,r=a", "p=tls-exporter", "p=tls-server-end-point,,n=user,r=a"} {
		m, _ := e.auth.NewMechanism(MechSCRAMSHA256Plus, ci)
		if _, done, err := m.Next(context.Background(), []byte(first)); err == nil || !done {
			t.Errorf("client-first %q accepted", first)
		}
	}
}

// TestTLSExporterVersions: tls-exporter data exists on TLS 1.3 only
// (Postern's choice, RFC 9266 §3), and both ends of a connection compute
// the same 32 octets.
func TestTLSExporterVersions(t *testing.T) {
	client, server := tlsPair(t, tls.VersionTLS13)
	got := TLSExporter(server)
	if want := clientBinding(t, client).Data; len(got) != 32 || string(got) != string(want) {
		t.Errorf("TLS 1.3: server %x, client %x", got, want)
	}
	_, server12 := tlsPair(t, tls.VersionTLS12)
	if b := TLSExporter(server12); b != nil {
		t.Errorf("TLS 1.2: %x, want none", b)
	}
	if b := TLSExporter(tls.ConnectionState{}); b != nil {
		t.Errorf("no handshake: %x, want none", b)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
