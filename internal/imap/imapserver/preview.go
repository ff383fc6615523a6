package imapserver

import (
	"context"
	"fmt"
	"io"

	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// PREVIEW (RFC 8970). The store keeps each message's preview, computed
// once when the message was stored (store.PreviewKeeper, by
// search.Preview, whose doc comment and docs/imap.md give the
// algorithm), so FETCH PREVIEW reads it with one store query per batch
// and opens no message file. PREVIEW (LAZY) gets it at once too, and NIL
// is never sent (§3.1). The server computes a preview itself, from its
// view of the message, in two cases:
//
//   - a message stored before the store kept previews: computed from the
//     message as stored on its first FETCH PREVIEW and kept
//     (KeepPreviews), so the next FETCH reads it;
//   - a message whose body the OpenVMS Mail view rebuilds (its stored
//     header shown as body text, a foreign message in base64): computed
//     each time from the view, never kept, since it is not the stored
//     message's.
//
// With a store that keeps no previews, every preview is computed.

// batchPreviews holds the previews of one FETCH batch.
type batchPreviews struct {
	keeper store.PreviewKeeper
	kept   map[store.UID]string // the store's
	fresh  map[store.UID]string // computed for messages that had none, to keep
}

// previewPlan completes a plan with PREVIEW for the session's store: a
// store without previews makes every FETCH PREVIEW read the messages.
func (c *conn) previewPlan(plan fetchPlan) fetchPlan {
	if !plan.hasPreview {
		return plan
	}
	if _, ok := c.sess.(store.PreviewKeeper); !ok {
		plan.needData, plan.needContent = true, true
	}
	return plan
}

// loadPreviews reads the kept previews of a batch, and returns the plan
// for the batch: the whole structure is loaded when a message has none
// kept, so that it can be computed.
func (c *conn) loadPreviews(ctx context.Context, batch []target, plan fetchPlan) (fetchPlan, error) {
	pk, ok := c.sess.(store.PreviewKeeper)
	if !plan.hasPreview || !ok {
		return plan, nil
	}
	kept, err := pk.Previews(ctx, c.sel.id, uidsOf(batch))
	if err != nil {
		return plan, fmt.Errorf("load previews: %w", err)
	}
	plan.previews = &batchPreviews{keeper: pk, kept: kept, fresh: map[store.UID]string{}}
	for _, t := range batch {
		if _, ok := kept[t.UID]; !ok {
			plan.needData, plan.needStructure = true, true
			break
		}
	}
	return plan, nil
}

// keepPreviews hands the previews computed for a batch to the store. A
// failure costs only a later computation: it is logged.
func (c *conn) keepPreviews(ctx context.Context, pv *batchPreviews) {
	if pv == nil || len(pv.fresh) == 0 {
		return
	}
	if err := pv.keeper.KeepPreviews(ctx, c.sel.id, pv.fresh); err != nil {
		c.log.Warn("imap: keep previews", "err", err)
	}
}

// previewOf returns a message's preview: the kept one, or one computed
// from the view (opening the message).
func (c *conn) previewOf(ctx context.Context, mv *msgView, pv *batchPreviews) (string, error) {
	if pv != nil && !mv.bodyRebuilt {
		if s, ok := pv.kept[mv.info.UID]; ok {
			return s, nil
		}
	}
	if mv.part == nil { // loadPreviews loads it for every message without one
		return "", fmt.Errorf("preview of message %d: structure not loaded", mv.info.UID)
	}
	if err := mv.open(ctx, c.sess, c.sel.id); err != nil {
		return "", err
	}
	s := viewPreview(mv)
	if pv != nil && !mv.bodyRebuilt {
		pv.fresh[mv.info.UID] = s
	}
	return s, nil
}

// viewPreview computes the preview of the message as the view shows it.
func viewPreview(mv *msgView) string {
	p := search.PreviewPart(mv.part)
	if p == nil {
		return ""
	}
	s, e := mv.bodyRange(p)
	return search.PreviewText(io.NewSectionReader(mv.readerAt(), s, e-s), p)
}
