package e2e

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// traceSubmitScript submits over plain submission on loopback with AUTH
// LOGIN (two base64 continuation lines) after a refused AUTH PLAIN, then
// sends one message; then again after STARTTLS with AUTH PLAIN, and logs
// in over implicit TLS.
const traceSubmitScript = `
import smtplib, ssl, sys
c = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
c.ehlo("client.example")
try:
    c.auth("PLAIN", lambda challenge=None: "\0alice\0wrong-pw"); assert False
except smtplib.SMTPAuthenticationError:
    pass
c.user, c.password = "alice", "alice-pw"
c.auth("LOGIN", c.auth_login, initial_response_ok=False)
c.sendmail("alice@e2e.example.org", ["alice@e2e.example.org"], b"Subject: traced\r\n\r\nsecret body text\r\n")
c.quit()
ctx = ssl.create_default_context(cafile=sys.argv[3])
c = smtplib.SMTP("localhost", int(sys.argv[1]))
c.starttls(context=ctx)
c.login("alice", "alice-pw")
c.sendmail("alice@e2e.example.org", ["alice@e2e.example.org"], b"Subject: over starttls\r\n\r\nsecret body text\r\n")
c.quit()
c = smtplib.SMTP_SSL("localhost", int(sys.argv[2]), context=ctx)
c.login("alice", "alice-pw")
c.quit()
`

// TestSMTPAndLMTPTrace turns [SMTP] and [LMTP] Trace on (Trace-Synch 1)
// and checks the files: named postern-smtp-… and postern-lmtp-…,
// timestamped lines in both directions, AUTH hidden (hp-system.md §8: no
// passwords in traces), message data summarised.
func TestSMTPAndLMTPTrace(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "", "Trace: on\nTrace-Synch: 1")
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[LMTP]\nEnable: on\n", "[LMTP]\nEnable: on\nTrace: on\nTrace-Synch: 1\n", 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	e.addUser("alice", "alice-pw")
	e.startMail()

	python(t, traceSubmitScript, strconv.Itoa(p.submission), strconv.Itoa(p.submissions), p.cafile)
	out := python(t, lmtpScript, "127.0.0.1", strconv.Itoa(p.lmtp), "Subject: by lmtp\n\nlmtp body\n", "alice@e2e.example.org")
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("lmtp delivery: %s", out)
	}

	smtp := readLog(t, e.logs, "postern-smtp-*-trace.log")
	for _, secret := range []string{"alice-pw", "wrong-pw", "YWxpY2UtcHc=", "AGFsaWNlAHdyb25nLXB3", "AGFsaWNlAGFsaWNlLXB3", "secret body text"} {
		if strings.Contains(smtp, secret) {
			t.Errorf("the SMTP trace holds %q:\n%s", secret, smtp)
		}
	}
	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \d+ `
	for _, want := range []string{
		stamp + `-- connect proto=smtp remote=127\.0\.0\.1:\d+`,
		stamp + `S: 220 `,
		stamp + `C: EHLO client\.example`,
		stamp + `C: AUTH PLAIN \*\*\*`,
		stamp + `S: 535 `,
		stamp + `C: AUTH LOGIN \*\*\*`,
		stamp + `S: 334 `,
		stamp + `C: \*\*\*`,
		stamp + `S: 235 `,
		stamp + `C: MAIL FROM:<alice@e2e\.example\.org>`,
		stamp + `S: 354 `,
		stamp + `C: \[\d+ bytes of message data\]`,
		stamp + `C: QUIT`,
		stamp + `-- close`,
		stamp + `C: STARTTLS`,
		stamp + `-- TLS started: TLS 1\.[23] `,
		stamp + `-- implicit TLS`,
	} {
		if !regexp.MustCompile(`(?mi)^` + want).MatchString(smtp) {
			t.Errorf("SMTP trace lacks %s:\n%s", want, smtp)
		}
	}

	// The trace sits above TLS: the STARTTLS session goes on in clear.
	_, underTLS, _ := strings.Cut(smtp, "-- TLS started")
	for _, want := range []string{
		stamp + `C: ehlo `, stamp + `C: AUTH PLAIN \*\*\*`, stamp + `S: 235 `,
		stamp + `C: mail FROM:<alice@e2e\.example\.org>`, stamp + `C: \[\d+ bytes of message data\]`,
	} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(underTLS) {
			t.Errorf("SMTP trace lacks %s after STARTTLS:\n%s", want, underTLS)
		}
	}

	lmtp := readLog(t, e.logs, "postern-lmtp-*-trace.log")
	for _, want := range []string{
		stamp + `-- connect proto=lmtp `,
		stamp + `C: LHLO `,
		stamp + `C: RCPT TO:<alice@e2e\.example\.org>`,
		stamp + `C: \[\d+ bytes of message data\]`,
		stamp + `S: 250 2\.0\.0 `,
	} {
		if !regexp.MustCompile(`(?mi)^` + want).MatchString(lmtp) {
			t.Errorf("LMTP trace lacks %s:\n%s", want, lmtp)
		}
	}
	if strings.Contains(lmtp, "lmtp body") {
		t.Errorf("the LMTP trace holds message data:\n%s", lmtp)
	}
}
