package e2e

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The crash loop of these clients, with IMAP APPEND and POP3 QUIT too, is
// TestCrashLoop (robust_crash_test.go).

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
