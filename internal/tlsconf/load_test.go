package tlsconf

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadPermissions(t *testing.T) {
	t.Run("0600 ok", func(t *testing.T) {
		dir, _ := testFiles(t, 0o600)
		m, warns, err := Load(Files{}, dir, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(warns) != 0 {
			t.Errorf("unexpected warnings: %v", warns)
		}
		if m.CertPath() != dir+"/server.crt" || m.KeyPath() != dir+"/server.key" {
			t.Errorf("paths %q %q", m.CertPath(), m.KeyPath())
		}
	})
	t.Run("0640 warns", func(t *testing.T) {
		dir, _ := testFiles(t, 0o640)
		_, warns, err := Load(Files{}, dir, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(warns) != 1 || !strings.Contains(warns[0].String(), "Key-File: key file "+dir+"/server.key is readable by group") ||
			!strings.Contains(warns[0].String(), "(mode 0640)") {
			t.Errorf("warnings = %v", warns)
		}
	})
	t.Run("0644 refused", func(t *testing.T) {
		dir, _ := testFiles(t, 0o644)
		_, _, err := Load(Files{}, dir, LoadOptions{})
		p := dir + "/server.key"
		want := fmt.Sprintf("Key-File: key file %s is readable by other users (mode 0644); run: chmod 600 %s", p, p)
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
		if !errors.Is(err, ErrInsecureFile) {
			t.Errorf("not ErrInsecureFile: %v", err)
		}
	})
	t.Run("0604 refused with section", func(t *testing.T) {
		dir, _ := testFiles(t, 0o604)
		_, _, err := Load(Files{}, dir, LoadOptions{Section: "POP"})
		if err == nil || !strings.HasPrefix(err.Error(), "[POP] Key-File: key file ") || !strings.Contains(err.Error(), "(mode 0604)") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Load(Files{Certificate: "pop"}, dir, LoadOptions{})
	want := fmt.Sprintf(`Certificate-File: certificate file %s/pop.crt does not exist (resolved from Certificate-File "pop")`, dir)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("not fs.ErrNotExist: %v", err)
	}

	writeFile(t, filepath.Join(dir, "pop.crt"), testCert(t, newECKey(t), "x", time.Now(), time.Hour), 0o644)
	_, _, err = Load(Files{Certificate: "pop"}, dir, LoadOptions{})
	want = fmt.Sprintf("Key-File: key file %s/server.key does not exist (the default; set Key-File to the file's path or directory)", dir)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestLoadMismatch(t *testing.T) {
	dir, _ := testFiles(t, 0o600)
	writeFile(t, filepath.Join(dir, "server.key"), pkcs8PEM(t, newECKey(t)), 0o600)
	_, _, err := Load(Files{}, dir, LoadOptions{})
	if !errors.Is(err, ErrKeyMismatch) || !strings.Contains(err.Error(), "does not match certificate file") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadGarbage(t *testing.T) {
	dir, _ := testFiles(t, 0o600)
	writeFile(t, filepath.Join(dir, "server.key"), []byte("not a key\n"), 0o600)
	if _, _, err := Load(Files{}, dir, LoadOptions{}); !errors.Is(err, ErrNoKey) {
		t.Errorf("key: err = %v", err)
	}
	writeFile(t, filepath.Join(dir, "server.crt"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
	if _, _, err := Load(Files{}, dir, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "Certificate-File: certificate 1 in") {
		t.Errorf("cert: err = %v", err)
	}
}

// TestLoadCombinedFile checks a single PEM file holding key and certificate.
func TestLoadCombinedFile(t *testing.T) {
	dir := t.TempDir()
	key := newRSAKey(t)
	der := x509.MarshalPKCS1PrivateKey(key)
	data := append(testCert(t, key, "x", time.Now(), time.Hour), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})...)
	writeFile(t, filepath.Join(dir, "mail.pem"), data, 0o600)
	m, _, err := Load(Files{Certificate: "mail.pem", Key: "mail.pem"}, dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.CertPath() != m.KeyPath() {
		t.Errorf("paths differ")
	}
}

func TestLoadExpiryWarning(t *testing.T) {
	dir, _ := testFiles(t, 0o600) // valid 90 days
	now := time.Now().Add(80 * 24 * time.Hour)
	_, warns, err := Load(Files{}, dir, LoadOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Message, "expires on") {
		t.Errorf("warnings = %v", warns)
	}
}

// encryptedKeyCase writes an encrypted key and a passphrase file.
type encryptedKeyCase struct {
	name   string
	keyPEM func(t *testing.T, dir string, pass string) []byte
}

func encryptedKeyCases(t *testing.T) []encryptedKeyCase {
	return []encryptedKeyCase{
		{name: "pkcs8 pbes2 in-test encoder", keyPEM: func(t *testing.T, dir, pass string) []byte {
			key := readKey(t, dir)
			return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encryptPKCS8(t, pkcs8DER(t, key), pass, 2048)})
		}},
		{name: "legacy pem", keyPEM: func(t *testing.T, dir, pass string) []byte {
			key := readKey(t, dir)
			der, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			//lint:ignore SA1019 the test needs a legacy encrypted key to read.
			block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(pass), x509.PEMCipherAES256)
			if err != nil {
				t.Fatal(err)
			}
			return pem.EncodeToMemory(block)
		}},
		{name: "openssl genpkey-style pkcs8", keyPEM: opensslEncrypt([]string{"pkcs8", "-topk8", "-v2", "aes256"})},
		{name: "openssl pkcs8 scrypt", keyPEM: opensslEncrypt([]string{"pkcs8", "-topk8", "-scrypt"})},
		{name: "openssl pkcs8 des3 sha1", keyPEM: opensslEncrypt([]string{"pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1"})},
	}
}

// opensslEncrypt encrypts the test key with the openssl command, for
// interoperability; the test skips (saying why) when openssl is missing,
// while the in-test encoder case always runs.
func opensslEncrypt(args []string) func(t *testing.T, dir, pass string) []byte {
	return func(t *testing.T, dir, pass string) []byte {
		bin, err := exec.LookPath("openssl")
		if err != nil {
			if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
				t.Fatal("openssl is required (TEST_TOOLS_REQUIRED=1) but not on PATH: apt-get install openssl")
			}
			t.Skip("openssl not on PATH (apt-get install openssl); the in-test PBES2 encoder case covers the decoder")
		}
		passFile := filepath.Join(dir, "openssl-pass")
		writeFile(t, passFile, []byte(pass), 0o600)
		args = append(args, "-in", filepath.Join(dir, "server.key"), "-passout", "file:"+passFile)
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
		return out
	}
}

func TestLoadEncryptedKey(t *testing.T) {
	const pass = "correct horse battery staple"
	for _, tc := range encryptedKeyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := testFiles(t, 0o600)
			enc := tc.keyPEM(t, dir, pass)
			writeFile(t, filepath.Join(dir, "server.key"), enc, 0o600)

			_, _, err := Load(Files{}, dir, LoadOptions{})
			if !errors.Is(err, ErrPassphraseRequired) || !strings.Contains(err.Error(), "set Key-Passphrase-File") {
				t.Fatalf("no passphrase: err = %v", err)
			}

			writeFile(t, filepath.Join(dir, "pass"), []byte(pass+"\n"), 0o600)
			m, warns, err := Load(Files{KeyPassphraseFile: "pass"}, dir, LoadOptions{})
			if err != nil {
				t.Fatalf("with passphrase: %v", err)
			}
			if len(warns) != 0 || m.Certificate() == nil {
				t.Errorf("warnings %v", warns)
			}

			writeFile(t, filepath.Join(dir, "wrong"), []byte("wrong passphrase\n"), 0o600)
			_, _, err = Load(Files{KeyPassphraseFile: dir + "/wrong"}, dir, LoadOptions{})
			if !errors.Is(err, ErrBadPassphrase) || !strings.HasPrefix(err.Error(), "Key-Passphrase-File: the passphrase in "+dir+"/wrong does not decrypt") {
				t.Fatalf("wrong passphrase: err = %v", err)
			}

			writeFile(t, filepath.Join(dir, "pass"), []byte(pass), 0o644)
			_, _, err = Load(Files{KeyPassphraseFile: "pass"}, dir, LoadOptions{})
			want := fmt.Sprintf("Key-Passphrase-File: passphrase file %s/pass is readable by other users (mode 0644); run: chmod 600 %s/pass", dir, dir)
			if err == nil || err.Error() != want {
				t.Fatalf("readable passphrase file: err = %v", err)
			}
		})
	}
}

func TestLoadPassphraseNotNeeded(t *testing.T) {
	dir, _ := testFiles(t, 0o600)
	writeFile(t, filepath.Join(dir, "pass"), []byte("x"), 0o600)
	_, warns, err := Load(Files{KeyPassphraseFile: "pass"}, dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Message, "is not encrypted") {
		t.Errorf("warnings = %v", warns)
	}
}

func TestReload(t *testing.T) {
	dir, _ := testFiles(t, 0o600)
	m, _, err := Load(Files{}, dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.TLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	first, _ := cfg.GetCertificate(nil)

	// A broken replacement keeps the old certificate.
	writeFile(t, filepath.Join(dir, "server.key"), pkcs8PEM(t, newECKey(t)), 0o600)
	if _, err := m.Reload(); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("Reload with mismatch: %v", err)
	}
	if got, _ := cfg.GetCertificate(nil); got != first {
		t.Error("failed reload replaced the certificate")
	}

	// A good replacement is used by the next handshake of the same config.
	key := newECKey(t)
	writeFile(t, filepath.Join(dir, "server.crt"), testCert(t, key, "new.example.com", time.Now(), 48*time.Hour), 0o644)
	writeFile(t, filepath.Join(dir, "server.key"), pkcs8PEM(t, key), 0o600)
	if _, err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	got, _ := cfg.GetCertificate(nil)
	if got == first || got.Leaf.Subject.CommonName != "new.example.com" {
		t.Errorf("certificate not swapped: %v", got.Leaf.Subject)
	}
	if !m.NotAfter().Equal(got.Leaf.NotAfter) {
		t.Errorf("NotAfter %v", m.NotAfter())
	}
}

// readKey reads back the unencrypted test key.
func readKey(t *testing.T, dir string) *ecdsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}
