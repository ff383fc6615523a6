package postgres

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// TestEncodeMetadataChanges: a metadata change with more entry names than
// one notification holds is split into changes of the same mailbox, each
// payload under PostgreSQL's limit, the names kept in order; a name too
// long for any notification is left out; decoding gives the changes back.
func TestEncodeMetadataChanges(t *testing.T) {
	var names []string
	for i := 0; i < 400; i++ {
		names = append(names, "/private/"+strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	long := "/shared/" + strings.Repeat("y", maxPayload)
	ch := store.ChangeMetadata{Mailbox: 7, Entries: append(append([]string{}, names[:200]...), append([]string{long}, names[200:]...)...)}
	payloads := encodeChanges(1, 0, []store.Change{ch})
	if len(payloads) < 2 {
		t.Fatalf("%d payloads, want the change split", len(payloads))
	}
	var got []string
	for _, p := range payloads {
		if len(p) > 8000 {
			t.Fatalf("payload of %d octets", len(p))
		}
		var n notice
		if err := json.Unmarshal([]byte(p), &n); err != nil {
			t.Fatal(err)
		}
		for _, w := range n.C {
			c, ok := w.change().(store.ChangeMetadata)
			if !ok || c.Mailbox != 7 {
				t.Fatalf("decoded %+v", w.change())
			}
			got = append(got, c.Entries...)
		}
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("names after the round trip differ: %d, want %d", len(got), len(names))
	}
}
