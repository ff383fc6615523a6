package prototest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// echoServer is a toy line protocol: "ECHO x" answers "OK x"; "MULTI"
// answers three lines in a fixed order; "APPEND {n}" reads an IMAP literal;
// "DATA" reads SMTP DATA; "BYE" closes.
func echoServer(t *testing.T, greeting string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveEcho(c, greeting)
		}
	}()
	return ln.Addr().String()
}

func serveEcho(c net.Conn, greeting string) {
	defer c.Close()
	br := bufio.NewReader(c)
	fmt.Fprintf(c, "%s\r\n", greeting)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch verb {
		case "ECHO":
			fmt.Fprintf(c, "OK %s\r\n", arg)
		case "MULTI":
			fmt.Fprintf(c, "* c\r\n* a\r\n* b\r\nOK done\r\n")
		case "APPEND":
			n, _ := strconv.Atoi(strings.Trim(arg, "{}"))
			fmt.Fprintf(c, "+ go ahead\r\n")
			buf := make([]byte, n)
			io.ReadFull(br, buf)
			rest, _ := br.ReadString('\n')
			fmt.Fprintf(c, "OK got %d octets%s\r\n", n, strings.TrimRight(rest, "\r\n"))
		case "DATA":
			n := 0
			for {
				l, err := br.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				n += len(l)
			}
			fmt.Fprintf(c, "250 %d\r\n", n)
		case "ECHOLIT":
			// "ECHOLIT [~]{n[+]}": reads the literal (answering "+" for a
			// synchronising one) and sends its data back in a literal of
			// the same kind.
			binary := strings.HasPrefix(arg, "~")
			h := strings.Trim(arg, "~{}")
			n, _ := strconv.Atoi(strings.TrimSuffix(h, "+"))
			if !strings.HasSuffix(h, "+") {
				fmt.Fprintf(c, "+ go ahead\r\n")
			}
			buf := make([]byte, n)
			io.ReadFull(br, buf)
			br.ReadString('\n')
			tilde := map[bool]string{true: "~"}[binary]
			fmt.Fprintf(c, "* ECHO %s{%d}\r\n%s done\r\nOK\r\n", tilde, n, buf)
		case "BYE":
			return
		default:
			fmt.Fprintf(c, "ERR\r\n")
		}
	}
}

func TestRunner(t *testing.T) {
	type fix struct{ greeting string }
	Run(t, "testdata/*.txtar", Options[*fix]{
		New: func(t *testing.T, c *Case) *fix { return &fix{greeting: "HELLO"} },
		Setup: func(t *testing.T, f *fix, c *Case, args []string) error {
			if args[0] != "greeting" {
				return fmt.Errorf("unknown directive %q", args[0])
			}
			f.greeting = strings.Join(args[1:], " ")
			return nil
		},
		Start: func(t *testing.T, f *fix, c *Case) string { return echoServer(t, f.greeting) },
	})
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, line string
		want      bool
	}{
		{"OK *", "OK anything", true},
		{`OK \*`, "OK *", true},
		{`OK \*`, "OK x", false},
		{"* 1 EXISTS", "* 1 EXISTS", true},
		{"* 1 EXISTS", "x 1 EXISTS", false},
		{"a.b", "axb", false},
	} {
		re, _ := globRegexp(tc.pat)
		if got := re.MatchString(tc.line); got != tc.want {
			t.Errorf("glob %q on %q = %v, want %v", tc.pat, tc.line, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{"X1: hi\n", "C0: hi\n", "S1{\nS1: a\n", "S1}\n", "S1{\nC1: x\nS1}\n"} {
		if _, err := parseTranscript(src, 1); err == nil {
			t.Errorf("parseTranscript(%q) succeeded", src)
		}
	}
}

func TestFileData(t *testing.T) {
	got := string(fileData("a.bin", []byte("a\\x00b\nc\\\\x\\xZZ\\\nd\n")))
	if want := "a\x00b\nc\\x\\xZZd\n"; got != want {
		t.Errorf("fileData(.bin) = %q, want %q", got, want)
	}
	if got := string(fileData("a.eml", []byte("a\nb"))); got != "a\r\nb" {
		t.Errorf("fileData(.eml) = %q", got)
	}
}

func TestDotStuff(t *testing.T) {
	got := string(dotStuff([]byte(".a\r\nb")))
	if want := "..a\r\nb\r\n.\r\n"; got != want {
		t.Errorf("dotStuff = %q, want %q", got, want)
	}
}

// TestUpdate rewrites a wrong exact S line with what the server sent, and
// keeps glob lines that match.
func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/u.txtar"
	src := "Update mode.\n-- transcript --\nS1: HELLO*\nC1: ECHO x\nS1: OK y\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("run", func(t *testing.T) {
		Run(t, path, Options[int]{
			New:    func(t *testing.T, c *Case) int { return 0 },
			Start:  func(t *testing.T, _ int, c *Case) string { return echoServer(t, "HELLO") },
			Update: true,
		})
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(src, "S1: OK y", "S1: OK x", 1); string(b) != want {
		t.Errorf("updated file:\n%s\nwant:\n%s", b, want)
	}
}
