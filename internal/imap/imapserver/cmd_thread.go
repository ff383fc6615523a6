package imapserver

import (
	"context"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/imap/thread"
)

// cmdThread: RFC 5256 §3 THREAD, with ORDEREDSUBJECT, REFERENCES and
// Dovecot's REFS.
func (c *conn) cmdThread(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.thread(ctx, dec, false)
}

// cmdUIDThread: RFC 5256 §3, UID THREAD answers UIDs.
func (c *conn) cmdUIDThread(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.thread(ctx, dec, true)
}

// threadAlgorithms maps the grammar's algorithms to the thread package's.
var threadAlgorithms = map[string]thread.Algorithm{
	imapwire.ThreadOrderedSubject: thread.OrderedSubject,
	imapwire.ThreadReferences:     thread.References,
	imapwire.ThreadRefs:           thread.Refs,
}

func (c *conn) thread(ctx context.Context, dec *imapwire.Decoder, uid bool) error {
	args := imapwire.ParseThreadArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.checkSearchNumbers(args.Key); err != nil {
		return err
	}
	alg := threadAlgorithms[args.Algorithm]
	matched, _, err := c.searchCriteria(ctx, args.Charset, args.Key)
	if err != nil {
		return err
	}
	msgs, kept, err := c.sortData(ctx, matched, alg != thread.OrderedSubject)
	if err != nil {
		return err
	}
	c.enc.Thread(threadNodes(thread.Thread(msgs, alg), kept, uid))
	return nil
}

// threadNodes numbers a thread forest for the response: sequence numbers
// or UIDs, 0 for a dummy.
func threadNodes(forest []thread.Node, kept []target, uid bool) []imapwire.ThreadNode {
	if len(forest) == 0 {
		return nil
	}
	out := make([]imapwire.ThreadNode, len(forest))
	for i, n := range forest {
		if n.Msg >= 0 {
			out[i].Num = numberOf(kept[n.Msg], uid)
		}
		out[i].Children = threadNodes(n.Children, kept, uid)
	}
	return out
}
