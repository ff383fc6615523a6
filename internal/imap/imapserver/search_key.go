package imapserver

import (
	"strings"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// searchKey is one node of a SEARCH key tree as the server evaluates it:
// the key imapwire parsed (RFC 9051 §6.4.4, the grammar lives there
// alone), with the children compiled too, and what every message's
// evaluation shares, filled by prepare before any message is evaluated, so
// that SEARCH workers only read the tree.
type searchKey struct {
	imapwire.SearchKey
	kids []*searchKey

	members    map[store.UID]bool           // SearchSeqSet and SearchUID: the resolved set
	lower      string                       // strings.ToLower(Value): TEXT's header half
	lowerBytes []byte                       // lower as bytes
	folded     []byte                       // Value with ASCII letters lower-cased: BODY, TEXT
	cutoff     time.Time                    // SearchOlder, SearchYounger: the command's now less Interval
	idx        *indexAnswer                 // the search index's answer; nil: scan (search_index.go)
	saved      *saveDates                   // SAVED* keys: the mailbox's save dates (savedate.go)
	threads    map[store.UID]store.ThreadID // THREADID: the mailbox's threads (threadid.go)
}

// compileSearch turns a parsed key into the tree the server evaluates.
func compileSearch(k imapwire.SearchKey) *searchKey {
	sk := &searchKey{SearchKey: k}
	for _, kid := range k.Children {
		sk.kids = append(sk.kids, compileSearch(kid))
	}
	sk.Children = nil
	return sk
}

// envelopeKeys names the keys evaluated on the ENVELOPE's fields.
var envelopeKeys = map[imapwire.SearchOp]string{
	imapwire.SearchBcc: "BCC", imapwire.SearchCc: "CC", imapwire.SearchFrom: "FROM",
	imapwire.SearchTo: "TO", imapwire.SearchSubject: "SUBJECT",
}

// any reports whether pred holds for k or any key below it.
func (k *searchKey) any(pred func(*searchKey) bool) bool {
	if pred(k) {
		return true
	}
	for _, kid := range k.kids {
		if kid.any(pred) {
			return true
		}
	}
	return false
}

// usesModSeq reports whether the key holds MODSEQ (RFC 7162 §3.1.5),
// which makes the SEARCH a CONDSTORE enabling command and adds the
// highest MODSEQ of the result to the response (§3.1.6).
func (k *searchKey) usesModSeq() bool {
	return k.any(func(k *searchKey) bool { return k.Op == imapwire.SearchModSeq })
}

// readsFiles reports whether the key reads message files as a rule: BODY,
// TEXT and HEADER. (The envelope keys read the header only for a message
// without a stored envelope.)
func (k *searchKey) readsFiles() bool {
	return k.any(func(k *searchKey) bool {
		return k.Op == imapwire.SearchBody || k.Op == imapwire.SearchText || k.Op == imapwire.SearchHeader
	})
}

// prepare resolves what every message's evaluation shares: the sets of
// sequence-set and UID keys (against the view as it is now), the
// lower-cased strings of BODY and TEXT, and the instant OLDER and YOUNGER
// compare with (one now for the whole command).
func (k *searchKey) prepare(sel *selected, now time.Time) {
	switch k.Op {
	case imapwire.SearchSeqSet, imapwire.SearchUID:
		k.members = map[store.UID]bool{}
		ts := sel.designated(k.SeqSet, k.Op == imapwire.SearchUID)
		for _, t := range ts {
			k.members[t.UID] = true
		}
	case imapwire.SearchBody, imapwire.SearchText:
		k.lower = strings.ToLower(k.Value)
		k.lowerBytes = []byte(k.lower)
		k.folded = foldASCII([]byte(k.Value))
	case imapwire.SearchOlder, imapwire.SearchYounger:
		k.cutoff = now.Add(-time.Duration(k.Interval) * time.Second)
	}
	for _, kid := range k.kids {
		kid.prepare(sel, now)
	}
}
