package imapserver

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

// TestAuthenticateSCRAM runs a full SCRAM-SHA-256 exchange (RFC 7677) with
// an independent client, with the initial response in the command
// (SASL-IR) and the server-final message sent as a last challenge.
func TestAuthenticateSCRAM(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{{"right", "pw", true}, {"wrong", "nope", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.addUser("alice", "pw")
			c := dialRaw(t, f.start())
			client, err := scram.SHA256.NewClient("alice", tc.password, "")
			if err != nil {
				t.Fatal(err)
			}
			conv := client.NewConversation()
			first, _ := conv.Step("")
			c.send("a1 AUTHENTICATE SCRAM-SHA-256 " + base64.StdEncoding.EncodeToString([]byte(first)))
			line := c.expect("")
			if !strings.HasPrefix(line, "+ ") {
				t.Fatalf("after client-first: %q", line)
			}
			chal, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line[2:]))
			final, err := conv.Step(string(chal))
			if err != nil {
				t.Fatal(err)
			}
			c.send(base64.StdEncoding.EncodeToString([]byte(final)))
			line = c.expect("")
			if !tc.ok {
				if !strings.HasPrefix(line, "a1 NO [AUTHENTICATIONFAILED]") {
					t.Fatalf("wrong password: %q", line)
				}
				return
			}
			if !strings.HasPrefix(line, "+ ") {
				t.Fatalf("after client-final: %q", line)
			}
			sf, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line[2:]))
			if _, err := conv.Step(string(sf)); err != nil || !conv.Valid() {
				t.Fatalf("server-final does not verify: %v", err)
			}
			c.send("")
			if line = c.expect("a1 "); !strings.HasPrefix(line, "a1 OK [CAPABILITY") {
				t.Fatalf("result: %q", line)
			}
		})
	}
}
