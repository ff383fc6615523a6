package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/server"
)

func TestParseInterspersed(t *testing.T) {
	cases := []struct {
		name string
		args []string
		pos  []string
		bval bool
		sval string
	}{
		{"flags first", []string{"--admin", "--mailbox", "X", "alice"}, []string{"alice"}, true, "X"},
		{"flags last", []string{"alice", "--admin", "--mailbox=X"}, []string{"alice"}, true, "X"},
		{"mixed", []string{"alice", "--mailbox", "X", "path", "--admin"}, []string{"alice", "path"}, true, "X"},
		{"double dash", []string{"alice", "--", "--admin"}, []string{"alice", "--admin"}, false, ""},
		{"single dash flags", []string{"-admin", "bob"}, []string{"bob"}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			b := fs.Bool("admin", false, "")
			s := fs.String("mailbox", "", "")
			pos, err := parseInterspersed(fs, c.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pos, c.pos) || *b != c.bval || *s != c.sval {
				t.Errorf("got pos %q admin %v mailbox %q; want %q %v %q", pos, *b, *s, c.pos, c.bval, c.sval)
			}
		})
	}
}

func TestReadLine(t *testing.T) {
	good := map[string]string{"pw\n": "pw", "pw\r\n": "pw", "pw": "pw", "\n": ""}
	for in, want := range good {
		got, err := readLine(strings.NewReader(in), 10)
		if err != nil || got != want {
			t.Errorf("readLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "01234567890\n", "0123456789012345"} {
		if _, err := readLine(strings.NewReader(in), 10); err == nil {
			t.Errorf("readLine(%q): no error", in)
		}
	}
}

func TestMainUsageAndExitCodes(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(string) string { return "" }, Environ: func() []string { return nil },
			IsTerminal: func(any) bool { return false }}
		code := Main(context.Background(), env, args)
		return code, out.String(), errb.String()
	}
	if code, _, _ := run(); code != exitUsage {
		t.Errorf("no args: exit %d", code)
	}
	if code, out, _ := run("--help"); code != 0 || !strings.Contains(out, "deliver") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	if code, _, errs := run("user"); code != exitUsage || !strings.Contains(errs, "subcommand") {
		t.Errorf("user without subcommand: exit %d, %q", code, errs)
	}
	if code, _, errs := run("ctl", "reboot"); code != exitUsage || !strings.Contains(errs, "unknown ctl command") {
		t.Errorf("ctl reboot: exit %d, %q", code, errs)
	}
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "Postern ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// TestConfirm: yes and y confirm on a terminal; anything else does not;
// without a terminal there is no question, only a refusal naming --yes.
func TestConfirm(t *testing.T) {
	ask := func(answer string, terminal bool) error {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		w.WriteString(answer)
		w.Close()
		var errb bytes.Buffer
		env := &Env{Stdin: r, Stderr: &errb, IsTerminal: func(any) bool { return terminal }}
		err = confirm(env, "Delete? [y/N] ")
		if terminal && !strings.Contains(errb.String(), "Delete? [y/N] ") {
			t.Errorf("no question asked: %q", errb.String())
		}
		return err
	}
	for _, a := range []string{"y\n", "YES\n", " yes \n"} {
		if err := ask(a, true); err != nil {
			t.Errorf("answer %q: %v", a, err)
		}
	}
	for _, a := range []string{"n\n", "\n", "yeah\n", ""} {
		if err := ask(a, true); err == nil {
			t.Errorf("answer %q confirmed", a)
		}
	}
	if err := ask("y\n", false); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("no terminal: %v", err)
	}
}

// TestHelp: "postern help COMMAND" is COMMAND's help, a family's help lists
// its subcommands, and flag help shows argument names without backquotes.
func TestHelp(t *testing.T) {
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(string) string { return "" }, Environ: func() []string { return nil },
			IsTerminal: func(any) bool { return false }}
		return Main(context.Background(), env, args), out.String() + errb.String()
	}
	code, out := run("help", "user")
	if code != 0 || !strings.Contains(out, "Usage: postern user SUBCOMMAND") || !strings.Contains(out, "del NAME [--yes]") {
		t.Errorf("help user: %d %s", code, out)
	}
	code, out = run("help", "import")
	if code != 0 || !strings.Contains(out, "Usage: postern import NAME PATH") || !strings.Contains(out, "--config FILE ") ||
		!strings.Contains(out, "--format FORMAT ") || strings.Contains(out, "`") {
		t.Errorf("help import: %d %s", code, out)
	}
	if code, out = run("help", "user", "del"); code != 0 || !strings.Contains(out, "--yes") {
		t.Errorf("help user del: %d %s", code, out)
	}
	if code, _ = run("help", "frobnicate"); code != 2 {
		t.Errorf("help of an unknown command: exit %d", code)
	}
	if _, out = run("help"); strings.Contains(out, server.FileReaderCommand) {
		t.Errorf("the hidden helper command is listed:\n%s", out)
	}
}

// TestProgressLines: off a terminal, import writes a plain line with the
// count and the rate once per interval, and nothing in between.
func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := start
	p := &progress{w: &b, label: "mbox", now: func() time.Time { return clock }, interval: 5 * time.Second, started: start, last: start}
	for i := 1; i <= 1000; i++ {
		clock = start.Add(time.Duration(i) * 12 * time.Millisecond) // 1000 messages in 12 s
		p.update(importCounts{imported: i - i/10, skipped: i / 10}, int64(i), 2000)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (at 5 s and 10 s):\n%s", len(lines), b.String())
	}
	want := "postern: importing mbox: 417 messages (376 new, 41 already there, 0 failed), 21% of the source, 83 messages/s"
	if lines[0] != want {
		t.Errorf("first line\n got %q\nwant %q", lines[0], want)
	}
}
