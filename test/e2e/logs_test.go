package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// newAllEnv is newMailEnv with IMAP on as well (plain port, STARTTLS), so
// that one server speaks every protocol. It returns the IMAP port too.
func newAllEnv(t *testing.T, global string) (*env, mailPorts, int) {
	t.Helper()
	e, p := newMailEnv(t, global, "")
	imap := freePort(t)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(imap)+"\nSecure-Port: 0", 1)
	writeFile(t, e.conf, c)
	return e, p, imap
}

// sessionsScript logs in and fails to log in over IMAP, POP3 and
// submission, and delivers over LMTP: one or two connections of each kind.
const sessionsScript = `
import imaplib, poplib, smtplib, sys
imap, pop, sub, lmtp = (int(a) for a in sys.argv[1:5])
m = imaplib.IMAP4("127.0.0.1", imap); m.login("alice", "alice-pw"); m.select("INBOX"); m.logout()
try:
    imaplib.IMAP4("127.0.0.1", imap).login("alice", "wrong")
except imaplib.IMAP4.error as e:
    print("imap", e)
p = poplib.POP3("127.0.0.1", pop); p.user("alice"); p.pass_("alice-pw"); p.quit()
p = poplib.POP3("127.0.0.1", pop); p.user("alice")
try:
    p.pass_("wrong")
except poplib.error_proto as e:
    print("pop3", e)
s = smtplib.SMTP("127.0.0.1", sub)
try:
    s.login("alice", "wrong")
except smtplib.SMTPAuthenticationError as e:
    print("smtp", e.smtp_code)
s.quit()
s = smtplib.SMTP("127.0.0.1", sub); s.login("alice", "alice-pw")
s.sendmail("alice@e2e.example.org", ["alice@e2e.example.org"], b"Subject: s\r\n\r\nx\r\n"); s.quit()
l = smtplib.LMTP("127.0.0.1", lmtp)
l.sendmail("a@outside.test", ["alice@e2e.example.org"], b"Subject: l\r\n\r\nx\r\n"); l.quit()
`

// runSessions runs sessionsScript against an all-protocols server.
func runSessions(t *testing.T, p mailPorts, imap int) string {
	t.Helper()
	return python(t, sessionsScript, strconv.Itoa(imap), strconv.Itoa(p.pop), strconv.Itoa(p.submission), strconv.Itoa(p.lmtp))
}

// TestRunLogKeysAndConnections drives every protocol, then reads the run
// log line by line: no key appears twice in a line, and every connection
// is logged opened once and closed once.
func TestRunLogKeysAndConnections(t *testing.T) {
	t.Parallel()
	e, p, imap := newAllEnv(t, "Trusted-Networks: 127.0.0.1") // no throttle delays
	e.addUser("alice", "alice-pw")
	srv := e.startMail()
	runSessions(t, p, imap)
	e.run("", "ctl", "shutdown").must(t, 0)
	srv.wait()

	opened, closed := map[string]int{}, map[string]int{}
	lines := strings.Split(strings.TrimSpace(readLog(t, e.logs, "postern-run.log")), "\n")
	for _, line := range lines {
		kv, err := logfmtPairs(line)
		if err != nil {
			t.Errorf("%v: %s", err, line)
			continue
		}
		seen := map[string]bool{}
		for _, pair := range kv {
			if seen[pair[0]] {
				t.Errorf("key %q twice: %s", pair[0], line)
			}
			seen[pair[0]] = true
		}
		m := pairMap(kv)
		conn := m["proto"] + "/" + m["cid"]
		switch m["msg"] {
		case "connection opened":
			opened[conn]++
		case "connection closed":
			closed[conn]++
		}
	}
	// IMAP 2, POP3 2, submission 2 (smtp), LMTP 1.
	protos := map[string]int{}
	for conn, n := range opened {
		protos[strings.Split(conn, "/")[0]]++
		if n != 1 || closed[conn] != 1 {
			t.Errorf("connection %s: opened %d times, closed %d times", conn, n, closed[conn])
		}
	}
	for conn := range closed {
		if opened[conn] == 0 {
			t.Errorf("connection %s closed but never opened", conn)
		}
	}
	if protos["imap"] != 2 || protos["pop3"] != 2 || protos["smtp"] != 2 || protos["lmtp"] != 1 {
		t.Errorf("connections per protocol %v, want imap 2, pop3 2, smtp 2, lmtp 1\n%s", protos, strings.Join(lines, "\n"))
	}
}

// TestLogFormatJSON: with Log-Format: json every run log line is one JSON
// object with unique keys.
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	e, p, imap := newAllEnv(t, "Log-Format: json\nTrusted-Networks: 127.0.0.1")
	e.addUser("alice", "alice-pw")
	srv := e.startMail()
	runSessions(t, p, imap)
	e.run("", "ctl", "shutdown").must(t, 0)
	srv.wait()
	lines := strings.Split(strings.TrimSpace(readLog(t, e.logs, "postern-run.log")), "\n")
	var auth int
	for _, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		keys, err := jsonObjectKeys(dec)
		if err != nil {
			t.Fatalf("not a JSON object (%v): %s", err, line)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("key %q twice: %s", k, line)
			}
			seen[k] = true
		}
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		if m["msg"] == "authentication failed" {
			auth++
		}
	}
	if auth < 3 {
		t.Errorf("%d authentication failures in the JSON log, want at least 3:\n%s", auth, strings.Join(lines, "\n"))
	}
}

// TestLogrotate rotates a running server's logs with the shipped
// contrib/logrotate/postern (its paths pointed at the test's directories)
// and the real logrotate: afterwards the server writes to new files and
// the rotated ones get nothing more.
func TestLogrotate(t *testing.T) {
	t.Parallel()
	bin := requireSbinTool(t, "logrotate")
	e := newEnv(t, "")
	srv := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	snippet, err := os.ReadFile("../../contrib/logrotate/postern")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.ReplaceAll(string(snippet), "/var/log/postern", e.logs)
	conf = strings.ReplaceAll(conf, "/usr/local/bin/postern", binary)
	if conf == string(snippet) || !strings.Contains(conf, binary+" ctl reopen-logs") {
		t.Fatalf("the snippet no longer names /var/log/postern and /usr/local/bin/postern ctl reopen-logs:\n%s", snippet)
	}
	rc := filepath.Join(e.dir, "logrotate.conf")
	writeFile(t, rc, conf)
	cmd := exec.Command(bin, "-f", "-v", "-s", filepath.Join(e.dir, "logrotate.state"), rc)
	cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+e.conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logrotate: %v\n%s", err, out)
	}
	e.run("", "ctl", "shutdown").must(t, 0)
	srv.wait()

	oldRun := readLog(t, e.logs, "postern-run.log.1")
	newRun := readLog(t, e.logs, "postern-run.log")
	if !strings.Contains(oldRun, "server started") || strings.Contains(oldRun, "logs reopened") {
		t.Errorf("rotated run log:\n%s", oldRun)
	}
	if !strings.Contains(newRun, "logs reopened") || !strings.Contains(newRun, "server exit") {
		t.Errorf("new run log:\n%s", newRun)
	}
	oldEv := readLog(t, e.logs, "postern-event-*.log.1")
	newEv := readLog(t, e.logs, "postern-event-*.log")
	if !strings.Contains(oldEv, " START ") || strings.Contains(oldEv, " STOP") || !strings.Contains(newEv, " STOP") {
		t.Errorf("event logs: rotated\n%s\nnew\n%s", oldEv, newEv)
	}
}

// requireSbinTool is requireTool that also looks in /usr/sbin and /sbin,
// where Debian puts logrotate and which a user's PATH often lacks.
func requireSbinTool(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return requireTool(t, name)
}

// logfmtPairs splits a slog text line into its key=value pairs, in order.
// Values are bare up to the next space, or Go-quoted.
func logfmtPairs(line string) ([][2]string, error) {
	var out [][2]string
	for rest := line; rest != ""; {
		rest = strings.TrimLeft(rest, " ")
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return nil, &logfmtError{rest}
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return nil, &logfmtError{after}
			}
			val, _ = strconv.Unquote(q)
			after = after[len(q):]
		} else {
			val, after, _ = strings.Cut(after, " ")
			after = " " + after
		}
		out = append(out, [2]string{key, val})
		rest = strings.TrimLeft(after, " ")
	}
	return out, nil
}

type logfmtError struct{ at string }

func (e *logfmtError) Error() string { return "not key=value at " + strconv.Quote(e.at) }

func pairMap(kv [][2]string) map[string]string {
	m := make(map[string]string, len(kv))
	for _, p := range kv {
		m[p[0]] = p[1]
	}
	return m
}

// jsonObjectKeys returns the top-level keys of the JSON object dec reads,
// in order and with repeats (encoding/json would keep only the last).
func jsonObjectKeys(dec *json.Decoder) ([]string, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, &logfmtError{"not an object"}
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
