// Package delivery is the single path by which a message accepted from
// outside — by LMTP, inbound SMTP, submission to a local user, or
// `postern deliver` — reaches a mailbox. Protocol servers and commands never
// append to the store for delivery themselves; they call [Deliverer.Deliver],
// so that the rules (recipient checks, target mailbox, size limit, durable
// acknowledgement) are the same everywhere.
//
// Contract: Deliver returns nil only once the message is durably stored and
// indexed (the store's Append guarantee). Any error means nothing was
// delivered to that recipient. Errors are classified for the caller by
// [Permanent]: a permanent failure must be reported as such (SMTP 5xx,
// EX_NOUSER/EX_DATAERR), anything else as temporary (4xx, EX_TEMPFAIL).
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/sieve"
	"github.com/postern/postern/internal/store"
)

// Errors that describe why a delivery was refused.
var (
	// ErrNoSuchUser means the recipient has no account.
	ErrNoSuchUser = errors.New("no such user")
	// ErrNoMail means the account may not receive mail (the original's
	// DISMAIL flag).
	ErrNoMail = errors.New("account does not receive mail")
	// ErrMalformed means the content is not a message.
	ErrMalformed = errors.New("malformed message")
	// ErrTooBig means the message exceeds the size limit.
	ErrTooBig = errors.New("message too big")
	// ErrOverQuota means the message does not fit in the recipient's
	// quota (RFC 9208; the store's ErrOverQuota): the mailbox is full
	// (RFC 3463 X.2.2). It counts as permanent, as Dovecot and Postfix
	// treat a full mailbox: the sender learns at once.
	ErrOverQuota = errors.New("mailbox full: quota exceeded")
)

// Permanent reports whether err is a permanent failure: retrying the same
// delivery cannot succeed.
func Permanent(err error) bool {
	return errors.Is(err, ErrNoSuchUser) || errors.Is(err, ErrNoMail) ||
		errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooBig) || errors.Is(err, ErrOverQuota) ||
		errors.Is(err, ErrRejected)
}

// Status returns the enhanced status code (RFC 3463) of a delivery
// failure of a known class, or "" for any other error.
func Status(err error) string {
	switch {
	case errors.Is(err, ErrNoSuchUser):
		return "5.1.1"
	case errors.Is(err, ErrNoMail):
		return "5.2.1"
	case errors.Is(err, ErrOverQuota):
		return "5.2.2"
	case errors.Is(err, ErrTooBig):
		return "5.3.4"
	case errors.Is(err, ErrMalformed):
		return "5.6.0"
	case errors.Is(err, ErrRejected):
		return "5.7.1" // RFC 5429 §2.1.1
	}
	return ""
}

// Options configure a Deliverer.
type Options struct {
	// Store receives the messages.
	Store store.Store
	// MaxSize limits a message's size in octets; 0 means no limit.
	MaxSize int64
	// Logger receives one line per delivery; nil discards.
	Logger *slog.Logger
	// Clock gives the arrival time; nil means time.Now.
	Clock func() time.Time
	// Send hands redirects and vacation responses of Sieve scripts to
	// the outbound queue; nil makes a redirect fail (the message is
	// then kept) and sends no vacation response.
	Send SendFunc
	// SieveBudget bounds each script run (zero: the sieve defaults).
	SieveBudget sieve.Budget
	// Hostname names this host in the Message-ID of vacation responses;
	// "" means os.Hostname.
	Hostname string
}

// Deliverer delivers messages to local accounts.
type Deliverer struct {
	opts Options
}

// New returns a Deliverer.
func New(opts Options) *Deliverer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Deliverer{opts: opts}
}

// Request is one message for one recipient.
type Request struct {
	// Account is the recipient's account name.
	Account string
	// Mailbox is the target mailbox; "" means INBOX. A mailbox that does
	// not exist falls back to INBOX (as Dovecot's LDA does), so that a
	// mistyped rule never bounces mail; Result.FellBack reports it.
	Mailbox string
	// Content is read to EOF.
	Content io.Reader
	// Flags are initial flags, usually none.
	Flags store.Flags
	// VMS is an OpenVMS envelope to keep with the message, if any.
	VMS *store.VMSEnvelope
	// Envelope, when set, marks a final delivery from outside (LMTP,
	// inbound SMTP, the queue, `postern deliver`): the recipient's
	// active Sieve script runs, and its keep goes to Mailbox
	// (docs/sieve.md). Without it (Save-Sent, notices) no script runs.
	Envelope *Envelope
}

// Result says where a delivered message went.
type Result struct {
	Account  string
	Mailbox  string
	UID      store.UID
	Size     int64
	FellBack bool
	// Discarded reports that a Sieve script stored the message nowhere
	// (discard, or only redirects).
	Discarded bool
}

// Deliver stores one message for one recipient, durably.
func (d *Deliverer) Deliver(ctx context.Context, req Request) (Result, error) {
	res, err := d.deliver(ctx, req)
	log := d.opts.Logger.With("user", req.Account, "mailbox", res.Mailbox)
	if err != nil {
		log.Info("delivery refused", "err", err, "permanent", Permanent(err))
		return res, err
	}
	log.Info("delivery done", "uid", res.UID, "size", res.Size)
	return res, nil
}

func (d *Deliverer) deliver(ctx context.Context, req Request) (Result, error) {
	res := Result{Account: req.Account, Mailbox: req.Mailbox}
	acct, err := d.opts.Store.Account(ctx, req.Account)
	if errors.Is(err, store.ErrNoSuchAccount) {
		return res, fmt.Errorf("%w: %s", ErrNoSuchUser, req.Account)
	} else if err != nil {
		return res, fmt.Errorf("look up account: %w", err)
	}
	if acct.NoMail {
		return res, fmt.Errorf("%w: %s", ErrNoMail, acct.Name)
	}
	res.Account = acct.Name
	sess, err := d.opts.Store.Open(ctx, acct.ID)
	if err != nil {
		return res, fmt.Errorf("open account: %w", err)
	}
	defer sess.Close()

	if req.Envelope != nil {
		if r, ran, err := d.filter(ctx, sess, acct, req); ran {
			return r, err
		}
	}
	mb, fellBack, err := targetMailbox(ctx, sess, req.Mailbox)
	if err != nil {
		return res, err
	}
	res, err = d.appendTo(ctx, sess, acct, mb, req)
	res.FellBack = fellBack
	return res, err
}

// appendTo stores the message of req in mailbox mb, mapping the store's
// refusals to this package's errors.
func (d *Deliverer) appendTo(ctx context.Context, sess store.Session, acct store.Account, mb store.Mailbox, req Request) (Result, error) {
	res := Result{Account: acct.Name, Mailbox: mb.Name}
	out, err := sess.Append(ctx, mb.ID, store.AppendRequest{
		Content:      req.Content,
		Flags:        req.Flags,
		InternalDate: d.opts.Clock(),
		VMS:          req.VMS,
		MaxSize:      d.opts.MaxSize,
	})
	switch {
	case errors.Is(err, store.ErrTooBig):
		return res, fmt.Errorf("%w: larger than %d octets", ErrTooBig, d.opts.MaxSize)
	case errors.Is(err, store.ErrOverQuota):
		return res, fmt.Errorf("%w: %s", ErrOverQuota, acct.Name)
	case errors.Is(err, message.ErrMalformed):
		return res, fmt.Errorf("%w: %v", ErrMalformed, err)
	case err != nil:
		return res, fmt.Errorf("store message: %w", err)
	}
	res.UID, res.Size = out[0].UID, out[0].Size
	return res, nil
}

// CheckQuota reports, before a message is accepted, whether a message of
// size octets (0: unknown) would fit in the account's quota: it returns an
// error wrapping ErrOverQuota when the account is full, or when size
// exceeds what is left. SMTP refuses such a recipient at RCPT (RFC 1870
// SIZE). Without a store that keeps quotas, or for an account that does
// not exist (resolution says so), it returns nil; the delivery itself
// checks again, in the store's transaction.
func (d *Deliverer) CheckQuota(ctx context.Context, account string, size int64) error {
	qk, ok := d.opts.Store.(store.QuotaKeeper)
	if !ok {
		return nil
	}
	acct, err := d.opts.Store.Account(ctx, account)
	if err != nil {
		return nil
	}
	q, err := qk.Quota(ctx, acct.ID)
	if err != nil {
		return fmt.Errorf("quota of %s: %w", acct.Name, err)
	}
	if !q.Fits(max(size, 0), 1) {
		return fmt.Errorf("%w: %s", ErrOverQuota, acct.Name)
	}
	return nil
}

func targetMailbox(ctx context.Context, sess store.Session, name string) (store.Mailbox, bool, error) {
	if name != "" {
		mb, err := sess.Mailbox(ctx, name)
		if err == nil {
			return mb, false, nil
		}
		if !errors.Is(err, store.ErrNoSuchMailbox) && !errors.Is(err, store.ErrInvalidName) {
			return store.Mailbox{}, false, fmt.Errorf("look up mailbox %q: %w", name, err)
		}
	}
	mb, err := sess.Mailbox(ctx, store.MailboxInbox)
	if err != nil {
		return store.Mailbox{}, false, fmt.Errorf("look up INBOX: %w", err)
	}
	return mb, name != "", nil
}
