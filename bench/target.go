package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Protocols a workload needs.
const (
	protoIMAP = "IMAP"
	protoPOP3 = "POP3"
	protoLMTP = "LMTP"
)

const (
	benchPassword = "bench-Pa55word"

	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
	dialTimeout  = 10 * time.Second
)

// target is one running server under test, reached only through its
// binary and its protocols.
type target struct {
	name    string // "Postern" or "Dovecot"
	version string
	addr    map[string]string // protocol → host:port
	na      map[string]string // protocol → why it is not available
	cmd     *exec.Cmd
	waitErr chan error
	logPath string
	notes   []string

	// importMaildir fills a user's INBOX without LMTP; nil where LMTP is
	// the only way in.
	importMaildir func(ctx context.Context, user, dir string) error
	// fillMaildir fills a user's INBOX by writing its Maildir directly:
	// write puts the messages into the cur directory it is given. Nil
	// where the server has no Maildir of its own (Postern).
	fillMaildir func(ctx context.Context, user string, write func(cur string) error) error

	// alt is a second node's addresses (postern-pg2): dialAddr takes
	// the nodes in turn. peers are that node's processes, stopped with
	// this one.
	alt   map[string]string
	rr    atomic.Int64
	peers []*target

	mu     sync.Mutex
	filled map[string]int // user → messages known to be in the INBOX
}

// dialAddr is the address a new connection of proto goes to: with a
// second node, each node in turn, as a TCP load balancer would.
func (t *target) dialAddr(proto string) string {
	if a := t.alt[proto]; a != "" && t.rr.Add(1)%2 == 0 {
		return a
	}
	return t.addr[proto]
}

func (t *target) available(proto string) (bool, string) {
	if r, ok := t.na[proto]; ok {
		return false, r
	}
	return true, ""
}

// pid is the root of the server's process tree.
func (t *target) pid() int { return t.cmd.Process.Pid }

// alive reports whether the server process is still running.
func (t *target) alive() bool {
	select {
	case <-t.waitErr:
		return false
	default:
		return true
	}
}

// stop ends the server gracefully (SIGTERM), then by SIGKILL of its process
// group if it does not stop in time.
func (t *target) stop() {
	for _, p := range t.peers {
		p.stop()
	}
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.waitErr:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
		<-t.waitErr
	}
}

// start runs cmd in its own process group and waits for it in the
// background.
func (t *target) start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	t.cmd = cmd
	t.waitErr = make(chan error, 1)
	go func() { t.waitErr <- cmd.Wait(); close(t.waitErr) }()
	return nil
}

// probe checks that proto answers at addr with a greeting that does not
// say "not available"; it returns the reason when it does not.
func probe(ctx context.Context, addr string) string {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return "connection refused at " + addr + " (protocol not served yet)"
		}
		return err.Error()
	}
	defer conn.Close()
	// Dovecot greets only once its auth process is ready, which can take
	// seconds after a start.
	_ = conn.SetDeadline(time.Now().Add(startTimeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "no greeting at " + addr + ": " + err.Error()
	}
	if strings.Contains(strings.ToLower(line), "not available") {
		return "greeting says not available: " + strings.TrimSpace(line)
	}
	if !(strings.HasPrefix(line, "* OK") || strings.HasPrefix(line, "+OK") || strings.HasPrefix(line, "220")) {
		return "unexpected greeting: " + strings.TrimSpace(line)
	}
	return ""
}

// waitListening waits until addr accepts connections or the server ends.
func (t *target) waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if !t.alive() {
			return fmt.Errorf("%s exited during start; see %s", t.name, t.logPath)
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not listen on %s within %v; see %s", t.name, addr, startTimeout, t.logPath)
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeSelfSigned writes a self-signed ECDSA certificate and key; Postern
// wants TLS material even when only cleartext ports are open.
func writeSelfSigned(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// lineWriter copies a process's output to a file and hands each line to
// fn until fn returns false.
func scanLines(r io.Reader, w io.Writer, fn func(string) bool) {
	sc := bufio.NewScanner(r)
	wanted := true
	for sc.Scan() {
		fmt.Fprintln(w, sc.Text())
		if wanted {
			wanted = fn(sc.Text())
		}
	}
}
