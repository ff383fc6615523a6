package imapserver

import (
	"context"
	"fmt"
	"strconv"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// THREADID (RFC 8474 §5.2). The store gives each message its thread when
// it is stored (store.ThreadKeeper: by Message-ID, In-Reply-To and
// References, per account); the THREADID is "T" and the thread's id in
// decimal, which is the EMAILID number of the message that began the
// thread (T12 began with M12), so it is unique in the store and stable.
// FETCH THREADID reads the threads with one store query per batch, SEARCH
// THREADID with one per command. A message stored before the store kept
// threads, or a store that keeps none, has THREADID NIL (§5.2 allows NIL)
// and SEARCH THREADID never matches it.

func threadObjectID(id store.ThreadID) string { return "T" + strconv.FormatInt(int64(id), 10) }

// parseThreadObjectID is the reverse of threadObjectID; an objectid that
// is not one of Postern's THREADIDs names no thread.
func parseThreadObjectID(s string) (store.ThreadID, bool) {
	if len(s) < 2 || s[0] != 'T' || s[1] == '0' || s[1] == '+' || s[1] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(s[1:], 10, 64)
	return store.ThreadID(n), err == nil && n > 0
}

// loadThreadIDs reads the threads of uids in the selected mailbox (all of
// its messages when uids is nil); nil when the store keeps none.
func (c *conn) loadThreadIDs(ctx context.Context, uids []store.UID) (map[store.UID]store.ThreadID, error) {
	tk, ok := c.sess.(store.ThreadKeeper)
	if !ok || uids != nil && len(uids) == 0 {
		return nil, nil
	}
	m, err := tk.ThreadIDs(ctx, c.sel.id, uids)
	if err != nil {
		return nil, fmt.Errorf("load threads: %w", err)
	}
	return m, nil
}

// writeThreadID writes the THREADID data item (RFC 8474 §7:
// "THREADID" SP (threadid-resp / nil), threadid-resp = "(" objectid ")").
func writeThreadID(fw *imapwire.FetchWriter, threads map[store.UID]store.ThreadID, uid store.UID) {
	if id := threads[uid]; id != 0 {
		fw.Item("THREADID").ObjectID(threadObjectID(id))
		return
	}
	fw.Item("THREADID").NIL()
}

// askThreadIDs loads the threads of the selected mailbox once when a key
// of the tree is THREADID (RFC 8474 §6), for every such key.
func (c *conn) askThreadIDs(ctx context.Context, k *searchKey) error {
	isThread := func(k *searchKey) bool { return k.Op == imapwire.SearchThreadID }
	if !k.any(isThread) {
		return nil
	}
	m, err := c.loadThreadIDs(ctx, nil)
	if err != nil {
		return err
	}
	if m == nil {
		m = map[store.UID]store.ThreadID{}
	}
	k.any(func(k *searchKey) bool {
		if isThread(k) {
			k.threads = m
		}
		return false
	})
	return nil
}

// matchThreadID evaluates SEARCH THREADID (RFC 8474 §6) on a message: an
// id Postern never gave matches nothing.
func matchThreadID(k *searchKey, uid store.UID) bool {
	id, ok := parseThreadObjectID(k.Value)
	return ok && k.threads[uid] == id
}
