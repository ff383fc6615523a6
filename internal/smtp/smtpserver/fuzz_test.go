package smtpserver

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// panics collects the panics the fuzzed servers recovered.
var (
	fuzzMu sync.Mutex
	panics []string
)

// FuzzSession feeds arbitrary bytes to a live server in each mode, after a
// greeting prefix that puts the session in an interesting state (none,
// after EHLO/LHLO, inside a transaction, inside DATA). The server must
// never panic, and must keep serving.
func FuzzSession(f *testing.F) {
	seeds := []string{
		"MAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n",
		"BDAT 5 LAST\r\nhello",
		"RCPT TO:<alice@example.org> NOTIFY=NEVER\r\nBDAT 3\r\nabcBDAT 0 LAST\r\n",
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@example.org> SIZE=10 BODY=8BITMIME SMTPUTF8\r\n",
		"AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n",
		"AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPW5vbmNl\r\n*\r\n",
		"x\n.\nMAIL FROM:<evil@x>\r\n.\r\n",
		"STARTTLS\r\n\x16\x03\x01\x00",
		"RSET\r\nNOOP\r\nVRFY x\r\nEHLO again\r\nHELO x\r\n",
		// Issue 12: go-smtp v0.25.1 panicked when a BDAT transfer met the
		// connection's end (testdata/fuzz/FuzzSession keeps the inputs).
		"BDAT 0\r\n", "BDAT 100\r\nabc",
		"x" + strings.Repeat("y", 3000) + "\r\n.\r\n", // a long DATA line
		"MAIL FROM:<a@example.net> SIZE=99999999999\r\n",
		"EHLO \x00\xff\r\n",
	}
	for _, s := range seeds {
		for mode := uint8(0); mode < 3; mode++ {
			for state := uint8(0); state < 4; state++ {
				f.Add(mode, state, []byte(s))
			}
		}
	}
	// One server per mode, shared by every input of this process.
	var envs [3]*testEnv
	for i, m := range []string{"submission", "smtp", "lmtp"} {
		envs[i] = newTestEnv(f, parseSetup(f, "mode "+m+"\nuser alice secret\nmax-size 100000"))
		envs[i].srv.onPanic = func(msg string) {
			fuzzMu.Lock()
			panics = append(panics, msg)
			fuzzMu.Unlock()
		}
	}
	f.Fuzz(func(t *testing.T, mode, state uint8, input []byte) {
		e := envs[int(mode)%3]
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		hello := "EHLO fuzz\r\n"
		if int(mode)%3 == 2 {
			hello = "LHLO fuzz\r\n"
		}
		prefix := []string{"", hello,
			hello + "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<alice@example.org>\r\n",
			hello + "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n",
		}[int(state)%4]
		go func() {
			c.Write([]byte(prefix))
			c.Write(input)
			c.Write([]byte("\r\n.\r\nQUIT\r\n"))
			c.(*net.TCPConn).CloseWrite() // EOF ends whatever the server still waits for
		}()
		io.Copy(io.Discard, c)
		fuzzMu.Lock()
		defer fuzzMu.Unlock()
		if len(panics) > 0 {
			t.Fatalf("server panicked: %s", panics[0])
		}
	})
}
