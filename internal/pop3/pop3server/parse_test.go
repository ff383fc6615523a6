package pop3server

import (
	"bufio"
	"errors"
	"github.com/postern/postern/internal/store"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	good := func(line, verb, args string) {
		t.Helper()
		cmd, binary := parseCommand([]byte(line))
		if binary || cmd.verb != verb || cmd.args != args {
			t.Errorf("parseCommand(%q) = %+v binary=%v, want %s %q", line, cmd, binary, verb, args)
		}
	}
	bad := func(line string) {
		t.Helper()
		if _, binary := parseCommand([]byte(line)); !binary {
			t.Errorf("parseCommand(%q) accepted", line)
		}
	}
	good("user alice", "USER", "alice")
	good("PASS two words", "PASS", "two words")
	good("STAT", "STAT", "")
	good("Top 1 2", "TOP", "1 2")
	good("XTND CLIENT Outlook 6", "XTND", "CLIENT Outlook 6")
	bad("")
	bad(" STAT")
	bad("\x00\x01")
	bad("ST4T")
	bad("VERYLONGVERB")
	bad("GET/ HTTP/1.1")
}

func TestReadLine(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader("STAT\r\n"+strings.Repeat("x", 300)+"\r\nNOOP\nlast"), 16)
	for _, want := range []string{"STAT", "too long", "NOOP", "EOF"} {
		line, err := readLine(br, maxCommandLine)
		switch {
		case want == "too long" && errors.Is(err, errLineTooLong):
		case want == "EOF" && err != nil:
		case err == nil && string(line) == want:
		default:
			t.Fatalf("readLine = %q, %v; want %s", line, err, want)
		}
	}
	// A line of exactly 255 octets with CRLF passes; 256 does not.
	ok := strings.Repeat("a", 253) + "\r\n"
	if _, err := readLine(bufio.NewReader(strings.NewReader(ok)), maxCommandLine); err != nil {
		t.Errorf("255-octet line: %v", err)
	}
	if _, err := readLine(bufio.NewReader(strings.NewReader("a"+ok)), maxCommandLine); !errors.Is(err, errLineTooLong) {
		t.Errorf("256-octet line: %v", err)
	}
	flood := strings.Repeat("x", maxDiscard+100000)
	if _, err := readLine(bufio.NewReader(strings.NewReader(flood)), maxCommandLine); !errors.Is(err, errFlood) {
		t.Errorf("flood: %v", err)
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		args     string
		min, max int
		ok       bool
	}{
		{"", 0, 0, true}, {"1", 1, 1, true}, {"1 2", 2, 2, true}, {"1  2", 2, 2, false},
		{"1 ", 1, 2, false}, {"1\x002", 1, 1, false}, {"1\t2", 1, 1, false},
		{strings.Repeat("a", 41), 1, 1, false}, {"", 1, 1, false}, {"1 2 3", 0, 2, false},
	} {
		_, err := splitArgs(tc.args, tc.min, tc.max)
		if (err == nil) != tc.ok {
			t.Errorf("splitArgs(%q, %d, %d) = %v", tc.args, tc.min, tc.max, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"PASS secret words":         "PASS ***",
		"pass secret":               "PASS ***",
		"APOP alice 0123abcd":       "APOP alice ***",
		"AUTH PLAIN AGFsaWNlAHNlYw": "AUTH PLAIN ***",
		"AUTH PLAIN":                "AUTH PLAIN",
		"USER alice":                "USER alice",
	} {
		if got := string(Redact([]byte(in))); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMakeUIDL(t *testing.T) {
	long := strings.Repeat("a", 64)
	info := testInfo(1<<62, testTime)
	u := makeUIDL(long, info)
	if !store.ValidUIDL(u) || !strings.HasSuffix(u, ".20261125120000.4611686018427387904") {
		t.Errorf("makeUIDL = %q (%d octets)", u, len(u))
	}
	for _, c := range []byte(u) {
		if c < 0x21 || c > 0x7e {
			t.Fatalf("UIDL %q has octet %#x", u, c)
		}
	}
}
