package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCtlStatsCounts: ctl stats counts an IMAP BODY[] fetch as a retrieval,
// and shows SMTP and LMTP with their own counters: messages received and
// recipients delivered locally, queued and failed.
func TestCtlStatsCounts(t *testing.T) {
	t.Parallel()
	e, p, imap := newAllEnv(t, "")
	e.addUser("alice", "alice-pw")
	e.startMail()
	python(t, `
import imaplib, smtplib, sys
imap, sub, lmtp = (int(a) for a in sys.argv[1:4])
l = smtplib.LMTP("127.0.0.1", lmtp)
l.sendmail("a@outside.test", ["alice@e2e.example.org"], b"Subject: l\r\n\r\nvia lmtp\r\n"); l.quit()
s = smtplib.SMTP("127.0.0.1", sub); s.login("alice", "alice-pw")
s.sendmail("alice@e2e.example.org", ["alice@e2e.example.org", "friend@remote.example"], b"Subject: s\r\n\r\nx\r\n"); s.quit()
m = imaplib.IMAP4("127.0.0.1", imap); m.login("alice", "alice-pw"); m.select("INBOX")
m.fetch("1", "(BODY.PEEK[])"); m.fetch("2", "(BODY.PEEK[]<0.10>)"); m.fetch("2", "(BODY.PEEK[]<10.100>)")
m.fetch("1:2", "(BODY.PEEK[HEADER] RFC822.SIZE)"); m.logout()
`, strconv.Itoa(imap), strconv.Itoa(p.submission), strconv.Itoa(p.lmtp))
	out := e.run("", "ctl", "stats").must(t, 0).stdout
	want := map[string]map[string]string{
		"IMAP": {"Retrieved Messages": "2"},
		"SMTP": {"Received Messages": "1", "Delivered Recipients": "1", "Queued Recipients": "1", "Failed Recipients": "0"},
		"LMTP": {"Received Messages": "1", "Delivered Recipients": "1", "Queued Recipients": "0"},
	}
	for section, fields := range want {
		body := statsSection(out, section)
		for field, v := range fields {
			if !regexp.MustCompile(`(?m)^` + field + ` : ` + v + `$`).MatchString(body) {
				t.Errorf("[%s] %s is not %s:\n%s", section, field, v, body)
			}
		}
		if section != "IMAP" && strings.Contains(body, "Retrieved Messages") {
			t.Errorf("[%s] shows POP3's retrieval counters:\n%s", section, body)
		}
	}
}

// statsSection returns the lines of one [SECTION] of ctl stats.
func statsSection(out, section string) string {
	_, rest, ok := strings.Cut(out, "["+section+"]\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(rest, "\n[")
	return body
}
