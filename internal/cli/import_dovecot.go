package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/postern/postern/internal/mailimport"
	"github.com/postern/postern/internal/store"
)

// targetMode says how a source mailbox goes into its Postern mailbox
// (docs/migration.md, "Into which mailbox").
type targetMode int

const (
	// modeIdentity: the mailbox was empty; it takes the source's
	// UIDVALIDITY and the messages keep their UIDs.
	modeIdentity targetMode = iota
	// modeResume: the mailbox has the source's UIDVALIDITY already (an
	// earlier run of the same import): what is missing is added, with
	// its UID.
	modeResume
	// modeNewUIDs: --new-uids into a mailbox that holds other mail: new
	// UIDs, clients download the mailbox again.
	modeNewUIDs
	// modeNoUIDs: the source has no UIDs to keep (a folder Dovecot never
	// opened): plain new UIDs, nothing for a client to download again.
	modeNoUIDs
)

// errTargetNotEmpty refuses a migration into a mailbox that holds mail.
var errTargetNotEmpty = errors.New("target mailbox not empty")

// decideTarget applies the rules: an empty mailbox takes the source's
// UIDVALIDITY and UIDNEXT; one that has it already resumes; a mailbox
// holding other mail is refused unless newUIDs.
func decideTarget(st store.MailboxStatus, srcValidity uint32, newUIDs bool) (targetMode, error) {
	switch {
	case srcValidity == 0:
		return modeNoUIDs, nil
	case st.UIDValidity == srcValidity:
		return modeResume, nil
	case st.Messages == 0:
		return modeIdentity, nil
	case newUIDs:
		return modeNewUIDs, nil
	}
	return 0, fmt.Errorf("%w: %s holds %d message(s) (UIDVALIDITY %d, the source's is %d): importing would give new UIDs and every client would download the mailbox again; empty it first, or give --new-uids to accept that",
		errTargetNotEmpty, st.Name, st.Messages, st.UIDValidity, srcValidity)
}

// dovecotOptions are the options of a Dovecot import.
type dovecotOptions struct {
	newUIDs    bool
	uidlFormat string
	dryRun     bool // plan, report, change nothing
}

// String says what a mode does, for --dry-run.
func (m targetMode) String() string {
	switch m {
	case modeIdentity:
		return "keep the source's UIDs in an empty mailbox"
	case modeResume:
		return "resume an earlier import (same UIDVALIDITY)"
	case modeNewUIDs:
		return "import with new UIDs (--new-uids; clients download again)"
	}
	return "import with new UIDs (the source has none to keep)"
}

// targetMailbox finds the mailbox a source folder goes into, creating it
// (and its parents) unless dryRun, and its status: zero for a mailbox a
// dry run would create.
func targetMailbox(ctx context.Context, sess store.Session, name string, dryRun bool) (store.Mailbox, store.MailboxStatus, error) {
	mb, err := sess.Mailbox(ctx, name)
	if errors.Is(err, store.ErrNoSuchMailbox) {
		if dryRun {
			return store.Mailbox{Name: name}, store.MailboxStatus{Mailbox: store.Mailbox{Name: name}}, nil
		}
		mb, err = sess.CreateMailbox(ctx, name, "")
	}
	if err != nil {
		return mb, store.MailboxStatus{}, err
	}
	st, err := sess.Status(ctx, mb.ID)
	return mb, st, err
}

// dovecotRun is one `postern import --format dovecot`.
type dovecotRun struct {
	env   *Env
	sess  store.Session
	ii    store.IdentityImporter
	opts  dovecotOptions
	total importCounts
}

func runImportDovecot(ctx context.Context, env *Env, st store.Store, name, path string, o dovecotOptions) error {
	md, err := mailimport.OpenDovecot(path)
	if err != nil {
		return err
	}
	acct, err := st.Account(ctx, name)
	if err != nil {
		return err
	}
	sess, err := st.Open(ctx, acct.ID)
	if err != nil {
		return err
	}
	defer sess.Close()
	ii, ok := sess.(store.IdentityImporter)
	if !ok {
		return errors.New("this store cannot keep UIDs (store.IdentityImporter): --format dovecot needs it")
	}
	r := &dovecotRun{env: env, sess: sess, ii: ii, opts: o}
	boxes, err := r.plan(ctx, md)
	if err != nil {
		return err
	}
	if o.dryRun {
		for _, b := range boxes {
			fmt.Fprintf(env.Stdout, "%s: would %s, %d message(s) (UIDVALIDITY %d, UIDNEXT %d)\n", b.src.Name,
				b.mode, len(b.src.Messages)+len(b.src.Unlisted), b.src.UIDValidity, b.src.UIDNext)
		}
		fmt.Fprintf(env.Stdout, "would import %d folder(s) into %s; nothing changed (--dry-run)\n", len(boxes), name)
		return nil
	}
	var firstErr error
	for _, b := range boxes {
		if err := r.importFolder(ctx, b); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("import interrupted (run it again to resume): %w", err)
			}
			fmt.Fprintf(env.Stderr, "postern: %s: %v\n", b.src.Name, err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	for _, s := range md.Subscriptions {
		if err := sess.SetSubscribed(ctx, s, true); err != nil {
			fmt.Fprintf(env.Stderr, "postern: subscription %q not kept: %v\n", s, err)
		}
	}
	n := r.total
	fmt.Fprintf(env.Stdout, "imported %d message(s) (%s) in %d folder(s) into %s; %d already there, %d failed; %d subscription(s)\n",
		n.imported, formatOctets(n.octets), len(boxes), name, n.skipped, n.failed, len(md.Subscriptions))
	if firstErr == nil && n.failed > 0 {
		firstErr = fmt.Errorf("%d message(s) could not be imported (listed above)", n.failed)
	}
	return firstErr
}

// plannedBox is one source folder with its target and how it goes in.
type plannedBox struct {
	src    *mailimport.DovecotMailbox
	target store.Mailbox
	mode   targetMode
}

// plan reads every folder's lists and decides each target before any
// message moves, so that a refused folder refuses the whole import.
func (r *dovecotRun) plan(ctx context.Context, md *mailimport.DovecotMaildir) ([]plannedBox, error) {
	var boxes []plannedBox
	var refused []error
	for _, f := range md.Folders {
		src, err := mailimport.ReadFolder(f, r.opts.uidlFormat)
		if err != nil {
			return nil, fmt.Errorf("folder %s: %w", f.Name, err)
		}
		mb, st, err := targetMailbox(ctx, r.sess, f.Name, r.opts.dryRun)
		if err != nil {
			return nil, fmt.Errorf("folder %s: %w", f.Name, err)
		}
		mode, err := decideTarget(st, src.UIDValidity, r.opts.newUIDs)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		boxes = append(boxes, plannedBox{src: src, target: mb, mode: mode})
	}
	if len(refused) > 0 {
		return nil, errors.Join(refused...)
	}
	return boxes, nil
}

// importFolder moves one folder's messages: the listed ones with their
// UIDs (unless --new-uids), then the unlisted ones, then UIDNEXT.
func (r *dovecotRun) importFolder(ctx context.Context, b plannedBox) error {
	src := b.src
	switch b.mode {
	case modeIdentity:
		floor := src.ModSeqCeiling
		if !src.ModSeqKnown {
			fmt.Fprintf(r.env.Stderr, "postern: %s: no dovecot.index.log beside the folder: its HIGHESTMODSEQ is not known, MODSEQs start at %d (docs/migration.md)\n",
				src.Name, dovecotModSeqFloor)
			floor = dovecotModSeqFloor
		}
		mb, err := r.ii.SetMailboxIdentity(ctx, b.target.ID, src.UIDValidity, store.ModSeq(floor))
		if err != nil {
			return err
		}
		b.target = mb
	case modeNewUIDs:
		fmt.Fprintf(r.env.Stderr, "postern: warning: %s already holds mail: its messages get new UIDs (--new-uids), and IMAP clients will download the mailbox again\n", src.Name)
	}
	bar := newLabelledProgress(r.env, "dovecot "+src.Name)
	defer bar.done()
	var n importCounts
	total := int64(len(src.Messages) + len(src.Unlisted))
	if err := r.importMessages(ctx, b, src.Messages, &n, bar, total, 0); err != nil {
		return err
	}
	// UIDNEXT before the unlisted messages: a UID between the last
	// message and the source's UIDNEXT may be one a client saw expunged.
	if b.mode == modeIdentity || b.mode == modeResume {
		if _, err := r.ii.RaiseUIDNext(ctx, b.target.ID, store.UID(src.UIDNext)); err != nil {
			return err
		}
	}
	if err := r.importMessages(ctx, b, src.Unlisted, &n, bar, total, len(src.Messages)); err != nil {
		return err
	}
	bar.done()
	fmt.Fprintf(r.env.Stdout, "%s: %d imported, %d already there, %d failed (UIDVALIDITY %d, UIDNEXT %d)\n",
		src.Name, n.imported, n.skipped, n.failed, src.UIDValidity, src.UIDNext)
	r.total.imported += n.imported
	r.total.skipped += n.skipped
	r.total.failed += n.failed
	r.total.octets += n.octets
	return nil
}

// importMessages imports msgs in order, counting into n; done is how
// many of the folder's total came before.
func (r *dovecotRun) importMessages(ctx context.Context, b plannedBox, msgs []mailimport.DovecotMessage, n *importCounts, bar *progress, total int64, done int) error {
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.importMessage(ctx, b, m, n, bar); err != nil {
			return err
		}
		bar.update(*n, int64(done+i+1), total)
	}
	return nil
}

// dovecotModSeqFloor is where MODSEQs start in a mailbox whose Dovecot
// HIGHESTMODSEQ cannot be read (no dovecot.index.log beside the Maildir:
// the indexes were kept elsewhere, or the folder was never opened).
const dovecotModSeqFloor = 1

// importMessage appends one message; a damaged one is reported with its
// path and skipped.
func (r *dovecotRun) importMessage(ctx context.Context, b plannedBox, m mailimport.DovecotMessage, n *importCounts, bar *progress) error {
	if m.Unknown != "" {
		bar.note(fmt.Sprintf("%s: keyword letters %q have no name in dovecot-keywords: left out", m.Path, m.Unknown))
	}
	f, err := os.Open(m.Path)
	if err != nil {
		n.failed++
		bar.note(fmt.Sprintf("%s: skipped: %v", m.Path, err))
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		n.failed++
		bar.note(fmt.Sprintf("%s: skipped: %v", m.Path, err))
		return nil
	}
	req := store.IdentifiedAppend{
		AppendRequest: store.AppendRequest{
			Content: f,
			Flags:   validFlags(m.Flags, m.Path, bar),
			// Dovecot's Maildir INTERNALDATE is the file's modification time.
			InternalDate: fi.ModTime(),
			ImportKey:    m.Key,
		},
		POP3UIDL: m.POP3UIDL,
	}
	if b.mode == modeIdentity || b.mode == modeResume {
		req.UID = store.UID(m.UID)
	}
	res, err := r.ii.AppendIdentified(ctx, b.target.ID, req)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		n.skipped++
	case err != nil && ctx.Err() == nil && (isPerMessage(err) || errors.Is(err, store.ErrUIDOrder) || errors.Is(err, store.ErrInvalidName)):
		n.failed++
		bar.note(fmt.Sprintf("%s: skipped: %v", m.Path, err))
	case err != nil:
		return fmt.Errorf("%s: %w", m.Path, err)
	default:
		n.imported++
		n.octets += res[0].Size
	}
	return nil
}

// validFlags drops the flags the store would refuse (a keyword that is no
// IMAP atom), noting each (unless bar is nil), so that the message is
// kept without it.
func validFlags(flags []string, path string, bar *progress) store.Flags {
	out := make(store.Flags, 0, len(flags))
	for _, f := range flags {
		if _, err := store.CanonicalFlags(store.Flags{f}); err != nil {
			if bar != nil {
				bar.note(fmt.Sprintf("%s: keyword %q left out: %v", path, f, err))
			}
			continue
		}
		out = append(out, f)
	}
	return out
}
