package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// node is one `postern serve` of a two-node site: its own data directory
// and ports, the shared database.
type node struct {
	*env
	mailPorts
	imap tlsPorts
}

// newNode writes a node's configuration: SMTP, LMTP, POP3 and IMAP on
// free loopback ports, the store at url, and smtpExtra in [SMTP].
func newNode(t *testing.T, url, smtpExtra string) *node {
	t.Helper()
	e, p := newMailEnv(t, "Store-URL: "+url, smtpExtra)
	n := &node{env: e, mailPorts: p, imap: tlsPorts{plain: freePort(t), secure: freePort(t), cafile: p.cafile}}
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(n.imap.plain)+
		"\nSecure-Port: "+strconv.Itoa(n.imap.secure), 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// dialIMAP logs alice in to a node's IMAP over TLS.
func (n *node) dialIMAP(t *testing.T, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	pem, err := os.ReadFile(n.imap.cafile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := imapclient.DialTLS("localhost:"+strconv.Itoa(n.imap.secure), &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, UnilateralDataHandler: h,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice", "alice-pw").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// textConn is a line-based protocol connection (LMTP, POP3).
type textConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialText(t *testing.T, port int) *textConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(time.Minute))
	t.Cleanup(func() { c.Close() })
	tc := &textConn{t: t, c: c, r: bufio.NewReader(c)}
	tc.reply() // greeting
	return tc
}

// reply reads one reply (the last line of a multi-line SMTP reply).
func (tc *textConn) reply() string {
	tc.t.Helper()
	for {
		l, err := tc.r.ReadString('\n')
		if err != nil {
			tc.t.Fatalf("read reply: %v", err)
		}
		if len(l) < 4 || l[3] != '-' {
			return strings.TrimRight(l, "\r\n")
		}
	}
}

func (tc *textConn) cmd(line string) string {
	tc.t.Helper()
	fmt.Fprintf(tc.c, "%s\r\n", line)
	return tc.reply()
}

// lmtpDeliver delivers msg (CRLF lines) to alice over a node's LMTP.
func lmtpDeliver(t *testing.T, n *node, msg string) {
	t.Helper()
	c := dialText(t, n.lmtp)
	for _, l := range []string{"LHLO test.example", "MAIL FROM:<bob@example.org>", "RCPT TO:<alice@e2e.example.org>"} {
		if r := c.cmd(l); !strings.HasPrefix(r, "250") {
			t.Fatalf("LMTP %s: %s", l, r)
		}
	}
	if r := c.cmd("DATA"); !strings.HasPrefix(r, "354") {
		t.Fatalf("LMTP DATA: %s", r)
	}
	if r := c.cmd(msg + "."); !strings.HasPrefix(r, "250") {
		t.Fatalf("LMTP end of data: %s", r)
	}
	c.cmd("QUIT")
}

// TestTwoNodes runs two `postern serve` on one PostgreSQL database, each
// with its own data directory: IDLE on node 1 hears, within a second, a
// message delivered over LMTP to node 2; a message appended on node 1 is
// fetched octet for octet from node 2; a POP3 session on node 1 holds
// the maildrop against one on node 2 ([IN-USE]) until it quits.
func TestTwoNodes(t *testing.T) {
	url := pgtest.New(t)
	n1, n2 := newNode(t, url, ""), newNode(t, url, "")
	n1.addUser("alice", "alice-pw")
	n1.startMail()
	n2.startMail()

	exists := make(chan uint32, 16)
	c1 := n1.dialIMAP(t, &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
		if d.NumMessages != nil {
			exists <- *d.NumMessages
		}
	}})
	if _, err := c1.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c1.Idle()
	if err != nil {
		t.Fatal(err)
	}
	lmtpDeliver(t, n2, "From: bob@example.org\r\nTo: alice@e2e.example.org\r\nSubject: via node 2\r\n\r\nhello\r\n")
	delivered := time.Now()
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d on node 1, want 1", n)
		}
		t.Logf("node 1 announced node 2's delivery %v after LMTP's 250", time.Since(delivered).Round(time.Millisecond))
		if d := time.Since(delivered); d > time.Second {
			t.Errorf("node 1 announced node 2's delivery after %v, want within 1 s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("IDLE on node 1 did not hear node 2's LMTP delivery")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}

	body := []byte("From: alice@e2e.example.org\r\nSubject: appended on node 1\r\n\r\nbinary-ish \x01\x7f line\r\nlast\r\n")
	ad := c1.Append("INBOX", int64(len(body)), nil)
	ad.Write(body)
	ad.Close()
	res, err := ad.Wait()
	if err != nil {
		t.Fatal(err)
	}
	c2 := n2.dialIMAP(t, nil)
	if _, err := c2.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c2.Fetch(imap.UIDSetNum(res.UID), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch on node 2: %v, %d messages", err, len(msgs))
	}
	if got := msgs[0].FindBodySection(section); string(got) != string(body) {
		t.Errorf("node 2 fetched %q, node 1 appended %q", got, body)
	}

	p1 := dialText(t, n1.pop)
	p1.cmd("USER alice")
	if r := p1.cmd("PASS alice-pw"); !strings.HasPrefix(r, "+OK") {
		t.Fatalf("POP3 login on node 1: %s", r)
	}
	p2 := dialText(t, n2.pop)
	p2.cmd("USER alice")
	if r := p2.cmd("PASS alice-pw"); !strings.HasPrefix(r, "-ERR [IN-USE]") {
		t.Errorf("POP3 login on node 2 while node 1 holds the maildrop: %q, want -ERR [IN-USE]", r)
	}
	p1.cmd("QUIT")
	p3 := dialText(t, n2.pop)
	p3.cmd("USER alice")
	if r := p3.cmd("PASS alice-pw"); !strings.HasPrefix(r, "+OK") {
		t.Errorf("POP3 login on node 2 after node 1 quit: %q", r)
	}
	p3.cmd("QUIT")
}

// TestTwoNodesKill: messages acknowledged by node 2 (LMTP 250) survive
// its SIGKILL right after the last acknowledgement: node 1 serves every
// one of them, octet for octet.
func TestTwoNodesKill(t *testing.T) {
	url := pgtest.New(t)
	n1, n2 := newNode(t, url, ""), newNode(t, url, "")
	n1.addUser("alice", "alice-pw")
	n1.startMail()
	s2 := n2.startMail()
	const count = 10
	var sent []string
	for i := range count {
		msg := fmt.Sprintf("From: bob@example.org\r\nSubject: before the kill %d\r\n\r\nbody %d\r\n", i, i)
		lmtpDeliver(t, n2, msg)
		sent = append(sent, msg)
	}
	if err := s2.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	s2.wait()
	c1 := n1.dialIMAP(t, nil)
	sel, err := c1.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != count {
		t.Fatalf("node 1 has %d messages after node 2's SIGKILL, want %d", sel.NumMessages, count)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	var all imap.SeqSet
	all.AddRange(1, count)
	msgs, err := c1.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil || len(msgs) != count {
		t.Fatalf("fetch: %v, %d messages", err, len(msgs))
	}
	for i, m := range msgs {
		got := string(m.FindBodySection(section))
		if !strings.HasSuffix(got, sent[i]) { // after the Return-Path/Received lines the server adds
			t.Errorf("message %d: %q does not end with what was sent, %q", i+1, got, sent[i])
		}
	}
}
