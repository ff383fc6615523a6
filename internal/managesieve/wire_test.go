package managesieve

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadCommand(t *testing.T) {
	good := []struct {
		in   string
		name string
		args []string
	}{
		{"logout\r\n", "LOGOUT", nil},
		{"NOOP\n", "NOOP", nil},
		{`PUTSCRIPT "a b" {5+}` + "\r\nkeep;\r\n", "PUTSCRIPT", []string{"a b", "keep;"}},
		{`PUTSCRIPT "x" {3}` + "\r\nab\"\r\n", "PUTSCRIPT", []string{"x", `ab"`}},
		{`HAVESPACE "x" 100` + "\r\n", "HAVESPACE", []string{"x", "100"}},
		{`SETACTIVE ""` + "\r\n", "SETACTIVE", []string{""}},
		{`GETSCRIPT "q\"\\"` + "\r\n", "GETSCRIPT", []string{`q"\`}},
	}
	for _, tc := range good {
		cmd, err := readCommand(bufio.NewReader(strings.NewReader(tc.in)), 100)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var args []string
		for _, a := range cmd.args {
			args = append(args, a.s)
		}
		if cmd.name != tc.name || strings.Join(args, "|") != strings.Join(tc.args, "|") {
			t.Errorf("%q: got %s %q", tc.in, cmd.name, args)
		}
	}
	bad := []string{
		"\r\n", `"x"` + "\r\n", `PUTSCRIPT "a` + "\r\n", `PUTSCRIPT "a\q"` + "\r\n", `X {abc}` + "\r\n",
		`X {5+}x`, `X "a"b` + "\r\n", "X " + strings.Repeat("a", maxLine) + "\r\n",
		`X "` + strings.Repeat("a", maxQuoted+1) + `"` + "\r\n", "X a b c d e f g h i j\r\n", "X \r\n",
	}
	for _, in := range bad {
		if _, err := readCommand(bufio.NewReader(strings.NewReader(in)), 100); !errors.Is(err, errSyntax) {
			t.Errorf("%.40q: err %v, want a syntax error", in, err)
		}
	}
	if _, err := readCommand(bufio.NewReader(strings.NewReader("X {999999999999+}\r\n")), 100); !errors.Is(err, errHuge) {
		t.Errorf("huge literal: %v", err)
	}
	// An error found at the end of a line consumes nothing after it.
	br0 := bufio.NewReader(strings.NewReader("\r\nLOGOUT\r\n"))
	readCommand(br0, 100)
	if cmd, err := readCommand(br0, 100); err != nil || cmd.name != "LOGOUT" {
		t.Errorf("after an empty line: %v %v", cmd, err)
	}
	// A bad line is consumed whole: the next command reads cleanly.
	br := bufio.NewReader(strings.NewReader("\"junk\" more\r\nNOOP\r\n"))
	readCommand(br, 100)
	if cmd, err := readCommand(br, 100); err != nil || cmd.name != "NOOP" {
		t.Errorf("after a bad line: %v %v", cmd, err)
	}
	// An over-long literal is dropped, marked, and the line goes on.
	cmd, err := readCommand(bufio.NewReader(strings.NewReader("PUTSCRIPT \"n\" {200+}\r\n"+strings.Repeat("x", 200)+"\r\n")), 100)
	if err != nil || !cmd.args[1].tooBig || cmd.args[1].s != "" {
		t.Errorf("big literal: %+v %v", cmd, err)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"a":       `"a"`,
		`q"\`:     `"q\"\\"`,
		"two\r\n": "{5}\r\ntwo\r\n",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %q, want %q", in, got, want)
		}
		if strings.HasPrefix(want, `"`) {
			cmd, err := readCommand(bufio.NewReader(strings.NewReader("X "+want+"\r\n")), 100)
			if err != nil || cmd.args[0].s != in {
				t.Errorf("round trip of %q: %v %v", in, cmd, err)
			}
		}
	}
}

func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{"LOGOUT\r\n", "PUTSCRIPT \"a\" {5+}\r\nkeep;\r\n", "AUTHENTICATE \"PLAIN\" \"AGFsaWNl\"\r\n",
		"HAVESPACE \"x\" 9\r\n", "X {999999999999}\r\n", "\"\\\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReader(strings.NewReader(in))
		for i := 0; i < 10; i++ {
			cmd, err := readCommand(br, 64)
			if err != nil && !errors.Is(err, errSyntax) {
				return // EOF and friends
			}
			for _, a := range cmd.args {
				if len(a.s) > max(64, maxQuoted, maxLine) {
					t.Fatalf("argument of %d octets", len(a.s))
				}
			}
		}
	})
}
