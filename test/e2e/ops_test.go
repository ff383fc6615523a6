package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestServiceLimit (issue 16, hp-system A4): with Service-Limit: 2 in each
// protocol section, two clients from two addresses are greeted and the
// third, from a third address (so no per-address cap applies), gets the
// protocol's "too many connections" reply, exactly; when one leaves, a
// new client is served again. The refusals are logged and `postern check`
// warns that 2 is below Max-Connections.
func TestServiceLimit(t *testing.T) {
	t.Parallel()
	limit := "Service-Limit: 2"
	e := newRobustEnv(t, "", map[string]string{"IMAP": limit, "POP": limit, "SMTP": limit, "LMTP": limit})
	check := e.run("", "check")
	if !strings.Contains(check.stderr, "[IMAP] Service-Limit: warning: 2 is below Max-Connections (25)") {
		t.Errorf("check does not warn about Service-Limit < Max-Connections:\n%s", check.stderr)
	}
	e.startMail()
	protos := []struct {
		name           string
		port           int
		greet, refusal string
	}{
		{"imap", e.imap, "* OK", "* BYE [UNAVAILABLE] Too many connections; try again later"},
		{"pop3", e.p.pop, "+OK", "-ERR [SYS/TEMP] too many connections; try again later"},
		{"submission", e.p.submission, "220 ", "421 4.7.0 e2e.example.org Too many connections; try again later"},
		{"smtp", e.p.smtp, "220 ", "421 4.7.0 e2e.example.org Too many connections; try again later"},
		{"lmtp", e.p.lmtp, "220 ", "421 4.7.0 e2e.example.org Too many connections; try again later"},
	}
	for i, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			var held []*lineConn
			defer func() {
				for _, c := range held {
					c.nc.Close()
				}
			}()
			for j := range 2 {
				c, err := dialFrom(fmt.Sprintf("127.0.%d.%d", 40+i, 2+j), p.port)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
				if l, err := c.line(10 * time.Second); !strings.HasPrefix(l, p.greet) {
					t.Fatalf("connection %d: %q %v", j+1, l, err)
				}
			}
			over, err := dialFrom(fmt.Sprintf("127.0.%d.9", 40+i), p.port)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := over.line(10 * time.Second)
			over.nc.Close()
			if l != p.refusal {
				t.Errorf("third connection got %q, want %q", l, p.refusal)
			}
			// A client leaving frees its slot.
			held[0].nc.Close()
			held = held[1:]
			deadline := time.Now().Add(10 * time.Second)
			for {
				c, err := dialFrom(fmt.Sprintf("127.0.%d.10", 40+i), p.port)
				if err != nil {
					t.Fatal(err)
				}
				l, _ := c.line(10 * time.Second)
				c.nc.Close()
				if strings.HasPrefix(l, p.greet) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after a client left, a new one still gets %q", l)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	log := readLog(t, e.logs, "postern-run.log")
	for _, label := range []string{"imap", "pop3", "submission", "smtp", "lmtp"} {
		want := `"connection refused: service limit reached"`
		found := false
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, want) && strings.Contains(line, " listener="+label+" service_limit=2 refused=1") {
				found = true
			}
		}
		if !found {
			t.Errorf("no service-limit refusal of listener %s in the run log", label)
		}
	}
}
