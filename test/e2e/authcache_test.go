package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// TestAuthCacheAcrossProtocols: a password verified once (argon2id) is not
// hashed again by the next IMAP LOGIN, POP3 USER/PASS or SMTP AUTH PLAIN,
// counted by the server's own metrics; `postern user passwd` from another
// process and `user set --disabled` take effect at the next login, with
// the cache warm. Memory-Limit reaches the Go runtime.
func TestAuthCacheAcrossProtocols(t *testing.T) {
	t.Parallel()
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	e, p := newMailEnv(t, "Metrics-Address: "+metrics+"\nMemory-Limit: 256M", "")
	imapPort := freePort(t)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(imapPort)+"\nSecure-Port: 0", 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	e.addUser("alice", "alice-pw")
	e.startMail()
	imapAddr := "127.0.0.1:" + strconv.Itoa(imapPort)
	if got := scrapeMetric(t, metrics, "go_gc_gomemlimit_bytes"); got != 256<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %d, want Memory-Limit's %d", got, 256<<20)
	}

	verifies := func() int { return scrapeMetric(t, metrics, `postern_auth_password_hashes_total{op="verify"}`) }
	hits := func() int { return scrapeMetric(t, metrics, `postern_auth_cache_lookups_total{result="hit"}`) }
	want := func(step string, v, h int) {
		t.Helper()
		if gv, gh := verifies(), hits(); gv != v || gh != h {
			t.Fatalf("after %s: %d argon2id verifications and %d cache hits, want %d and %d", step, gv, gh, v, h)
		}
	}

	mustIMAPLogin(t, imapAddr, "alice", "alice-pw")
	want("the first IMAP LOGIN", 1, 0)
	mustIMAPLogin(t, imapAddr, "alice", "alice-pw")
	want("a second IMAP LOGIN", 1, 1)
	if err := pop3Login("127.0.0.1:"+strconv.Itoa(p.pop), "alice", "alice-pw"); err != nil {
		t.Fatalf("POP3 USER/PASS: %v", err)
	}
	want("POP3 USER/PASS", 1, 2)
	if err := smtpAuthPlain("127.0.0.1:"+strconv.Itoa(p.submission), "alice", "alice-pw"); err != nil {
		t.Fatalf("SMTP AUTH PLAIN: %v", err)
	}
	want("SMTP AUTH PLAIN", 1, 3)

	// A wrong password is verified in full.
	if err := imapLogin(imapAddr, "alice", "wrong-pw"); err == nil {
		t.Fatal("LOGIN with a wrong password succeeded")
	}
	want("a wrong password", 2, 3)

	// A new password from another process: the old one fails at once.
	e.run("new-pw\n", "user", "passwd", "alice", "--password-stdin").must(t, 0)
	if err := imapLogin(imapAddr, "alice", "alice-pw"); err == nil {
		t.Fatal("the old password still logs in after user passwd")
	}
	want("the old password after user passwd", 3, 3)
	mustIMAPLogin(t, imapAddr, "alice", "new-pw")
	mustIMAPLogin(t, imapAddr, "alice", "new-pw")
	want("the new password twice", 4, 4)

	// Disabled while cached: refused, with no hash to tell.
	e.run("", "user", "set", "alice", "--disabled").must(t, 0)
	if err := imapLogin(imapAddr, "alice", "new-pw"); err == nil {
		t.Fatal("a disabled account logged in from the cache")
	}
	e.run("", "user", "set", "alice", "--enabled").must(t, 0)
	mustIMAPLogin(t, imapAddr, "alice", "new-pw")
	want("disable and enable", 4, 6)
}

func imapLogin(addr, user, pw string) error {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(user, pw).Wait(); err != nil {
		return err
	}
	return c.Logout().Wait()
}

func mustIMAPLogin(t *testing.T, addr, user, pw string) {
	t.Helper()
	if err := imapLogin(addr, user, pw); err != nil {
		t.Fatalf("IMAP LOGIN %s: %v", user, err)
	}
}

// pop3Login runs USER, PASS and QUIT (RFC 1939 §7).
func pop3Login(addr, user, pw string) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	for _, cmd := range []string{"", "USER " + user, "PASS " + pw, "QUIT"} {
		if cmd != "" {
			if _, err := io.WriteString(conn, cmd+"\r\n"); err != nil {
				return err
			}
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+OK") {
			return fmt.Errorf("%q: %s", strings.Fields(cmd + " greeting")[0], strings.TrimSpace(line))
		}
	}
	return nil
}

// smtpAuthPlain authenticates on the submission port (RFC 4954, RFC 4616);
// net/smtp sends PLAIN without TLS only to a loopback server.
func smtpAuthPlain(addr, user, pw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example.org"); err != nil {
		return err
	}
	if err := c.Auth(smtp.PlainAuth("", user, pw, "127.0.0.1")); err != nil {
		return err
	}
	return c.Quit()
}

// scrapeMetric reads one sample, named with its labels exactly as the
// Prometheus text format writes it, from the server's /metrics; a sample
// not there yet is 0.
func scrapeMetric(t *testing.T, addr, sample string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %q", sample, v)
			}
			return int(f)
		}
	}
	return 0
}
