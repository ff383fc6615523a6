package imapserver

import (
	"slices"
	"testing"

	"github.com/postern/postern/internal/imap/imapwire"
)

// TestCommandsHaveGrammar: imapwire is the only IMAP grammar (issue 11),
// so every verb of the dispatch table has its grammar there.
func TestCommandsHaveGrammar(t *testing.T) {
	wire := imapwire.CommandNames()
	for verb := range commands {
		if !slices.Contains(wire, verb) {
			t.Errorf("%s is dispatched but imapwire has no grammar for it", verb)
		}
	}
}
