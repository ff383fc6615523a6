package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestGenerateSelfSigned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	certPath, keyPath, err := GenerateSelfSigned(dir, "mail.example.com", []string{"imap.example.com", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, certPath: 0o644, keyPath: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	m, warns, err := Load(Files{}, dir, LoadOptions{})
	if err != nil || len(warns) != 0 {
		t.Fatalf("Load: %v %v", err, warns)
	}
	leaf := m.Certificate().Leaf
	for _, n := range []string{"mail.example.com", "localhost", "127.0.0.1", "::1", "imap.example.com", "192.0.2.7"} {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("certificate does not cover %s: %v", n, err)
		}
	}
	if d := time.Until(leaf.NotAfter); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("validity %v, want one year", d)
	}

	// A second call keeps valid files.
	before, _ := os.ReadFile(certPath)
	if _, _, err := GenerateSelfSigned(dir, "mail.example.com", []string{"imap.example.com"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(certPath); !bytes.Equal(before, after) {
		t.Error("valid certificate was replaced")
	}
	// A new name makes a new certificate.
	if _, _, err := GenerateSelfSigned(dir, "other.example.com", nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(certPath); bytes.Equal(before, after) {
		t.Error("certificate not renewed for a new hostname")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (temporary files left?)", len(entries))
	}
}

// TestGenerateSelfSignedKeepsAdminFiles checks that a certificate the
// administrator put in place is never overwritten.
func TestGenerateSelfSignedKeepsAdminFiles(t *testing.T) {
	dir, _ := testFiles(t, 0o600)
	before, _ := os.ReadFile(filepath.Join(dir, "server.crt"))
	if _, _, err := GenerateSelfSigned(dir, "other.example.com", nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "server.crt")); !bytes.Equal(before, after) {
		t.Error("administrator's certificate was replaced")
	}
}

// TestSelfSignedHandshake runs a TLS server on 127.0.0.1 with the generated
// material and a client that trusts only the generated certificate, once
// with ServerName localhost and once with the IP address.
func TestSelfSignedHandshake(t *testing.T) {
	dir := t.TempDir()
	certPath, _, err := GenerateSelfSigned(dir, "mail.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(Files{}, dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "+OK hello\r\n")
			}()
		}
	}()

	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(certPath)
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("cannot add generated certificate to pool")
	}
	for _, name := range []string{"localhost", "127.0.0.1"} {
		t.Run(name, func(t *testing.T) {
			c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 11)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "+OK hello\r\n" {
				t.Fatalf("read %q %v", buf, err)
			}
			if v := c.ConnectionState().Version; v < tls.VersionTLS12 {
				t.Errorf("version %x", v)
			}
		})
	}
	// TLS 1.1 is refused.
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
	if err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
}
