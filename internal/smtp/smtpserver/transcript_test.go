package smtpserver

import (
	"flag"
	"testing"

	"github.com/postern/postern/internal/prototest"
)

var update = flag.Bool("update", false, "rewrite failing S lines of the transcripts with what the server sent")

// TestTranscripts runs testdata/transcripts/*.txtar (STYLE.md B10). The
// setup directives are those of setup.apply: mode, user, admin, nomail,
// domain, alias, max-size, max-rcpts, per-ip, per-minute, plaintext-auth,
// no-queue, save-sent, remote ADDR (pretend every client comes from ADDR)
// and data-timeout.
func TestTranscripts(t *testing.T) {
	prototest.Run(t, "testdata/transcripts/*.txtar", prototest.Options[*setup]{
		New: func(*testing.T, *prototest.Case) *setup { return &setup{} },
		Setup: func(_ *testing.T, su *setup, _ *prototest.Case, args []string) error {
			return su.apply(args)
		},
		Start: func(t *testing.T, su *setup, _ *prototest.Case) string {
			return newTestEnv(t, *su).addr
		},
		Update: *update,
	})
}
