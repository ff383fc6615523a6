package pop3server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/postern/postern/internal/store"
)

// msgArg parses and looks up a message-number argument (RFC 1939 §5):
// it must exist and not be marked deleted.
func (c *conn) msgArg(arg string) (int, *message, error) {
	n, err := parseMsgNumber(arg)
	if err != nil {
		return 0, nil, err
	}
	if n > len(c.drop.msgs) {
		return 0, nil, errUser("", "no such message, only %d messages in maildrop", len(c.drop.msgs))
	}
	m := c.drop.msgs[n-1]
	if m.deleted {
		return 0, nil, errUser("", "message %d already deleted", n)
	}
	return n, m, nil
}

// totals counts the messages not marked deleted and their octets.
func (c *conn) totals() (n int, octets int64) {
	for _, m := range c.drop.msgs {
		if !m.deleted {
			n++
			octets += m.size
		}
	}
	return n, octets
}

// cmdSTAT reports the drop listing (RFC 1939 §5).
func (c *conn) cmdSTAT(ctx context.Context, args string) error {
	if _, err := splitArgs(args, 0, 0); err != nil {
		return err
	}
	n, octets := c.totals()
	c.ok(strconv.Itoa(n) + " " + strconv.FormatInt(octets, 10))
	return nil
}

// cmdLIST gives the scan listing of one or every message (RFC 1939 §5).
func (c *conn) cmdLIST(ctx context.Context, args string) error {
	f, err := splitArgs(args, 0, 1)
	if err != nil {
		return err
	}
	if len(f) == 1 {
		n, m, err := c.msgArg(f[0])
		if err != nil {
			return err
		}
		c.ok(strconv.Itoa(n) + " " + strconv.FormatInt(m.size, 10))
		return nil
	}
	n, octets := c.totals()
	lines := make([]string, 0, n)
	for i, m := range c.drop.msgs {
		if !m.deleted {
			lines = append(lines, strconv.Itoa(i+1)+" "+strconv.FormatInt(m.size, 10))
		}
	}
	c.multi(fmt.Sprintf("%d messages (%d octets)", n, octets), lines)
	return nil
}

// cmdUIDL gives the unique-id listing (RFC 1939 §7).
func (c *conn) cmdUIDL(ctx context.Context, args string) error {
	f, err := splitArgs(args, 0, 1)
	if err != nil {
		return err
	}
	if len(f) == 1 {
		n, m, err := c.msgArg(f[0])
		if err != nil {
			return err
		}
		c.ok(strconv.Itoa(n) + " " + m.uidl)
		return nil
	}
	var lines []string
	for i, m := range c.drop.msgs {
		if !m.deleted {
			lines = append(lines, strconv.Itoa(i+1)+" "+m.uidl)
		}
	}
	c.multi("unique-id listing follows", lines)
	return nil
}

// cmdDELE marks a message deleted; it is removed only in UPDATE
// (RFC 1939 §5).
//
// QUIRK: POP never deletes a foreign message (hp-system §1.6). DELE of
// one is accepted, so that a client that deletes what it downloaded goes
// on, and hides it for the rest of the session as RFC 1939 §5 requires,
// but UPDATE moves it to Mail instead of removing it; the reply says so.
func (c *conn) cmdDELE(ctx context.Context, args string) error {
	f, err := splitArgs(args, 1, 1)
	if err != nil {
		return err
	}
	n, m, err := c.msgArg(f[0])
	if err != nil {
		return err
	}
	m.deleted = true
	if m.notice != nil {
		c.ok(fmt.Sprintf("message %d is foreign: not deleted, moved to Mail at QUIT", n))
		return nil
	}
	c.ok(fmt.Sprintf("message %d deleted", n))
	return nil
}

// cmdNOOP does nothing (RFC 1939 §5).
func (c *conn) cmdNOOP(ctx context.Context, args string) error {
	if _, err := splitArgs(args, 0, 0); err != nil {
		return err
	}
	c.ok("")
	return nil
}

// cmdRSET unmarks every deleted message (RFC 1939 §5). Messages stay
// read: reading happened.
func (c *conn) cmdRSET(ctx context.Context, args string) error {
	if _, err := splitArgs(args, 0, 0); err != nil {
		return err
	}
	for _, m := range c.drop.msgs {
		m.deleted = false
	}
	n, octets := c.totals()
	c.ok(fmt.Sprintf("maildrop has %d messages (%d octets)", n, octets))
	return nil
}

// cmdRETR sends a whole message (RFC 1939 §5) and marks it read.
func (c *conn) cmdRETR(ctx context.Context, args string) error {
	f, err := splitArgs(args, 1, 1)
	if err != nil {
		return err
	}
	n, m, err := c.msgArg(f[0])
	if err != nil {
		return err
	}

	body, done, err := c.messageBody(ctx, n, m)
	if err != nil {
		return err
	}
	defer done()

	c.ok(fmt.Sprintf("%d octets", m.size))
	if err := c.sendMessage(m.prefix, body); err != nil {
		return err
	}
	m.read = true
	c.s.stats.Retrieved(m.size)
	metricRetrieved.Add(float64(m.size))
	return nil
}

// cmdTOP sends a message's headers and the first lines of its body
// (RFC 1939 §7). TOP does not mark the message read.
func (c *conn) cmdTOP(ctx context.Context, args string) error {
	f, err := splitArgs(args, 2, 2)
	if err != nil {
		return err
	}
	n, m, err := c.msgArg(f[0])
	if err != nil {
		return err
	}
	lines, err := parseDecimal(f[1])
	if err != nil {
		return errSyntax("invalid line count %q", f[1])
	}
	if m.notice != nil {
		if c.syncChanges(); m.gone {
			return errGone(n)
		}
		c.ok("top of message follows")
		end := topEnd(bytes.NewReader(m.notice), 0, lines)
		return c.sendMessage(m.prefix, bytes.NewReader(m.notice[:end]))
	}

	bodyStart := m.body
	if bodyStart < 0 {
		if bodyStart, err = c.bodyStart(ctx, n, m); err != nil {
			return err
		}
	}
	content, err := c.openMessage(ctx, n, m)
	if err != nil {
		return err
	}
	defer content.Close()
	bodyStart = min(bodyStart, content.Size())
	end := topEnd(io.NewSectionReader(content, bodyStart, content.Size()-bodyStart), bodyStart, lines)

	c.ok("top of message follows")
	skip := min(m.skip, end)
	return c.sendMessage(m.prefix, io.NewSectionReader(content, skip, end-skip))
}

// messageBody returns what RETR sends after a message's prefix: the
// notice of a foreign message, or its stored content from skip on; done
// releases it.
func (c *conn) messageBody(ctx context.Context, n int, m *message) (io.Reader, func(), error) {
	if m.notice != nil {
		if c.syncChanges(); m.gone {
			return nil, nil, errGone(n)
		}
		return bytes.NewReader(m.notice), func() {}, nil
	}
	content, err := c.openMessage(ctx, n, m)
	if err != nil {
		return nil, nil, err
	}
	return io.NewSectionReader(content, m.skip, content.Size()-m.skip), func() { content.Close() }, nil
}

// openMessage opens a message's content; a message removed by another
// session since login gets a clear -ERR.
func (c *conn) openMessage(ctx context.Context, n int, m *message) (store.Content, error) {
	c.syncChanges()
	if m.gone {
		return nil, errGone(n)
	}
	var content store.Content
	var err error
	if !m.refAsked {
		if err := resolveContent(ctx, c.session, c.drop, n-1); err != nil {
			return nil, err
		}
	}
	if m.ref != nil {
		content, err = m.ref.Open()
	} else {
		content, err = c.session.OpenContent(ctx, c.drop.mailbox.ID, m.info.UID)
	}
	if errors.Is(err, store.ErrNoSuchMessage) {
		m.gone = true
		return nil, errGone(n)
	}
	if err != nil {
		return nil, fmt.Errorf("open message %d: %w", n, err)
	}
	return content, nil
}

func errGone(n int) error {
	return errUser("", "message %d was removed by another session", n)
}

// bodyStart returns the offset of a message's body in its stored content,
// from the structure the store parsed at delivery.
func (c *conn) bodyStart(ctx context.Context, n int, m *message) (int64, error) {
	start := int64(-1)
	err := c.session.MessageData(ctx, c.drop.mailbox.ID, []store.UID{m.info.UID}, func(d store.MessageData) error {
		if d.Part != nil {
			start = d.Part.BodyStart
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("message %d structure: %w", n, err)
	}
	if start < 0 {
		m.gone = true
		return 0, errGone(n)
	}
	return start, nil
}

// topEnd returns the offset just past the first n lines of the body read
// from r, which starts at offset base.
func topEnd(r io.Reader, base int64, n int) int64 {
	if n == 0 {
		return base
	}
	buf := make([]byte, 32<<10)
	pos := base
	for {
		k, err := r.Read(buf)
		for i := 0; i < k; i++ {
			if buf[i] == '\n' {
				n--
				if n == 0 {
					return pos + int64(i) + 1
				}
			}
		}
		pos += int64(k)
		if err != nil {
			return pos
		}
	}
}
