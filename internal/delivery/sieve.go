package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/postern/postern/internal/sieve"
	"github.com/postern/postern/internal/store"
)

// ErrRejected means the recipient's Sieve script refused the message
// (reject or ereject, RFC 5429): a permanent failure whose reason goes
// back to the sender at the protocol level (§2.1.1) or in a bounce.
var ErrRejected = errors.New("rejected by the recipient's sieve script")

// RejectError carries the script's reason; it matches ErrRejected.
type RejectError struct{ Reason string }

func (e *RejectError) Error() string { return ErrRejected.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

// RejectReason returns the reason of a rejection as one line of
// printable ASCII of at most 200 characters, fit for an SMTP reply;
// "" when err is not a rejection.
func RejectReason(err error) string {
	var re *RejectError
	if !errors.As(err, &re) {
		return ""
	}
	b := []byte(strings.Join(strings.Fields(re.Reason), " "))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// Envelope is the SMTP envelope of a final delivery; a Request carrying
// one runs the recipient's active Sieve script.
type Envelope struct {
	// From is the reverse path ("" for the null sender).
	From string
	// To is the recipient address as given (RCPT TO, or the account's
	// name for `postern deliver`).
	To string
}

// SendFunc hands a message to the outbound queue: redirects and
// vacation responses go through it.
type SendFunc func(ctx context.Context, from string, to []string, content io.Reader) error

// sieveScript returns the account's compiled active script, nil when it
// has none or the store keeps no scripts. A script that no longer
// compiles is reported as an error: the caller keeps the message.
func (d *Deliverer) sieveScript(ctx context.Context, acct store.Account) (*sieve.Program, string, error) {
	sk, ok := d.opts.Store.(store.SieveKeeper)
	if !ok {
		return nil, "", nil
	}
	name, text, err := sk.ActiveSieveScript(ctx, acct.ID)
	if errors.Is(err, store.ErrNoSuchScript) {
		return nil, "", nil
	} else if err != nil {
		return nil, name, fmt.Errorf("load sieve script: %w", err)
	}
	prog, err := sieve.ParseAndCompile(text)
	if err != nil {
		return nil, name, fmt.Errorf("compile sieve script %q: %w", name, err)
	}
	return prog, name, nil
}

// spooled is a message held in an unlinked temporary file, so that a
// script's several actions can each read it from the start.
type spooled struct {
	f    *os.File
	size int64
}

func (d *Deliverer) spool(r io.Reader) (*spooled, error) {
	f, err := os.CreateTemp("", "postern-deliver-*")
	if err != nil {
		return nil, fmt.Errorf("spool message: %w", err)
	}
	os.Remove(f.Name()) // unlinked: gone when closed, whatever happens
	src := r
	if d.opts.MaxSize > 0 {
		src = io.LimitReader(r, d.opts.MaxSize+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool message: %w", err)
	}
	if d.opts.MaxSize > 0 && n > d.opts.MaxSize {
		f.Close()
		return nil, fmt.Errorf("%w: larger than %d octets", ErrTooBig, d.opts.MaxSize)
	}
	return &spooled{f: f, size: n}, nil
}

func (s *spooled) reader() io.Reader { return io.NewSectionReader(s.f, 0, s.size) }

// filter runs the account's script on the message and carries out its
// actions. ran is false when there is no script to run; the caller then
// delivers as usual. A script that fails (load, compile, budget, or
// conflicting actions) keeps the message in the default mailbox and the
// failure is logged (RFC 5228 §2.10.6): mail is never lost to a script.
func (d *Deliverer) filter(ctx context.Context, sess store.Session, acct store.Account, req Request) (Result, bool, error) {
	res := Result{Account: acct.Name}
	prog, name, err := d.sieveScript(ctx, acct)
	if prog == nil && err == nil {
		return res, false, nil
	}
	sp, spErr := d.spool(req.Content)
	if spErr != nil {
		return res, true, spErr
	}
	defer sp.f.Close()
	log := d.opts.Logger.With("user", acct.Name, "script", name)
	var out *sieve.Result
	if err == nil {
		out, err = d.runScript(ctx, prog, sp, req, acct)
	}
	if err != nil {
		log.Warn("sieve script failed; keeping the message", "err", err)
		out = &sieve.Result{Actions: []sieve.Action{{Kind: sieve.ActKeep}}, ImplicitKeep: true}
	}
	res, err = d.execute(ctx, sess, acct, req, sp, out)
	log.Info("sieve done", "actions", describe(out), "err", err)
	return res, true, err
}

// redirectField marks a message a Sieve script redirected, with the
// address it was redirected from, for loop control (RFC 5228 §4.2).
const redirectField = "X-Postern-Sieve-Redirected-From"

// includer loads the scripts an include names (RFC 6609): the user's own
// from the store; there are no site-wide (:global) scripts, so those are
// missing (an error unless :optional).
func (d *Deliverer) includer(ctx context.Context, acct store.Account) sieve.IncludeFunc {
	return func(name string, global bool) (*sieve.Program, error) {
		sk, ok := d.opts.Store.(store.SieveKeeper)
		if global || !ok {
			return nil, sieve.ErrNoScript
		}
		text, _, err := sk.SieveScript(ctx, acct.ID, name)
		if errors.Is(err, store.ErrNoSuchScript) {
			return nil, sieve.ErrNoScript
		} else if err != nil {
			return nil, err
		}
		return sieve.ParseAndCompile(text)
	}
}

func (d *Deliverer) runScript(ctx context.Context, prog *sieve.Program, sp *spooled, req Request, acct store.Account) (*sieve.Result, error) {
	h, err := sieve.ReadHeader(sp.reader())
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	for _, f := range h {
		if strings.EqualFold(f.Name, redirectField) && strings.EqualFold(strings.TrimSpace(f.Value), req.Envelope.To) {
			return nil, fmt.Errorf("redirect loop: the message was redirected from %s before", req.Envelope.To)
		}
	}
	in := sieve.Input{Header: h, Size: sp.size, Envelope: sieve.Envelope{From: req.Envelope.From, To: req.Envelope.To},
		Message: sp.reader, Now: d.opts.Clock(), Include: d.includer(ctx, acct)}
	return prog.Run(ctx, in, d.opts.SieveBudget)
}

// execute carries out a script's actions: stores first (the message is
// safe once one store succeeds), then redirects, then the vacation
// response. An error is returned only when the script asked to store or
// redirect and every one of those failed, or when it rejected.
func (d *Deliverer) execute(ctx context.Context, sess store.Session, acct store.Account, req Request, sp *spooled, out *sieve.Result) (Result, error) {
	res := Result{Account: acct.Name, Size: sp.size}
	var firstErr error
	tried, done := 0, 0
	storeTried := false
	stored := map[store.MailboxID]bool{}
	for _, a := range out.Actions {
		var err error
		switch a.Kind {
		case sieve.ActReject:
			return res, &RejectError{Reason: a.Reason}
		case sieve.ActKeep, sieve.ActFileInto:
			mailbox := req.Mailbox
			if a.Kind == sieve.ActFileInto {
				mailbox = a.Mailbox
			}
			storeTried = true
			var r Result
			r, err = d.store(ctx, sess, acct, mailbox, sp, sieveFlags(req.Flags, a.Flags), req.VMS, stored)
			if err == nil && res.UID == 0 {
				res.Mailbox, res.UID, res.FellBack = r.Mailbox, r.UID, r.FellBack
			}
		case sieve.ActRedirect:
			err = d.redirect(ctx, req, a.Address, sp)
		default:
			continue
		}
		tried++
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			d.opts.Logger.Warn("sieve action failed", "user", acct.Name, "action", a.Kind, "err", err)
			continue
		}
		done++
	}
	if tried > 0 && done == 0 && !storeTried {
		// Every redirect failed: keep the message rather than lose it.
		r, err := d.store(ctx, sess, acct, req.Mailbox, sp, req.Flags, req.VMS, stored)
		if err != nil {
			return res, err
		}
		res.Mailbox, res.UID, res.FellBack = r.Mailbox, r.UID, r.FellBack
		done++
	}
	if tried > 0 && done == 0 {
		return res, firstErr
	}
	res.Discarded = res.UID == 0
	for _, a := range out.Actions {
		if a.Kind == sieve.ActVacation {
			d.vacation(ctx, acct, a.Vacation)
		}
	}
	return res, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// sieveFlags merges the request's flags with a script's (RFC 5232);
// flags the store would refuse (not an IMAP atom) are dropped.
func sieveFlags(base store.Flags, add []string) store.Flags {
	out := append(store.Flags(nil), base...)
	for _, f := range add {
		if c, err := store.CanonicalFlags(store.Flags{f}); err == nil && !out.Has(c[0]) {
			out = append(out, c[0])
		}
	}
	return out
}

// store appends the spooled message to mailbox (INBOX when it does not
// exist: fileinto a missing folder keeps the message, docs/sieve.md),
// once per mailbox.
func (d *Deliverer) store(ctx context.Context, sess store.Session, acct store.Account, mailbox string, sp *spooled,
	flags store.Flags, vms *store.VMSEnvelope, stored map[store.MailboxID]bool) (Result, error) {
	mb, fellBack, err := targetMailbox(ctx, sess, mailbox)
	if err != nil {
		return Result{}, err
	}
	if stored[mb.ID] {
		return Result{Mailbox: mb.Name}, nil
	}
	r, err := d.appendTo(ctx, sess, acct, mb, Request{Content: sp.reader(), Flags: flags, VMS: vms})
	if err != nil {
		return r, err
	}
	stored[mb.ID] = true
	r.FellBack = fellBack
	if fellBack {
		d.opts.Logger.Info("sieve fileinto: no such mailbox; delivered to INBOX", "user", acct.Name, "mailbox", mailbox)
	}
	return r, nil
}

// redirect resends the message unchanged to addr, keeping the original
// envelope sender (RFC 5228 §4.2).
func (d *Deliverer) redirect(ctx context.Context, req Request, addr string, sp *spooled) error {
	if d.opts.Send == nil {
		return errors.New("redirect: no outbound queue")
	}
	mark := redirectField + ": " + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, req.Envelope.To) + "\r\n"
	return d.opts.Send(ctx, req.Envelope.From, []string{addr}, io.MultiReader(strings.NewReader(mark), sp.reader()))
}

// vacation sends a vacation response unless one went to the same sender
// with the same handle within its days (RFC 5230 §4.2). The response
// has the null reverse path (RFC 5230 §5.1 via RFC 3834 §3.3). A failure
// is logged: the message itself is delivered.
func (d *Deliverer) vacation(ctx context.Context, acct store.Account, rp *sieve.Reply) {
	log := d.opts.Logger.With("user", acct.Name, "to", rp.To)
	sk, ok := d.opts.Store.(store.SieveKeeper)
	if !ok || d.opts.Send == nil {
		log.Warn("vacation response not sent: no vacation log or outbound queue")
		return
	}
	now := d.opts.Clock()
	key := strings.ToLower(rp.To) + " " + rp.Handle
	due, err := sk.VacationDue(ctx, acct.ID, key, now, time.Duration(rp.Days)*24*time.Hour)
	if err != nil {
		log.Warn("vacation log failed; no response sent", "err", err)
		return
	}
	if !due {
		log.Info("vacation response already sent in this period")
		return
	}
	msg := rp.Message(now, "<"+randomID()+".vacation@"+d.hostname()+">")
	if err := d.opts.Send(ctx, "", []string{rp.To}, strings.NewReader(string(msg))); err != nil {
		log.Warn("vacation response not queued", "err", err)
		return
	}
	log.Info("vacation response queued")
}

func (d *Deliverer) hostname() string {
	if d.opts.Hostname != "" {
		return d.opts.Hostname
	}
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// describe renders a script's actions for the log.
func describe(out *sieve.Result) string {
	if out == nil {
		return ""
	}
	var parts []string
	for _, a := range out.Actions {
		s := string(a.Kind)
		switch a.Kind {
		case sieve.ActFileInto:
			s += " " + a.Mailbox
		case sieve.ActRedirect:
			s += " " + a.Address
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "discard"
	}
	return strings.Join(parts, ", ")
}
