package e2e

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/msgauth/dnstest"
)

// hostAddress returns a non-loopback IPv4 address of this machine, or
// skips: a client on loopback is not checked (docs/mail-auth.md), so the
// test must reach inbound SMTP from another address.
func hostAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address to reach inbound SMTP from")
	return ""
}

// inboundFromScript sends one message to inbound SMTP at host:port.
const inboundFromScript = `
import smtplib, sys
c = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), local_hostname="client.sender.example")
try:
    print("refused:", sorted(c.sendmail(sys.argv[3], [sys.argv[4]], sys.argv[5].replace("\n", "\r\n").encode())))
except smtplib.SMTPDataError as e:
    print("data error:", e.smtp_code, e.smtp_error.decode())
c.quit()
`

// TestInboundAuthenticationResults: the built server, its [SMTP]
// Resolver pointed at a DNS server of the test, checks a message from a
// non-loopback address: it is delivered with an Authentication-Results
// field matching the records served (SPF, DMARC pass), and the one the
// sender forged in our name is gone; a forgery of a p=reject domain is
// refused at DATA with 550 5.7.1 (Dmarc-Reject: on).
func TestInboundAuthenticationResults(t *testing.T) {
	t.Parallel()
	requireTool(t, "python3")
	ip := hostAddress(t)
	dns := dnstest.Start(t)
	dns.TXT("sender.example", "v=spf1 ip4:"+ip+" -all")
	dns.TXT("_dmarc.sender.example", "v=DMARC1; p=reject")
	dns.TXT("forged.example", "v=spf1 -all")
	dns.TXT("_dmarc.forged.example", "v=DMARC1; p=reject")
	e, p := newMailEnv(t, "", "Resolver: "+dns.Addr+"\nDmarc-Reject: on\n")
	conf, _ := os.ReadFile(e.conf)
	writeFile(t, e.conf, strings.Replace(string(conf), "Listen-Address: 127.0.0.1\n", "Listen-Address: 127.0.0.1, "+ip+"\n", 1))
	e.addUser("bob", "bob-pw")
	e.startMail()
	msg := "Authentication-Results: e2e.example.org; dmarc=pass header.from=forged.example\nFrom: alice@sender.example\n" +
		"To: bob@e2e.example.org\nSubject: checked\nMessage-ID: <c1@sender.example>\nDate: Mon, 07 Dec 2026 18:00:00 +0000\n\nhello\n"
	out := python(t, inboundFromScript, ip, strconv.Itoa(p.smtp), "alice@sender.example", "bob@e2e.example.org", msg)
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("send: %s", out)
	}
	inbox := storedMessages(t, e.data, "bob", "INBOX")
	if len(inbox) != 1 {
		t.Fatalf("bob has %d messages", len(inbox))
	}
	got := strings.ReplaceAll(inbox[0], "\r\n\t", " ")
	for _, want := range []string{"Authentication-Results: e2e.example.org; spf=pass smtp.mailfrom=sender.example; dkim=none; dmarc=pass header.from=sender.example\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("delivered message lacks %q:\n%s", want, inbox[0])
		}
	}
	if strings.Count(inbox[0], "Authentication-Results:") != 1 || strings.Contains(inbox[0], "forged.example") {
		t.Errorf("the forged Authentication-Results survived:\n%s", inbox[0])
	}
	forged := strings.NewReplacer("alice@sender.example", "ceo@forged.example", "c1@sender.example", "c2@x").Replace(msg)
	out = python(t, inboundFromScript, ip, strconv.Itoa(p.smtp), "ceo@forged.example", "bob@e2e.example.org", forged)
	if !strings.Contains(out, "data error: 550") || !strings.Contains(out, "5.7.1") {
		t.Errorf("forgery of a p=reject domain: %s", out)
	}
	if n := len(storedMessages(t, e.data, "bob", "INBOX")); n != 1 {
		t.Errorf("bob has %d messages after the forgery", n)
	}
	// Both decisions are in the event log.
	ev := readLog(t, e.logs, "postern-event-*.log")
	if !strings.Contains(ev, " MSGAUTH ") || !strings.Contains(ev, "action=accept") || !strings.Contains(ev, "action=reject") {
		t.Errorf("event log:\n%s", ev)
	}
}
