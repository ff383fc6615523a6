// Package ldaptest runs a private OpenLDAP server (Debian's slapd) for
// tests: a temporary slapd.conf and mdb database loaded with slapadd, on
// free loopback ports, ldap:// with StartTLS and ldaps:// with a
// certificate of a CA made for the test.
package ldaptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/testport"
)

// The directory's suffix and its administrator, who may read every
// attribute (userPassword included).
const (
	slapdPath   = "/usr/sbin/slapd"
	slapaddPath = "/usr/sbin/slapadd"
	Suffix      = "dc=example,dc=org"
	RootDN      = "cn=admin,dc=example,dc=org"
	RootPW      = "root-secret"
)

// slapd is a private OpenLDAP server of one test: a temporary slapd.conf
// and mdb database, loaded with slapadd, listening on free loopback ports
// with ldap:// (StartTLS offered) and ldaps://, its certificate signed by
// a CA made for the test.
type Server struct {
	Cmd      *exec.Cmd   // slapd itself, for SIGSTOP
	LDAPURL  string      // ldap:// (StartTLS offered)
	LDAPSURL string      // ldaps://
	TLS      *tls.Config // trusts the test CA
	CAFile   string      // the test CA, PEM
}

// Need skips without Debian's slapd, and fails when the test run
// requires its tools (TEST_TOOLS_REQUIRED=1, test.sh).
func Need(t testing.TB) {
	t.Helper()
	for _, p := range []string{slapdPath, slapaddPath} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
				t.Fatalf("%s missing (Debian package slapd)", p)
			}
			t.Skipf("%s missing (Debian package slapd)", p)
		}
	}
}

// ssha is OpenLDAP's {SSHA} of a password: SHA-1 of password and salt,
// then the salt, in base64.
func ssha(password string) string {
	salt := []byte("saltsalt")
	h := sha1.Sum(append([]byte(password), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// testLDIF is the directory: alice (alice-pw) and bob (bob-pw, with a
// second address robert@example.org), carol (carol-pw) whom a filter with
// (!(employeeType=disabled)) excludes, two entries of uid dup, and a user
// whose uid is not an account name.
func testLDIF() string {
	user := func(uid, pw string, extra ...string) string {
		return fmt.Sprintf("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s@example.org\nuserPassword: %s\n%s\n",
			uid, Suffix, uid, uid, uid, uid, ssha(pw), strings.Join(extra, ""))
	}
	return "dn: " + Suffix + "\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n" +
		"dn: ou=people," + Suffix + "\nobjectClass: organizationalUnit\nou: people\n\n" +
		"dn: ou=other," + Suffix + "\nobjectClass: organizationalUnit\nou: other\n\n" +
		user("alice", "alice-pw") +
		user("bob", "bob-pw", "mail: robert@example.org\n") +
		user("carol", "carol-pw", "employeeType: disabled\n") +
		user("dup", "dup-pw") +
		strings.Replace(user("dup", "dup-pw"), "ou=people", "ou=other", 1) +
		user("bad_name!", "x")
}

// Start starts the server; it is killed at cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	Need(t)
	dir := t.TempDir()
	caPEM, pool := writeTestPKI(t, dir)
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
TLSCACertificateFile %[1]s/ca.crt
TLSCertificateFile %[1]s/server.crt
TLSCertificateKeyFile %[1]s/server.key
sizelimit unlimited
database mdb
maxsize 10485760
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
`, dir, Suffix, RootDN, RootPW)
	confPath := filepath.Join(dir, "slapd.conf")
	ldif := filepath.Join(dir, "data.ldif")
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	for p, body := range map[string]string{confPath: conf, ldif: testLDIF()} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(slapaddPath, "-f", confPath, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	ports := testport.GetN(t, 2)
	s := &Server{
		LDAPURL:  fmt.Sprintf("ldap://127.0.0.1:%d", ports[0]),
		LDAPSURL: fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1]),
		TLS:      &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		CAFile:   caPEM,
	}
	s.Cmd = exec.Command(slapdPath, "-d", "0", "-f", confPath, "-h", s.LDAPURL+"/ "+s.LDAPSURL+"/")
	s.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs strings.Builder
	s.Cmd.Stderr = &logs
	if err := s.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Cmd.Process.Signal(syscall.SIGCONT)
		s.Cmd.Process.Kill()
		s.Cmd.Wait()
	})
	waitListening(t, ports, &logs)
	return s
}

// waitListening waits until both ports accept connections.
func waitListening(t testing.TB, ports []int, logs *strings.Builder) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range ports {
		for {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("slapd does not listen on %d: %v\n%s", p, err, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// writeTestPKI writes ca.crt, server.crt (for 127.0.0.1) and server.key
// into dir; it returns the CA file's path and a pool trusting it.
func writeTestPKI(t testing.TB, dir string) (string, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Postern test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(srvKey)
	files := map[string][]byte{
		"ca.crt":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"server.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return filepath.Join(dir, "ca.crt"), pool
}
