package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// foreignScript reads alice's mail with poplib (RETR 1, which is the
// foreign message, then QUIT), then with imaplib the folder Mail it moved
// to: BODYSTRUCTURE and BODY[HEADER] of message 1, and BODY[TEXT]
// decoded from base64. It prints the result as JSON.
const foreignScript = `
import base64, imaplib, json, poplib, ssl, sys
pop_port, imap_port, cafile, user, pw = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
p = poplib.POP3("127.0.0.1", int(pop_port), timeout=20)
p.user(user); p.pass_(pw)
resp, lines, octets = p.retr(1)
p.quit()
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
m = imaplib.IMAP4_SSL("127.0.0.1", int(imap_port), ssl_context=ctx, timeout=20)
m.login(user, pw)
m.select("Mail")
typ, data = m.fetch("1", "(BODYSTRUCTURE BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
parts = [x for x in data if isinstance(x, tuple)]
print(json.dumps({
    "retr": [x.decode("latin-1") for x in lines],
    "structure": data[0][0].decode() if isinstance(data[0], tuple) else data[0].decode(),
    "header": parts[0][1].decode("latin-1"),
    "body": base64.b64encode(base64.b64decode(parts[1][1])).decode(),
    "inbox": m.select("INBOX")[1][0].decode(),
}))
m.logout()
`

// TestForeignMessagesEndToEnd: a VMS MAIL extract holding a foreign (PDF)
// message is imported with "postern import --format vms"; POP3 (poplib)
// gets its rebuilt header and the notice instead of the binary data, and
// QUIT moves it to Mail; IMAP (imaplib) then serves it there as one
// application/pdf part in base64 that decodes to the imported octets
// (hp-system §1.6, §6.3; D6, I4).
func TestForeignMessagesEndToEnd(t *testing.T) {
	t.Parallel()
	e, pop := newPOPEnv(t, "")
	imapPort := freePort(t)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: 0\nSecure-Port: "+strconv.Itoa(imapPort), 1)
	if c == string(conf) {
		t.Fatal("no disabled [IMAP] section in the test configuration")
	}
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	e.addUser("alice", "alice-pw")
	pdf := "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x01\x02\x03 stream\x00\x00\x7f\xfe endobj\n"
	extract := "\fFrom:\tORDERS::J_SMITH  6-APR-1999 06:02:31.15\nTo:\tALICE\nCC:\t\nSubj:\tQ3 report\n\n" + pdf
	path := filepath.Join(e.dir, "mail.txt")
	if err := os.WriteFile(path, []byte(extract), 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("", "import", "alice", path, "--format", "vms").must(t, 0)
	e.startMail()

	out := python(t, foreignScript, strconv.Itoa(pop.plain), strconv.Itoa(imapPort), pop.cafile, "alice", "alice-pw")
	var got struct {
		Retr                           []string
		Structure, Header, Body, Inbox string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("script output: %v\n%s", err, out)
	}
	retr := strings.Join(got.Retr, "\n")
	if !strings.Contains(retr, "Subject: Q3 report\nX-VMS-From: ORDERS::J_SMITH\n\nThis is a foreign message: its content is not text") ||
		strings.Contains(retr, "%PDF") {
		t.Errorf("RETR:\n%s", retr)
	}
	if !strings.Contains(strings.ToUpper(got.Structure), `"APPLICATION" "PDF"`) || !strings.Contains(strings.ToUpper(got.Structure), `"BASE64"`) {
		t.Errorf("BODYSTRUCTURE %s", got.Structure)
	}
	if !strings.Contains(got.Header, "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n") {
		t.Errorf("BODY[HEADER]:\n%s", got.Header)
	}
	if want := b64(pdf); got.Body != want {
		t.Errorf("BODY[TEXT] decodes to %s, want %s (the imported octets)", got.Body, want)
	}
	if got.Inbox != "0" {
		t.Errorf("INBOX holds %s messages after QUIT, want 0 (the foreign message moved to Mail)", got.Inbox)
	}
}

// b64 is the standard base64 encoding of s.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
