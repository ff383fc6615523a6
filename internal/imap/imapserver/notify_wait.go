package imapserver

import (
	"errors"
)

// errLoggedOut ends the connection after awaitCommand sent BYE itself.
var errLoggedOut = errors.New("logged out while waiting for a command")

// awaitCommand waits for the next command while a NOTIFY is in force,
// sending notifications as the store publishes changes (RFC 5465 §3.1:
// the server sends them "at any time", not only during IDLE). A goroutine
// waits for the first byte of the command in c.br and hands the result
// over; meanwhile this goroutine only writes, so c.br has one user at a
// time (as in IDLE). The read deadline set before still bounds the wait.
func (c *conn) awaitCommand() error {
	if c.br.Buffered() > 0 {
		return nil
	}
	ready := make(chan error, 1)
	go func() {
		_, err := c.br.Peek(1)
		ready <- err
	}()
	changes := c.sess.Changes().Ready()
	for {
		select {
		case err := <-ready:
			return err
		case <-changes:
			c.sendNotifications()
			if err := c.flushErr(); err != nil {
				return err
			}
			if c.state == stateLogout {
				return errLoggedOut // the selected mailbox was deleted: BYE sent
			}
		}
	}
}

// fetchNew sends the FETCH of NOTIFY's MessageNew fetch attributes (RFC
// 5465 §5.2) for the messages of the view from sequence number from+1,
// just announced by EXISTS. A failure cannot fail a command (there may be
// none): it is logged, and the client can still FETCH.
func (c *conn) fetchNew(from int) {
	g, _ := c.notify.selectedGroup(c.sel)
	if g == nil || len(g.fetch) == 0 || g.events&evMessageNew == 0 {
		return
	}
	var targets []target
	for i := from; i < len(c.sel.msgs); i++ {
		if !c.sel.msgs[i].gone {
			targets = append(targets, target{uint32(i + 1), c.sel.msgs[i]})
		}
	}
	plan := planFetch(g.fetch, false, c.s.view.needsData())
	code := c.resp // writeBatches may set EXPUNGEISSUED, which is no concern of the command
	if err := c.writeBatches(c.ctx, targets, plan, nil); err != nil && !isIOError(err) {
		c.log.Error("imap notify: fetch new messages", "err", err)
	}
	c.resp = code
}
