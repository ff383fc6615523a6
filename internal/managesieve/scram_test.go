package managesieve

import (
	"bufio"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"
)

// TestSCRAM: SCRAM-SHA-256 works off loopback without TLS, and the
// server's final message comes in the OK's SASL code (RFC 5804 §2.1).
func TestSCRAM(t *testing.T) {
	f := newFixture(t)
	f.start(true)
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	readUntilOK := func() string {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(line, `"`) || strings.HasPrefix(line, "OK") {
				return strings.TrimRight(line, "\r\n")
			}
		}
	}
	if got := readUntilOK(); got != `OK "Postern ManageSieve ready."` {
		t.Fatalf("greeting ends %q", got)
	}
	client, _ := scram.SHA256.NewClient("alice", "secret", "")
	conv := client.NewConversation()
	first, _ := conv.Step("")
	nc.Write([]byte(`AUTHENTICATE "SCRAM-SHA-256" "` + base64.StdEncoding.EncodeToString([]byte(first)) + "\"\r\n"))
	line, _ := br.ReadString('\n')
	challenge, err := base64.StdEncoding.DecodeString(strings.Trim(strings.TrimSpace(line), `"`))
	if err != nil {
		t.Fatalf("challenge %q: %v", line, err)
	}
	final, err := conv.Step(string(challenge))
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte(`"` + base64.StdEncoding.EncodeToString([]byte(final)) + "\"\r\n"))
	line, _ = br.ReadString('\n')
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), `OK (SASL "`)
	if !ok {
		t.Fatalf("after the client's final message: %q", line)
	}
	b64, _, _ := strings.Cut(rest, `"`)
	serverFinal, _ := base64.StdEncoding.DecodeString(b64)
	if _, err := conv.Step(string(serverFinal)); err != nil || !conv.Valid() {
		t.Errorf("server final message not valid: %v", err)
	}
	nc.Write([]byte("LISTSCRIPTS\r\n"))
	if line, _ := br.ReadString('\n'); line != "OK \"Listscripts completed.\"\r\n" {
		t.Errorf("LISTSCRIPTS after SCRAM: %q", line)
	}
}
