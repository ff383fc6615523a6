package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postern/postern/internal/mailimport"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

func importFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("format", "", "source `FORMAT`: mbox, maildir, vms or dovecot (default: detected; dovecot keeps UIDs, flags and POP3 UIDLs)")
	fs.String("mailbox", "", "import into `MBOX` (created if missing; default INBOX; not with dovecot)")
	fs.Bool("new-uids", false, "dovecot: import into mailboxes that hold mail already, with new UIDs (clients download again)")
	fs.String("pop3-uidl-format", mailimport.DefaultPOP3UIDLFormat, "dovecot: the source's pop3_uidl_format (`FORMAT`: %u, %v, %f)")
	fs.String("password-file", "", "imap[s]://: read the source's password from the first line of `FILE`")
	fs.Bool("password-stdin", false, "imap[s]://: read the source's password from one line of standard input")
	fs.String("ca-file", "", "imap[s]://: check the source's certificate against the CAs in `FILE` (default: the system's)")
	fs.Bool("all-users", false, "import every user of --users-file from SOURCE (%u in it: the source user)")
	fs.String("users-file", "", "--all-users: `FILE` of lines \"SOURCE-USER POSTERN-USER [PASSWORD-FILE]\"")
	fs.Int("jobs", defaultImportJobs, "--all-users: import at most `N` users at once")
	fs.Bool("dry-run", false, "--all-users: check every user and source and say what would be done, changing nothing")
	return nil
}

// importCounts is the summary of an import.
type importCounts struct {
	imported, skipped, failed int
	octets                    int64
}

// importRequest is what the options of `postern import` ask for, the
// same for one user and for --all-users.
type importRequest struct {
	format     mailimport.Format
	mailbox    string
	newUIDs    bool
	uidlFormat string
	imap       imapImportOptions
	dryRun     bool
}

func importRequestOf(fs *flag.FlagSet) importRequest {
	return importRequest{
		format:     mailimport.Format(fs.Lookup("format").Value.String()),
		mailbox:    fs.Lookup("mailbox").Value.String(),
		newUIDs:    boolFlag(fs, "new-uids"),
		uidlFormat: fs.Lookup("pop3-uidl-format").Value.String(),
		imap: imapImportOptions{
			newUIDs:       boolFlag(fs, "new-uids"),
			passwordFile:  fs.Lookup("password-file").Value.String(),
			passwordStdin: boolFlag(fs, "password-stdin"),
			caFile:        fs.Lookup("ca-file").Value.String(),
		},
		dryRun: boolFlag(fs, "dry-run"),
	}
}

func runImport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	req := importRequestOf(fs)
	if boolFlag(fs, "all-users") {
		if len(args) != 1 {
			return usagef("--all-users takes one SOURCE (with %%u for the source user), not NAME SOURCE")
		}
		return runImportAll(ctx, env, configPath(fs), fs.Lookup("users-file").Value.String(), args[0], req, intFlag(fs, "jobs"))
	}
	if len(args) != 2 {
		return usagef("import takes NAME and PATH (or --all-users SOURCE)")
	}
	if req.dryRun {
		return usagef("--dry-run goes with --all-users")
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		return importOne(ctx, env, st, args[0], args[1], req)
	})
}

// importOne imports one user's mail from path: an IMAP server, a Dovecot
// Maildir, or an mbox, Maildir or VMS extract.
func importOne(ctx context.Context, env *Env, st store.Store, name, path string, req importRequest) error {
	switch {
	case isIMAPSource(path):
		if req.format != "" || req.mailbox != "" {
			return errors.New("--format and --mailbox do not go with an imap[s]:// source: each mailbox goes into the mailbox of its name")
		}
		o := req.imap
		o.dryRun = req.dryRun
		return runImportIMAP(ctx, env, st, name, path, o)
	case req.format == mailimport.FormatDovecot:
		if req.mailbox != "" {
			return errors.New("--mailbox does not go with --format dovecot: each folder goes into the mailbox of its name")
		}
		return runImportDovecot(ctx, env, st, name, path, dovecotOptions{newUIDs: req.newUIDs, uidlFormat: req.uidlFormat, dryRun: req.dryRun})
	}
	format := req.format
	if format == "" {
		f, err := mailimport.Detect(path)
		if err != nil {
			return err
		}
		format = f
	}
	src, err := mailimport.Open(path, format)
	if err != nil {
		return err
	}
	defer src.Close()
	if req.dryRun {
		if _, err := st.Account(ctx, name); err != nil {
			return err
		}
		_, total := src.Progress()
		fmt.Fprintf(env.Stdout, "would import %s (%s, %d %s) into %s\n", path, format, total, map[bool]string{true: "files", false: "octets"}[format == mailimport.FormatMaildir], name)
		return nil
	}
	sess, mb, err := importTarget(ctx, st, name, req.mailbox)
	if err != nil {
		return err
	}
	defer sess.Close()
	bar := newProgress(env, format)
	n, err := importAll(ctx, sess, mb, src, sourceID(path), bar)
	bar.done()
	fmt.Fprintf(env.Stdout, "imported %d message(s) (%s) into %s/%s; %d already there, %d failed\n",
		n.imported, formatOctets(n.octets), name, mb.Name, n.skipped, n.failed)
	return err
}

func importTarget(ctx context.Context, st store.Store, name, mailbox string) (store.Session, store.Mailbox, error) {
	acct, err := st.Account(ctx, name)
	if err != nil {
		return nil, store.Mailbox{}, err
	}
	sess, err := st.Open(ctx, acct.ID)
	if err != nil {
		return nil, store.Mailbox{}, err
	}
	if mailbox == "" {
		mailbox = store.MailboxInbox
	}
	mb, err := sess.Mailbox(ctx, mailbox)
	if errors.Is(err, store.ErrNoSuchMailbox) {
		mb, err = sess.CreateMailbox(ctx, mailbox, "")
	}
	if err != nil {
		sess.Close()
		return nil, store.Mailbox{}, err
	}
	return sess, mb, nil
}

// sourceID identifies an import source by its absolute path, so that the
// import keys of two different files never collide. A resumed import must
// name the same file.
func sourceID(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(sum[:8])
}

func importAll(ctx context.Context, sess store.Session, mb store.Mailbox, src mailimport.Source, id string, bar *progress) (importCounts, error) {
	var n importCounts
	for {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("import interrupted (run it again to resume): %w", err)
		}
		it, err := src.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		res, err := sess.Append(ctx, mb.ID, store.AppendRequest{
			Content:      it.Content,
			Flags:        it.Flags,
			InternalDate: it.InternalDate,
			VMS:          it.VMS,
			Foreign:      it.Foreign,
			Exact:        it.Foreign, // line-ending normalisation would corrupt binary data
			ImportKey:    id + ":" + it.Key,
		})
		switch {
		case errors.Is(err, store.ErrDuplicate):
			n.skipped++
		case err != nil && ctx.Err() == nil && isPerMessage(err):
			n.failed++
			bar.note(fmt.Sprintf("message at line %d skipped: %v", it.Line, err))
		case err != nil:
			return n, fmt.Errorf("message at line %d: %w", it.Line, err)
		default:
			n.imported++
			n.octets += res[0].Size
		}
		done, total := src.Progress()
		bar.update(n, done, total)
	}
}

// isPerMessage reports whether an append error concerns only that message
// (which is then skipped) rather than the store (which stops the import).
func isPerMessage(err error) bool {
	return errors.Is(err, store.ErrTooBig) || errors.Is(err, message.ErrMalformed)
}

// progress shows how an import goes: a one-line bar redrawn in place on a
// terminal; elsewhere (a log, a pipe, cron) a plain line every
// progressInterval with the count and the rate, so a long import is seen
// to advance.
type progress struct {
	w        io.Writer
	on       bool // a terminal: draw the bar
	label    string
	now      func() time.Time
	interval time.Duration // between plain lines
	last     time.Time
	started  time.Time
}

// progressInterval is how often a plain progress line is written.
const progressInterval = 5 * time.Second

func newProgress(env *Env, format mailimport.Format) *progress {
	return newLabelledProgress(env, string(format))
}

func newLabelledProgress(env *Env, label string) *progress {
	f, ok := env.Stderr.(*os.File)
	now := time.Now()
	return &progress{w: env.Stderr, on: ok && env.IsTerminal(f), label: label,
		now: time.Now, interval: progressInterval, started: now, last: now}
}

func (p *progress) update(n importCounts, done, total int64) {
	now := p.now()
	if !p.on {
		if now.Sub(p.last) < p.interval {
			return
		}
		p.last = now
		read := n.imported + n.skipped + n.failed
		rate := float64(read) / now.Sub(p.started).Seconds()
		pct := ""
		if total > 0 {
			pct = fmt.Sprintf(", %.0f%% of the source", 100*float64(done)/float64(total))
		}
		fmt.Fprintf(p.w, "postern: importing %s: %d messages (%d new, %d already there, %d failed)%s, %.0f messages/s\n",
			p.label, read, n.imported, n.skipped, n.failed, pct, rate)
		return
	}
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	frac := 0.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\rimporting %s [%s] %3.0f%% %d messages", p.label, bar(frac), frac*100, n.imported+n.skipped+n.failed)
}

// bar draws a fraction as 30 characters.
func bar(frac float64) string {
	const width = 30
	full := min(int(frac*width), width)
	return strings.Repeat("#", full) + strings.Repeat(" ", width-full)
}

// step shows how far a stage of a backup, restore or verify has come, in
// files: a bar on a terminal, a plain line every progressInterval
// elsewhere.
func (p *progress) step(stage string, done, total int64) {
	now := p.now()
	if !p.on {
		if now.Sub(p.last) < p.interval || done == total {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "postern: %s %s: %d of %d files\n", p.label, stage, done, total)
		return
	}
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\r%s %-7s [%s] %3.0f%% %d/%d files", p.label, stage, bar(frac), frac*100, done, total)
}

func (p *progress) note(msg string) {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "postern: %s\n", msg)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func formatOctets(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
