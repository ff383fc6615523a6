package imapserver

import (
	"context"
	"errors"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// idleLine is what the IDLE reader goroutine hands back.
type idleLine struct {
	line string
	err  error
}

// cmdIdle: RFC 9051 §6.3.13 (RFC 2177). A goroutine reads the "DONE"
// line while this one pushes mailbox updates as the store publishes them.
// The reader owns c.br until it sends its result; this goroutine does not
// read meanwhile.
func (c *conn) cmdIdle(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if err := c.enc.Continuation("idling"); err != nil {
		return err
	}
	c.setReadDeadline(c.readTimeout())
	done := make(chan idleLine, 1)
	go func() {
		// RFC 2177 §3: "DONE" CRLF ends IDLE. The decoder is this
		// goroutine's until it hands the line over.
		var line string
		dec.Line(&line)
		done <- idleLine{line, dec.Err()}
	}()
	var changes <-chan struct{}
	if c.sess != nil {
		changes = c.sess.Changes().Ready()
	}
	for {
		c.sendUpdates(true)
		if err := c.flushErr(); err != nil {
			return err
		}
		select {
		case l := <-done:
			if l.err != nil {
				return l.err
			}
			if !strings.EqualFold(l.line, "DONE") {
				return badf("Expected DONE")
			}
			return nil
		case <-changes:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// isNoSuchMailbox reports whether err says the mailbox does not exist.
func isNoSuchMailbox(err error) bool { return errors.Is(err, store.ErrNoSuchMailbox) }
