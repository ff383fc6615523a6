package mail11

import (
	"slices"
	"testing"

	"github.com/postern/postern/internal/store"
)

// TestKeptHeaderFields: every field DeriveEnvelope reads is one the store
// keeps (store.KeptHeaderFields), so an envelope derived from the kept
// fields is the one derived from the file.
func TestKeptHeaderFields(t *testing.T) {
	for _, f := range append(slices.Clone(senderFields), "To", "Cc", "Subject", "From") {
		if !slices.Contains(store.KeptHeaderFields, f) {
			t.Errorf("DeriveEnvelope reads %s, which store.KeptHeaderFields lacks", f)
		}
	}
}
