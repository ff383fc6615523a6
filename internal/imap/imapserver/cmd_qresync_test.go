package imapserver

import (
	"testing"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// TestAbsent checks the full VANISHED (EARLIER) answer (RFC 7162
// §3.2.5.1): the known UIDs below UIDNEXT the view does not hold, counting
// hidden (Message-Cap) and not yet announced expunged messages as held,
// whatever span the known ranges cover.
func TestAbsent(t *testing.T) {
	sel := &selected{uidNext: 11}
	for _, u := range []store.UID{2, 3, 7} {
		sel.msgs = append(sel.msgs, msgEntry{MessageInfo: store.MessageInfo{UID: u}})
	}
	sel.msgs[1].gone = true
	sel.hidden = []store.MessageInfo{{UID: 9}}
	for _, tt := range []struct{ known, want string }{
		{"1:4294967295", "1,4:6,8,10"},
		{"1:10", "1,4:6,8,10"},
		{"2:3,7,9", ""},
		{"5,8:9,12:20", "5,8"},
		{"3:4,6:7", "4,6"},
		{"11:20", ""},
	} {
		known, err := imapwire.ParseSeqSet(tt.known)
		if err != nil {
			t.Fatal(err)
		}
		if got := sel.absent(known).String(); got != tt.want {
			t.Errorf("absent(%s) = %q, want %q", tt.known, got, tt.want)
		}
	}
	empty := &selected{uidNext: 1}
	if got := empty.absent(imapwire.SeqSet{Ranges: []imapwire.SeqRange{{Start: 1, Stop: 5}}}); len(got.Ranges) != 0 {
		t.Errorf("absent in a mailbox that never held a message = %s", got)
	}
}
