package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

const (
	// selfSignedValidity is the lifetime of a generated certificate. One
	// year keeps it inside what Apple platforms accept for user-trusted
	// server certificates; a start with fewer than selfSignedRenew left
	// replaces it.
	selfSignedValidity = 365 * 24 * time.Hour
	selfSignedRenew    = 30 * 24 * time.Hour
	// selfSignedOrg marks certificates made by GenerateSelfSigned, so that a
	// certificate the administrator put in their place is never replaced.
	selfSignedOrg = "Postern self-signed"
)

// GenerateSelfSigned makes sure dir holds server.crt and server.key, a
// self-signed ECDSA P-256 certificate and its key, for quickstart mode. The
// certificate names hostname, localhost, 127.0.0.1, ::1 and the extra
// names (DNS names or IP addresses). Existing files are kept when they load
// as a matching pair and either were not made by this function (the
// administrator replaced them) or still cover every name for more than 30
// days; otherwise new files are written. The directory is created with mode
// 0700; the key is written 0600 and the certificate 0644, each atomically
// (temporary file, fsync, rename).
func GenerateSelfSigned(dir, hostname string, names []string) (certPath, keyPath string, err error) {
	certPath = filepath.Join(dir, DefaultCertName)
	keyPath = filepath.Join(dir, DefaultKeyName)
	all := selfSignedNames(hostname, names)
	if keepExisting(dir, all) {
		return certPath, keyPath, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create certificate directory: %w", err)
	}
	certPEM, keyPEM, err := selfSigned(all, time.Now())
	if err != nil {
		return "", "", err
	}
	// Key first: a crash between the two renames leaves a pair that does
	// not match, which the next start regenerates.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// selfSignedNames returns the names to certify, without duplicates, in a
// stable order.
func selfSignedNames(hostname string, extra []string) []string {
	all := []string{hostname, "localhost", "127.0.0.1", "::1"}
	all = append(all, extra...)
	var out []string
	for _, n := range all {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// keepExisting reports whether the files in dir should be left alone.
func keepExisting(dir string, names []string) bool {
	m, _, err := Load(Files{Certificate: dir + "/", Key: dir + "/"}, dir, LoadOptions{})
	if err != nil {
		return false
	}
	leaf := m.Certificate().Leaf
	if !slices.Contains(leaf.Subject.Organization, selfSignedOrg) {
		return true
	}
	if time.Until(leaf.NotAfter) < selfSignedRenew {
		return false
	}
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// selfSigned creates a certificate and key in PEM.
func selfSigned(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{selfSignedOrg}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, created with the final mode, synced, then renamed; the
// directory is synced so the rename survives a crash.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
