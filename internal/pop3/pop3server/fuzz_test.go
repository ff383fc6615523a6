package pop3server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/postern/postern/internal/store"
)

// FuzzParseCommand fuzzes the line reader and the command grammar.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"USER alice\r\n", "PASS a b c\r\n", "RETR 1\r\n", "TOP 1 10\r\n", "LIST\n",
		"APOP alice 0123456789abcdef0123456789abcdef\r\n", "AUTH PLAIN =\r\n", "\x00\xff\r\n", "XTND STATS\r\n",
		strings.Repeat("x", 300) + "\r\n", "RETR 99999999999\r\n", " \r\n", "\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 64)
		for {
			line, err := readLine(br, maxCommandLine)
			if errors.Is(err, errLineTooLong) {
				continue
			}
			if err != nil {
				return
			}
			if len(line) > maxCommandLine {
				t.Fatalf("line of %d octets passed the limit", len(line))
			}
			cmd, binary := parseCommand(line)
			if !binary && (cmd.verb == "" || strings.ToUpper(cmd.verb) != cmd.verb) {
				t.Fatalf("verb %q", cmd.verb)
			}
			if f, err := splitArgs(cmd.args, 0, 3); err == nil {
				for _, a := range f {
					if a == "" || len(a) > maxArgLength || hasControl(a) {
						t.Fatalf("bad argument %q accepted", a)
					}
					if n, err := parseMsgNumber(a); err == nil && n <= 0 {
						t.Fatalf("message number %d", n)
					}
				}
			}
		}
	})
}

// FuzzSession fuzzes the whole server, state by state (mox
// imapserver/fuzz_test.go): the first byte picks the state the
// connection is brought to (AUTHORIZATION, after USER, TRANSACTION), the
// rest is sent as is. The server must answer and close cleanly: no panic
// and no hang.
func FuzzSession(f *testing.F) {
	seeds := []string{
		"\x00CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n",
		"\x01PASS secret\r\nRETR 1\r\nQUIT\r\n",
		"\x02LIST\r\nUIDL\r\nTOP 1 1\r\nRETR 2\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n",
		"\x02DELE 1\r\nDELE 1\r\nLIST 1\r\nRETR 0\r\nTOP 2 99999\r\nXTND STATS\r\n",
		"\x00AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nSTAT\r\n",
		"\x00AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPWFiYw==\r\n*\r\n",
		"\x00APOP alice 0123456789abcdef0123456789abcdef\r\nUSER\r\n\xff\xfe\r\n",
		"\x02" + strings.Repeat("A", 400) + "\r\nSTAT\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	fx.opts.Logger = nil
	if err := fx.addUser("alice", "secret"); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"a", "b", "c"} {
		fx.deliver("alice", store.MailboxInbox, msg(s))
	}
	addr := fx.start()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		fx.t = t
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		prefix := []string{"", "USER alice\r\n", "USER alice\r\nPASS secret\r\n"}[int(data[0])%3]
		if _, err := nc.Write(append([]byte(prefix), data[1:]...)); err != nil {
			return // the server may close first (garbage, limits)
		}
		nc.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, nc); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server did not close the connection")
			}
		}
		var pm dto.Metric
		metricPanics.Write(&pm)
		if pm.GetCounter().GetValue() != 0 {
			t.Fatal("the server panicked")
		}
		// Keep the maildrop populated for later inputs.
		if fx.count("alice", "INBOX") < 2 {
			fx.deliver("alice", store.MailboxInbox, msg("again"))
		}
	})
}
