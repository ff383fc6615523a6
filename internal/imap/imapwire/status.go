package imapwire

import "strings"

// A StatusItem is a status-att of STATUS (RFC 9051 §6.3.11) and of the
// LIST-STATUS return option (RFC 5819).
type StatusItem uint8

// The STATUS items.
const (
	StatusMessages       StatusItem = iota + 1 // MESSAGES
	StatusUIDNext                              // UIDNEXT
	StatusUIDValidity                          // UIDVALIDITY
	StatusUnseen                               // UNSEEN
	StatusDeleted                              // DELETED (IMAP4rev2)
	StatusSize                                 // SIZE (IMAP4rev2, STATUS=SIZE RFC 8438)
	StatusRecent                               // RECENT (IMAP4rev1)
	StatusHighestModSeq                        // HIGHESTMODSEQ (RFC 7162)
	StatusAppendLimit                          // APPENDLIMIT (RFC 7889)
	StatusDeletedStorage                       // DELETED-STORAGE (RFC 9208 §4.4)
	StatusMailboxID                            // MAILBOXID (RFC 8474 §4.3)
)

var statusItemNames = [...]string{"", "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED",
	"SIZE", "RECENT", "HIGHESTMODSEQ", "APPENDLIMIT", "DELETED-STORAGE",
	"MAILBOXID"}

// String returns the item's name on the wire.
func (s StatusItem) String() string {
	if int(s) < len(statusItemNames) {
		return statusItemNames[s]
	}
	return "UNKNOWN"
}

// ExpectStatusItems decodes "(" status-att *(SP status-att) ")".
func (dec *Decoder) ExpectStatusItems(ptr *[]StatusItem) bool {
	var items []StatusItem
	ok := dec.ExpectList(func() bool {
		var name string
		if !dec.ExpectAtom(&name) {
			return false
		}
		for i, n := range statusItemNames {
			if i > 0 && strings.EqualFold(n, name) {
				items = append(items, StatusItem(i))
				return true
			}
		}
		return dec.setErr(syntaxErrorf("unknown STATUS item %q", name))
	})
	if ok && len(items) == 0 {
		return dec.Expect(false, "STATUS item")
	}
	if ok {
		*ptr = items
	}
	return ok
}
