package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestSMTPAndLMTPSurviveSIGKILL: eight clients (four LMTP, four
// submission) send to bob until the server is killed with SIGKILL. After a
// restart, every message that got a 250 is in bob's INBOX exactly once,
// complete.
func TestSMTPAndLMTPSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				marker := fmt.Sprintf("c%d-m%d", i, n)
				var err error
				if i%2 == 0 {
					err = sendLMTP(p.lmtp, marker)
				} else {
					err = sendSubmission(p.submission, marker)
				}
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[marker] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond) // let deliveries pile up mid-flight
	s.cmd.Process.Kill()
	close(stop)
	wg.Wait()
	s.wait()
	if len(acked) < 8 {
		t.Fatalf("only %d messages acknowledged before the kill; the test proves nothing", len(acked))
	}

	s2 := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	e.run("", "ctl", "shutdown").must(t, 0)
	s2.wait()
	seen := map[string]int{}
	for _, m := range storedMessages(t, e.data, "bob", "INBOX") {
		_, rest, _ := strings.Cut(m, "Subject: ")
		marker, _, _ := strings.Cut(rest, "\r\n")
		seen[marker]++
		if !strings.HasSuffix(m, crashBody(marker)) {
			t.Errorf("message %s is incomplete", marker)
		}
	}
	for marker := range acked {
		if seen[marker] != 1 {
			t.Errorf("acknowledged message %s stored %d times", marker, seen[marker])
		}
	}
	for marker, n := range seen {
		if n > 1 {
			t.Errorf("message %s stored %d times", marker, n)
		}
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(seen))
}

func crashBody(marker string) string {
	return "\r\n\r\n" + strings.Repeat("line of "+marker+" padding padding padding\r\n", 200)
}

func crashMsg(marker string) string {
	return "From: alice@e2e.example.org\r\nTo: bob@e2e.example.org\r\nSubject: " + marker + crashBody(marker)
}

func sendLMTP(port int, marker string) error {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	return c.SendMail("alice@e2e.example.org", []string{"bob@e2e.example.org"}, strings.NewReader(crashMsg(marker)))
}

func sendSubmission(port int, marker string) error {
	c, err := smtp.Dial("127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		return err
	}
	defer c.Close()
	// Loopback: plaintext AUTH is allowed, as for POP3 and IMAP.
	if err := c.Auth(sasl.NewPlainClient("", "alice", "alice-pw")); err != nil {
		return err
	}
	return c.SendMail("alice@e2e.example.org", []string{"bob@e2e.example.org"}, strings.NewReader(crashMsg(marker)))
}
