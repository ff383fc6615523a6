package e2e

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSCRAMPlusGSASL logs in to IMAP with SCRAM-SHA-256-PLUS and
// tls-exporter channel binding (RFC 9266) using GNU SASL's command-line
// client (Debian gsasl, GnuTLS), a client nobody here wrote: it runs
// STARTTLS, takes the binding from its own TLS 1.3 session and must
// finish the exchange, verifying the server's signature. With --no-cb it
// cannot use the PLUS mechanism. (SCRAM-Channel-Binding is on; without
// it, the default, TestSubmissionMutt shows why: mutt's GNU SASL picks
// PLUS whenever offered and cannot bind.)
func TestSCRAMPlusGSASL(t *testing.T) {
	t.Parallel()
	gsasl := requireTool(t, "gsasl")
	e, p := newIMAPEnv(t, "")
	// SCRAM-Channel-Binding is global: before the first section.
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.conf, append([]byte("SCRAM-Channel-Binding: on\n"), conf...), 0o600); err != nil {
		t.Fatal(err)
	}
	e.startMail()
	e.addUser("alice", "alice-pw")
	// The user's SCRAM keys are made at the first password login
	// (docs/accounts.md); one LOGIN over STARTTLS makes them.
	run := func(extra ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		args := append([]string{"--client", "--imap", "--connect=localhost:" + strconv.Itoa(p.plain), "--starttls",
			"--x509-ca-file=" + p.cafile, "--authentication-id=alice", "--password=alice-pw"}, extra...)
		out, err := exec.CommandContext(ctx, gsasl, args...).CombinedOutput()
		return string(out), err
	}
	out, err := run("--mechanism=SCRAM-SHA-256-PLUS", "--verbose")
	// The capability under TLS 1.3, the GS2 header "p=tls-exporter,,n="
	// (base64) of the client-first message, and gsasl's own check of the
	// server's signature.
	if err != nil || !strings.Contains(out, " AUTH=SCRAM-SHA-256-PLUS ") || !strings.Contains(out, "cD10bHMtZXhwb3J0ZXIsLG49") ||
		!strings.Contains(out, ". OK [CAPABILITY") || !strings.Contains(out, "server trusted") {
		t.Fatalf("gsasl SCRAM-SHA-256-PLUS: %v\n%s", err, out)
	}
	out, err = run("--mechanism=SCRAM-SHA-256-PLUS", "--no-cb")
	if err == nil {
		t.Errorf("gsasl SCRAM-SHA-256-PLUS --no-cb succeeded:\n%s", out)
	}
}
