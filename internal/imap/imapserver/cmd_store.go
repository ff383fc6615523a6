package imapserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// cmdStore: RFC 9051 §6.4.6.
func (c *conn) cmdStore(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.store(ctx, dec, false)
}

// cmdUIDStore: RFC 9051 §6.4.9.
func (c *conn) cmdUIDStore(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.store(ctx, dec, true)
}

func (c *conn) store(ctx context.Context, dec *imapwire.Decoder, uid bool) error {
	args := imapwire.ParseStoreArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	req := store.FlagRequest{Op: storeOps[args.Mode], Flags: withoutRecent(args.Flags)}
	if args.HasUnchangedSince {
		// RFC 7162 §3.1: UNCHANGEDSINCE is a CONDSTORE enabling command.
		if err := c.enableCondStore(ctx); err != nil {
			return err
		}
	}
	if c.sel.readOnly {
		return nof("READ-ONLY", "Mailbox is read-only")
	}
	targets, err := c.sel.resolve(args.SeqSet, uid)
	if err != nil {
		return err
	}
	res, err := c.execStore(ctx, targets, req, args)
	if err != nil {
		return err
	}
	c.writeStore(targets, res, args.Silent, uid)
	return nil
}

// viewExpectsChange reports whether the view's copy of the targets' flags
// shows req changing one of them. It is the store's hint
// (store.FlagRequest.ExpectChange), never the decision: the copy may be
// older than the stored flags.
func viewExpectsChange(targets []target, req store.FlagRequest) bool {
	for _, t := range targets {
		switch req.Op {
		case store.FlagsReplace:
			if len(t.Flags) != len(req.Flags) || !hasAll(t.Flags, req.Flags) {
				return true
			}
		case store.FlagsAdd:
			if !hasAll(t.Flags, req.Flags) {
				return true
			}
		case store.FlagsRemove:
			for _, f := range req.Flags {
				if t.Flags.Has(f) {
					return true
				}
			}
		}
	}
	return false
}

// hasAll reports whether have holds every flag of want.
func hasAll(have, want store.Flags) bool {
	for _, f := range want {
		if !have.Has(f) {
			return false
		}
	}
	return true
}

// storeOps maps the STORE modes to the store's flag operations.
var storeOps = map[imapwire.StoreMode]store.FlagOp{
	imapwire.StoreReplace: store.FlagsReplace,
	imapwire.StoreAdd:     store.FlagsAdd,
	imapwire.StoreRemove:  store.FlagsRemove,
}

// storeResult is what a STORE did, by UID: the messages whose flags it
// changed, those whose committed state it learnt (changed or not), and
// those that failed the UNCHANGEDSINCE test (RFC 7162 §3.1.3).
type storeResult struct {
	changed, reported, failed map[store.UID]bool
}

// execStore has the store change the flags, and merges the committed
// states it returns into the view. The store decides the result from the
// flags it holds, not from the view's copy, which may be older (issue 11:
// a +FLAGS computed from a stale copy dropped another session's \Deleted).
func (c *conn) execStore(ctx context.Context, targets []target, req store.FlagRequest, args imapwire.StoreArgs) (storeResult, error) {
	res := storeResult{changed: map[store.UID]bool{}, reported: map[store.UID]bool{}, failed: map[store.UID]bool{}}
	if len(targets) == 0 {
		return res, nil
	}
	if args.HasUnchangedSince && args.UnchangedSince == 0 {
		// RFC 7162 §3.1.3: UNCHANGEDSINCE 0 always fails, every message
		// having a MODSEQ of at least 1. The store reads 0 as "no test".
		for _, t := range targets {
			res.failed[t.UID] = true
		}
		return res, nil
	}
	req.UnchangedSince = store.ModSeq(args.UnchangedSince)
	req.ExpectChange = viewExpectsChange(targets, req)
	fr, err := c.sess.StoreFlags(ctx, c.sel.id, uidsOf(targets), req)
	if err != nil {
		return res, fmt.Errorf("store flags: %w", err)
	}
	for _, u := range fr.Failed {
		res.failed[u] = true
	}
	for _, in := range fr.Changed {
		res.changed[in.UID] = true
		res.reported[in.UID] = true
		c.sel.merge(in)
	}
	for _, in := range fr.Unchanged {
		res.reported[in.UID] = true
		c.sel.merge(in)
	}
	return res, nil
}

// writeStore sends the FETCH responses of STORE and sets [MODIFIED].
// Without .SILENT every target whose committed state the store reported
// gets its flags (with UID and MODSEQ once CONDSTORE is enabled): a
// message another session expunged meanwhile gets none. With .SILENT, a
// CONDSTORE client still gets the new MODSEQ of each message changed
// (RFC 7162 §3.1.3: it cannot know it otherwise).
func (c *conn) writeStore(targets []target, res storeResult, silent, uid bool) {
	c.announceKeywords()
	for _, t := range targets {
		i := c.sel.index(t.UID)
		if i < 0 || c.sel.msgs[i].gone || !res.reported[t.UID] {
			continue
		}
		switch {
		case !silent:
			c.writeFlagsFetch(t.seq, c.sel.msgs[i].MessageInfo, uid)
		case c.condStore && res.changed[t.UID]:
			c.writeModSeqFetch(t.seq, c.sel.msgs[i].MessageInfo)
		}
	}
	if code := modifiedCode(targets, res.failed, uid); code != "" {
		c.resp.code = code
		c.resp.text = "Conditional STORE failed"
	}
}

// cmdCopy: RFC 9051 §6.4.7 with COPYUID (RFC 4315 §3).
func (c *conn) cmdCopy(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.copyMove(ctx, dec, false, false)
}

// cmdUIDCopy: RFC 9051 §6.4.9.
func (c *conn) cmdUIDCopy(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.copyMove(ctx, dec, true, false)
}

// cmdMove: RFC 9051 §6.4.8 (RFC 6851).
func (c *conn) cmdMove(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.copyMove(ctx, dec, false, true)
}

// cmdUIDMove: RFC 6851 §3.2.
func (c *conn) cmdUIDMove(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.copyMove(ctx, dec, true, true)
}

func (c *conn) copyMove(ctx context.Context, dec *imapwire.Decoder, uid, move bool) error {
	args := imapwire.ParseCopyArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	name := args.Mailbox
	targets, err := c.sel.resolve(args.SeqSet, uid)
	if err != nil {
		return err
	}
	if name, err = c.storeName(name); err != nil {
		return err
	}
	dest, err := c.sess.Mailbox(ctx, name)
	if err != nil {
		if isNoSuchMailbox(err) {
			return nof("TRYCREATE", "No such mailbox")
		}
		return err
	}
	if move && c.sel.readOnly {
		return nof("READ-ONLY", "Mailbox is read-only")
	}
	uids := uidsOf(targets)
	if len(uids) == 0 {
		if len(targets) > 0 {
			return nof("EXPUNGEISSUED", "Messages were expunged")
		}
		return nil
	}
	var res store.CopyResult
	err = c.duringStore(func() (err error) { // RFC 9585 (progress.go)
		if move {
			res, err = c.sess.Move(ctx, c.sel.id, uids, dest.ID)
		} else {
			res, err = c.sess.Copy(ctx, c.sel.id, uids, dest.ID)
		}
		return err
	})
	if err != nil {
		return err
	}
	code := copyUID(res)
	if move {
		// RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs,
		// which the epilogue sends.
		if code != "" {
			c.untaggedOK(code, "Moved")
		}
		c.sel.markGone(res.Source)
	} else {
		c.resp.code = code
	}
	if dest.ID == c.sel.id && len(res.Dest) > 0 {
		return c.resync(ctx, slices.Max(res.Dest))
	}
	return nil
}

// copyUID formats a COPYUID response code.
func copyUID(res store.CopyResult) string {
	if len(res.Source) == 0 {
		return ""
	}
	src := make([]uint32, len(res.Source))
	dst := make([]uint32, len(res.Dest))
	for i := range res.Source {
		src[i] = uint32(res.Source[i])
	}
	for i := range res.Dest {
		dst[i] = uint32(res.Dest[i])
	}
	return fmt.Sprintf("COPYUID %d %s %s", res.UIDValidity, seqList(src), seqList(dst))
}

// seqList writes UIDs in the given order, compressing ascending runs, so
// that the source and destination sets of COPYUID correspond.
func seqList(nums []uint32) string {
	var b strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", nums[i])
		if j > i {
			fmt.Fprintf(&b, ":%d", nums[j])
		}
		i = j + 1
	}
	return b.String()
}

// cmdExpunge: RFC 9051 §6.4.3.
func (c *conn) cmdExpunge(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	return c.expunge(ctx, nil)
}

// cmdUIDExpunge: RFC 9051 §6.4.9 (RFC 4315 §2.1).
func (c *conn) cmdUIDExpunge(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	set := imapwire.ParseSeqSetArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	targets, err := c.sel.resolve(set, true)
	if err != nil {
		return err
	}
	only := map[store.UID]bool{}
	for _, t := range targets {
		only[t.UID] = true
	}
	return c.expunge(ctx, only)
}

// expunge removes the messages of the view that carry \Deleted in the
// store when the expunge commits (those in only, when not nil): the store
// decides, not the view's copy of the flags, which may miss a \Deleted
// another session just set (RFC 9051 §6.4.3, issue 11). The EXPUNGE
// responses go out in the epilogue.
func (c *conn) expunge(ctx context.Context, only map[store.UID]bool) error {
	if c.sel.readOnly {
		return nof("READ-ONLY", "Mailbox is read-only")
	}
	return c.expungeDeleted(ctx, c.sel, only)
}

// expungeDeleted has the store remove the \Deleted messages among those
// of sel (in only, when not nil) and marks them gone. Messages beyond the
// view (not yet announced, or hidden by Message-Cap) are left alone: the
// client has not been told of them.
func (c *conn) expungeDeleted(ctx context.Context, sel *selected, only map[store.UID]bool) error {
	var uids []store.UID
	for _, m := range sel.msgs {
		if !m.gone && (only == nil || only[m.UID]) {
			uids = append(uids, m.UID)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	var removed []store.UID
	err := c.duringStore(func() (err error) { // RFC 9585 (progress.go)
		removed, err = c.sess.ExpungeDeleted(ctx, sel.id, uids)
		return err
	})
	if err != nil {
		return fmt.Errorf("expunge: %w", err)
	}
	sel.markGone(removed)
	return nil
}
