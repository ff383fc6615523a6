package cli

import (
	"bytes"
	"context"
	"flag"
	"slices"
	"strings"
	"testing"
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
