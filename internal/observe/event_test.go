package observe

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixedTime = time.Date(2026, 11, 25, 19, 42, 55, 123_000_000, time.UTC)

func fixedClock() time.Time { return fixedTime }

func TestEventFormat(t *testing.T) {
	var buf bytes.Buffer
	e := NewEventLog(&buf, EventLogOptions{Now: fixedClock})
	e.AuthFail("pop3", "203.0.113.9", "alice", "USER", "bad password")
	e.Event(EventStart, slog.String("proto", "imap"), slog.String("listen", "[::]:143"), slog.Int("pid", 42))
	e.Event("stop", slog.Group("tls", slog.Bool("on", true)), slog.String("", "x"))
	e.Reject("smtp", "2001:db8::1", "relay denied", slog.String("rcpt", "bob@example.org"))

	want := `2026-11-25T19:42:55.123Z AUTHFAIL proto=pop3 remote=203.0.113.9 user=alice mech=USER reason="bad password"
2026-11-25T19:42:55.123Z START proto=imap listen="[::]:143" pid=42
2026-11-25T19:42:55.123Z STOP tls_on=true _=x
2026-11-25T19:42:55.123Z REJECT proto=smtp remote=2001:db8::1 reason="relay denied" rcpt=bob@example.org
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestEventInjection checks that a user name with CR, LF, quotes or
// "remote=" cannot forge a line or fool an anchored fail2ban filter.
func TestEventInjection(t *testing.T) {
	var buf bytes.Buffer
	e := NewEventLog(&buf, EventLogOptions{Now: fixedClock})
	evil := []string{
		"x\r\n2026-11-25T19:42:55.123Z AUTHFAIL proto=pop3 remote=192.0.2.1 user=root",
		"x\nAUTHFAIL",
		"x\u2028y",
		`x" remote=192.0.2.2 y="`,
		"x remote=192.0.2.3",
		"\x00\x1b[31m",
		"\xff\xfe",
	}
	for _, u := range evil {
		e.AuthFail("pop3", "203.0.113.9", u, "USER", "bad password")
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(evil) {
		t.Fatalf("%d lines for %d events:\n%s", len(lines), len(evil), buf.String())
	}
	// fail2ban's <HOST> in an anchored filter.
	re := regexp.MustCompile(`^\S+ AUTHFAIL proto=\S+ remote=(\S+)( |$)`)
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil || m[1] != "203.0.113.9" {
			t.Errorf("line %d: remote %v in %q", i, m, l)
		}
		for _, c := range l {
			if c < 0x20 || c == 0x7f || c == '\u2028' {
				t.Errorf("line %d has control character %U: %q", i, c, l)
			}
		}
	}
}

func TestNodeName(t *testing.T) {
	for in, want := range map[string]string{
		"mail.example.com": "MAIL",
		"vms-01":           "VMS-01",
		"Node_A.local":     "NODE_A",
		"we ird/host":      "WE_IRD_HOST",
		".":                "LOCALHOST",
	} {
		if got := NodeName(in); got != want {
			t.Errorf("NodeName(%q) = %q, want %q", in, got, want)
		}
	}
	if NodeName("") == "" {
		t.Error("NodeName of the system host name is empty")
	}
}

func TestEventLogFile(t *testing.T) {
	dir := t.TempDir()
	e, err := OpenEventLog(dir, "mail.example.com", EventLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Path() != filepath.Join(dir, "postern-event-MAIL.log") {
		t.Errorf("path %s", e.Path())
	}
	fi, err := os.Stat(e.Path())
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v %v", fi.Mode(), err)
	}

	// Concurrent writers: every line whole.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				e.Event(EventReject, slog.String("proto", "imap"), slog.String("remote", fmt.Sprintf("192.0.2.%d", g)), slog.Int("i", i),
					slog.String("pad", strings.Repeat("p", 500)))
			}
		})
	}
	wg.Wait()

	// Rotation: rename, reopen, keep writing.
	if err := os.Rename(e.Path(), e.Path()+".1"); err != nil {
		t.Fatal(err)
	}
	if err := e.Reopen(); err != nil {
		t.Fatal(err)
	}
	e.opts.Sync = true // the fsync path, once
	e.Event(EventReload, slog.String("result", "ok"))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e.Event(EventStop) // after Close: dropped, no panic
	if e.Err() != nil {
		t.Fatal(e.Err())
	}

	f, _ := os.Open(e.Path() + ".1")
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	line := regexp.MustCompile(`^\S+Z REJECT proto=imap remote=192\.0\.2\.\d i=\d+ pad=p{500}$`)
	for sc.Scan() {
		if !line.MatchString(sc.Text()) {
			t.Fatalf("torn line %q", sc.Text())
		}
		n++
	}
	if n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
	after, _ := os.ReadFile(e.Path())
	if !strings.Contains(string(after), " RELOAD result=ok\n") {
		t.Errorf("reopened file: %q", after)
	}
}

// FuzzEventValue checks that no value, whatever its bytes, can put a line
// break or another control character into an event line.
func FuzzEventValue(f *testing.F) {
	for _, s := range []string{"", "alice", "a\r\nb", "\u2028", "\xff", `"`, "x y=z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var buf bytes.Buffer
		NewEventLog(&buf, EventLogOptions{Now: fixedClock}).Event(v, slog.String(v, v))
		line := strings.TrimSuffix(buf.String(), "\n")
		for _, c := range line {
			if c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\u0085' {
				t.Fatalf("control character %U in %q", c, line)
			}
		}
		if strings.Count(buf.String(), "\n") != 1 {
			t.Fatalf("not one line: %q", buf.String())
		}
	})
}
