package store

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/postern/postern/internal/message"
)

// ThreadID identifies a thread of an account's messages (RFC 8474 §5.2
// THREADID): the EmailID of the message that began it. 0 stands for
// none known.
type ThreadID int64

// ThreadKeeper is implemented by sessions whose store assigns each
// message a thread when it is stored (delivery, APPEND, import), from
// its ThreadRefs, per account:
//
//   - the message joins the thread of the first of its references (In-Reply-To,
//     then References from the last, nearest, to the first) that a message of
//     the account stored earlier carried as its own Message-ID or
//     referred to, else the thread of an earlier message that referred
//     to its own Message-ID (a reply that arrived first);
//   - failing all, it begins a thread of its own, whose ThreadID is its
//     EmailID.
//
// Threads are never merged or split afterwards: a ThreadID, once given,
// stays the message's. COPY gives the copy the original's thread and MOVE
// keeps it. Messages stored before the store kept threads have none.
type ThreadKeeper interface {
	// ThreadIDs returns the thread of each message of uids present in the
	// mailbox (every message of the mailbox when uids is nil); 0 for a
	// message stored before the store kept threads. Absent UIDs are left
	// out. ErrNoSuchMailbox when the mailbox is not one of the session's
	// account.
	ThreadIDs(ctx context.Context, mailbox MailboxID, uids []UID) (map[UID]ThreadID, error)
}

// ThreadRefs are what a message is threaded by: the message ID of its
// Message-ID field and those it refers to, nearest first (In-Reply-To's
// first, then References' from the last), at most MaxThreadRefs and
// without Own or duplicates. The ids are message.MessageIDs forms.
type ThreadRefs struct {
	Own  string
	Refs []string
}

// MaxThreadRefs bounds ThreadRefs.Refs: a longer References field is
// read from its end, where the nearest ancestors are.
const MaxThreadRefs = 32

// ThreadRefsOf reads a message's ThreadRefs from its top-level header.
func ThreadRefsOf(h message.Header) ThreadRefs {
	var tr ThreadRefs
	if ids := message.MessageIDs(h.Get("Message-ID"), 1); len(ids) == 1 && usableID(ids[0]) {
		tr.Own = ids[0]
	}
	add := func(id string) {
		if usableID(id) && id != tr.Own && len(tr.Refs) < MaxThreadRefs && !slices.Contains(tr.Refs, id) {
			tr.Refs = append(tr.Refs, id)
		}
	}
	for _, id := range message.MessageIDs(h.Get("In-Reply-To"), 1) {
		add(id)
	}
	refs := message.MessageIDs(h.Get("References"), -1)
	for i := len(refs) - 1; i >= 0; i-- {
		add(refs[i])
	}
	return tr
}

// maxThreadIDLen bounds a message ID a store keeps (RFC 5322 §2.1.1
// bounds a line at 998 octets).
const maxThreadIDLen = 998

// usableID reports whether a message ID can be kept as text by every
// store: valid UTF-8 without control characters (PostgreSQL refuses NUL
// and invalid UTF-8), not over maxThreadIDLen. Others are not threaded
// by.
func usableID(id string) bool {
	return len(id) <= maxThreadIDLen && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}

// Keys returns the ids a store looks the message's thread up by, in the
// order of preference ThreadKeeper describes: the references, then its
// own id.
func (tr ThreadRefs) Keys() []string {
	keys := slices.Clone(tr.Refs)
	if tr.Own != "" {
		keys = append(keys, tr.Own)
	}
	return keys
}
