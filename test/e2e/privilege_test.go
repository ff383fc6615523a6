package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/tlsconf"
)

// TestRunAsUser starts the server as root with Run-As-User and checks that
// it runs as that account and that the store's files belong to it.
func TestRunAsUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users; skipped for a developer running as themselves")
	}
	e := newEnv(t, "Run-As-User: nobody")
	// t.TempDir's parents are private; let the unprivileged account reach
	// its data directory.
	for d := e.dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()) && d != os.TempDir() {
			os.Chmod(d, 0o755)
		}
	}
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	if uid := processUID(t, s.cmd.Process.Pid); uid != 65534 {
		t.Errorf("server runs as uid %d, want nobody (65534)", uid)
	}
	e.run(sampleMessage, "deliver", "alice").must(t, 0)
	e.run("", "ctl", "shutdown").must(t, 0)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	filepath.WalkDir(e.data, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 {
			t.Errorf("%s belongs to uid %d, not nobody", p, st.Uid)
		}
		return nil
	})
}

func processUID(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			uid, _ := strconv.Atoi(strings.Fields(rest)[1]) // effective uid
			return uid
		}
	}
	t.Fatal("no Uid line")
	return -1
}

// TestCertReloadAfterPrivilegeDrop: the certificate and key live in a
// directory only root may enter (as Let's Encrypt's do); the server starts
// as root, switches to nobody, and after a renewal and SIGHUP serves the
// new certificate, read through its privileged reader.
func TestCertReloadAfterPrivilegeDrop(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users; skipped for a developer running as themselves")
	}
	e, p := newTLSEnv(t, "IMAP", "")
	live := filepath.Join(e.dir, "live")
	if err := os.Mkdir(live, 0o700); err != nil {
		t.Fatal(err)
	}
	certA := installCert(t, live, "first.example")
	conf, _ := os.ReadFile(e.conf)
	c := strings.Replace(string(conf), "Listen-Address: 127.0.0.1\n", "Listen-Address: 127.0.0.1\nRun-As-User: nobody\n"+
		"Certificate-File: "+live+"/server.crt\nKey-File: "+live+"/server.key\n", 1)
	writeFile(t, e.conf, c)
	for d := e.dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()) && d != os.TempDir() {
			os.Chmod(d, 0o755)
		}
	}
	os.Chmod(live, 0o700) // root only, again
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	t.Cleanup(func() { e.run("", "ctl", "shutdown"); s.wait() })
	if uid := processUID(t, s.cmd.Process.Pid); uid != 65534 {
		t.Fatalf("server runs as uid %d, want nobody", uid)
	}
	if got := servedCert(t, p.secure); !bytes.Equal(got, certA) {
		t.Fatal("the server does not serve the first certificate")
	}
	certB := installCert(t, live, "renewed.example")
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for !bytes.Equal(servedCert(t, p.secure), certB) {
		if time.Now().After(deadline) {
			t.Fatalf("after renewal and SIGHUP the old certificate is still served; run log:\n%s", readLog(t, e.logs, "postern-run.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The configuration file (0600, root's) is read again through the
	// privileged reader too: the reload is not refused for it.
	deadline = time.Now().Add(15 * time.Second)
	for !strings.Contains(readLog(t, e.logs, "postern-run.log"), `msg="reload done"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload done; run log:\n%s", readLog(t, e.logs, "postern-run.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if run := readLog(t, e.logs, "postern-run.log"); strings.Contains(run, "reload certificates failed") || strings.Contains(run, "reload refused") {
		t.Errorf("run log:\n%s", run)
	}
}

// installCert makes a self-signed pair for host and moves it into dir as
// server.crt and server.key (root-owned, 0600), as a renewal does; it
// returns the certificate's DER.
func installCert(t *testing.T, dir, host string) []byte {
	t.Helper()
	tmp := t.TempDir()
	certPath, keyPath, err := tlsconf.GenerateSelfSigned(tmp, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{keyPath: "server.key", certPath: "server.crt"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, dst+".new"), string(b))
		if err := os.Rename(filepath.Join(dir, dst+".new"), filepath.Join(dir, dst)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(certPath)
	block, _ := pem.Decode(b)
	return block.Bytes
}

// servedCert returns the leaf certificate an implicit-TLS port presents.
func servedCert(t *testing.T, port int) []byte {
	t.Helper()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
}
