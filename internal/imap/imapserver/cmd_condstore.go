package imapserver

import (
	"context"
	"fmt"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// CONDSTORE (RFC 7162 §3.1). The store keeps a MODSEQ per message and a
// HIGHESTMODSEQ per mailbox, so every mailbox has mod-sequences and
// [NOMODSEQ] is never sent. The pieces live with their commands:
//
//   - ENABLE CONDSTORE (cmd_auth.go) and the CONDSTORE enabling commands
//     of §3.1 (SELECT/EXAMINE (CONDSTORE), FETCH MODSEQ or CHANGEDSINCE,
//     SEARCH MODSEQ, STATUS HIGHESTMODSEQ, STORE UNCHANGEDSINCE), which
//     call enableCondStore;
//   - [HIGHESTMODSEQ n] in every SELECT/EXAMINE, enabled or not
//     (cmd_mailbox.go, §3.1.2.1);
//   - the STATUS item HIGHESTMODSEQ (cmd_mailbox.go, §3.1.7);
//   - the FETCH item MODSEQ and modifier CHANGEDSINCE (cmd_fetch.go,
//     §3.1.4);
//   - the STORE modifier UNCHANGEDSINCE and [MODIFIED] (cmd_store.go,
//     §3.1.3);
//   - the SEARCH key MODSEQ (§3.1.5) and the MODSEQ of its result
//     (cmd_search.go, §3.1.6, and in ESEARCH §3.1.10);
//   - UID and MODSEQ in every untagged FETCH caused by STORE, by a FETCH
//     that set \Seen or by another session, once enabled (writeFlagsFetch,
//     §3.1).

// enableCondStore records a CONDSTORE enabling command (RFC 7162 §3.1).
// CONDSTORE stays on for the rest of the connection. When the first one
// arrives while a mailbox is selected, the HIGHESTMODSEQ that SELECT sent
// may be stale: the FETCH responses since then carried no MODSEQ (§3.1
// allows that before enabling). So the current value is announced now in
// an untagged OK, before the command's own responses (§3.1.2.1).
func (c *conn) enableCondStore(ctx context.Context) error {
	if c.condStore {
		return nil
	}
	c.condStore = true
	if c.sel == nil {
		return nil
	}
	st, err := c.sess.Status(ctx, c.sel.id)
	if err != nil {
		return fmt.Errorf("highest modseq: %w", err)
	}
	c.writeHighestModSeq(max(st.HighestModSeq, c.sel.maxModSeq()))
	return nil
}

// writeHighestModSeq writes "* OK [HIGHESTMODSEQ n] …" (RFC 7162 §3.1.2.1).
func (c *conn) writeHighestModSeq(m store.ModSeq) {
	c.okCode("HIGHESTMODSEQ", func(e *imapwire.Encoder) { e.ModSeq(uint64(m)) }, "Highest")
}

// maxModSeq is the highest MODSEQ of the messages in the view.
func (sel *selected) maxModSeq() store.ModSeq {
	var m store.ModSeq
	for _, e := range sel.msgs {
		m = max(m, e.ModSeq)
	}
	for _, in := range sel.hidden {
		m = max(m, in.ModSeq)
	}
	return m
}

// modifiedCode formats the MODIFIED response code of a conditional STORE
// (RFC 7162 §3.1.3): the sequence numbers, or the UIDs for UID STORE, of
// the messages that failed the UNCHANGEDSINCE test.
func modifiedCode(targets []target, failed map[store.UID]bool, uid bool) string {
	var nums []uint32
	for _, t := range targets {
		if !failed[t.UID] {
			continue
		}
		if uid {
			nums = append(nums, uint32(t.UID))
		} else {
			nums = append(nums, t.seq)
		}
	}
	if len(nums) == 0 {
		return ""
	}
	return "MODIFIED " + imapwire.SeqSetOf(nums...).String()
}
