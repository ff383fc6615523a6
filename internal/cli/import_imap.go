package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/postern/postern/internal/mailimport"
	"github.com/postern/postern/internal/store"
)

// imapBatch is how many messages one UID FETCH asks for: it bounds the
// metadata held at once (the bodies stream).
const imapBatch = 200

// imapImportOptions are the options of an import from a live server.
type imapImportOptions struct {
	newUIDs       bool
	passwordFile  string
	passwordStdin bool
	caFile        string
	dryRun        bool // plan, report, change nothing
}

// imapRun is one `postern import U imap[s]://…`.
type imapRun struct {
	env   *Env
	sess  store.Session
	ii    store.IdentityImporter
	src   *mailimport.IMAPSource
	opts  imapImportOptions
	total importCounts
}

func runImportIMAP(ctx context.Context, env *Env, st store.Store, name, source string, o imapImportOptions) error {
	u, err := mailimport.ParseIMAPURL(source)
	if err != nil {
		return err
	}
	password, err := imapPassword(env, o, u)
	if err != nil {
		return err
	}
	tlsConf, err := imapTLS(u, o.caFile)
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
		return errors.New("this store cannot keep UIDs (store.IdentityImporter): an IMAP import needs it")
	}
	src, err := mailimport.DialIMAP(u, password, tlsConf)
	if err != nil {
		return err
	}
	defer src.Close()
	r := &imapRun{env: env, sess: sess, ii: ii, src: src, opts: o}
	folders, subs, err := src.Folders()
	if err != nil {
		return err
	}
	plan, err := r.plan(ctx, folders)
	if err != nil {
		return err
	}
	if o.dryRun {
		for _, p := range plan {
			fmt.Fprintf(env.Stdout, "%s: would %s, %d message(s) (UIDVALIDITY %d, UIDNEXT %d)\n", p.folder.Name,
				p.mode, p.status.Messages, p.status.UIDValidity, p.status.UIDNext)
		}
		fmt.Fprintf(env.Stdout, "would import %d mailbox(es) from %s into %s; nothing changed (--dry-run)\n", len(plan), u.Addr, name)
		return nil
	}
	for _, p := range plan {
		if err := r.importFolder(ctx, p); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("import interrupted (run it again to resume): %w", err)
			}
			return fmt.Errorf("%s: %w", p.folder.Source, err)
		}
	}
	for _, s := range subs {
		if err := sess.SetSubscribed(ctx, s, true); err != nil {
			fmt.Fprintf(env.Stderr, "postern: subscription %q not kept: %v\n", s, err)
		}
	}
	n := r.total
	fmt.Fprintf(env.Stdout, "imported %d message(s) (%s) in %d folder(s) from %s into %s; %d already there, %d failed; %d subscription(s)\n",
		n.imported, formatOctets(n.octets), len(plan), u.Addr, name, n.skipped, n.failed, len(subs))
	if n.failed > 0 {
		return fmt.Errorf("%d message(s) could not be imported (listed above)", n.failed)
	}
	return nil
}

// imapPassword reads the source password from --password-file (its first
// line), --password-stdin (one line) or a prompt on the terminal; never
// from the command line.
func imapPassword(env *Env, o imapImportOptions, u mailimport.IMAPURL) (string, error) {
	var (
		pw  string
		err error
	)
	switch {
	case o.passwordFile != "" && o.passwordStdin:
		return "", usagef("--password-file and --password-stdin exclude each other")
	case o.passwordFile != "":
		f, ferr := os.Open(o.passwordFile)
		if ferr != nil {
			return "", ferr
		}
		pw, err = readLine(f, maxSecretLength)
		f.Close()
	case o.passwordStdin:
		pw, err = readLine(env.Stdin, maxSecretLength)
	default:
		f, ok := env.Stdin.(*os.File)
		if !ok || !env.IsTerminal(f) {
			return "", usagef("standard input is not a terminal: use --password-file or --password-stdin for the source's password")
		}
		pw, err = promptNoEcho(env, f, fmt.Sprintf("Password for %s at %s: ", u.User, u.Addr))
	}
	if err != nil {
		return "", fmt.Errorf("read the source's password: %w", err)
	}
	if pw == "" {
		return "", errors.New("empty password refused")
	}
	return pw, nil
}

// imapTLS is the TLS configuration for the source: its certificate is
// checked against the host name, with the system's roots or --ca-file.
func imapTLS(u mailimport.IMAPURL, caFile string) (*tls.Config, error) {
	conf := &tls.Config{ServerName: u.Host, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// imapPlanned is one source mailbox with its target.
type imapPlanned struct {
	folder mailimport.IMAPFolder
	status mailimport.IMAPStatus
	target store.Mailbox
	mode   targetMode
}

// plan examines every source mailbox and decides each target before any
// message moves: one refused target refuses the import.
func (r *imapRun) plan(ctx context.Context, folders []mailimport.IMAPFolder) ([]imapPlanned, error) {
	var plan []imapPlanned
	var refused []error
	for _, f := range folders {
		st, err := r.src.Examine(f)
		if err != nil {
			return nil, err
		}
		mb, local, err := targetMailbox(ctx, r.sess, f.Name, r.opts.dryRun)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Source, err)
		}
		mode, err := decideTarget(local, st.UIDValidity, r.opts.newUIDs)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		plan = append(plan, imapPlanned{folder: f, status: st, target: mb, mode: mode})
	}
	if len(refused) > 0 {
		return nil, errors.Join(refused...)
	}
	return plan, nil
}

// importFolder copies what one source mailbox has that the target lacks,
// in batches: the metadata of a batch, then its bodies as they stream.
// With the source's UIDs kept, what is missing is what lies at or above
// the target's UIDNEXT; a second run copies only mail that arrived since
// (and brings the flags of the rest up to date). With new UIDs, every
// message is looked at and those imported before are skipped by their
// import key.
func (r *imapRun) importFolder(ctx context.Context, p imapPlanned) error {
	st, err := r.src.Examine(p.folder)
	if err != nil {
		return err
	}
	from := uint32(1)
	switch p.mode {
	case modeIdentity:
		mb, err := r.ii.SetMailboxIdentity(ctx, p.target.ID, st.UIDValidity, store.ModSeq(st.HighestModSeq))
		if err != nil {
			return err
		}
		p.target = mb
	case modeResume:
		mb, err := r.sess.Mailbox(ctx, p.target.Name)
		if err != nil {
			return err
		}
		from = uint32(mb.UIDNext)
		if err := r.syncFlags(ctx, p, from); err != nil {
			return err
		}
	case modeNewUIDs:
		fmt.Fprintf(r.env.Stderr, "postern: warning: %s already holds mail: its messages get new UIDs (--new-uids), and IMAP clients will download the mailbox again\n", p.target.Name)
	}
	uids, err := r.src.UIDsFrom(from)
	if err != nil {
		return err
	}
	bar := newLabelledProgress(r.env, "imap "+p.folder.Name)
	defer bar.done()
	var n importCounts
	for i := 0; i < len(uids); i += imapBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := uids[i:min(i+imapBatch, len(uids))]
		if err := r.importBatch(ctx, p, st, batch, &n, bar); err != nil {
			return err
		}
		bar.update(n, int64(i+len(batch)), int64(len(uids)))
	}
	if p.mode == modeIdentity || p.mode == modeResume {
		if _, err := r.ii.RaiseUIDNext(ctx, p.target.ID, store.UID(st.UIDNext)); err != nil {
			return err
		}
	}
	bar.done()
	fmt.Fprintf(r.env.Stdout, "%s: %d imported, %d already there, %d failed (UIDVALIDITY %d, UIDNEXT %d)\n",
		p.folder.Name, n.imported, n.skipped, n.failed, st.UIDValidity, st.UIDNext)
	r.total.imported += n.imported
	r.total.skipped += n.skipped
	r.total.failed += n.failed
	r.total.octets += n.octets
	return nil
}

// importBatch copies the messages of uids.
func (r *imapRun) importBatch(ctx context.Context, p imapPlanned, st mailimport.IMAPStatus, uids []uint32, n *importCounts, bar *progress) error {
	meta, err := r.src.Meta(uids)
	if err != nil {
		return err
	}
	byUID := make(map[uint32]mailimport.IMAPMessage, len(meta))
	for _, m := range meta {
		byUID[m.UID] = m
	}
	return r.src.Bodies(uids, func(uid uint32, body io.Reader) error {
		m, ok := byUID[uid]
		if !ok {
			_, err := io.Copy(io.Discard, body)
			return err
		}
		where := fmt.Sprintf("%s UID %d", p.folder.Source, uid)
		req := store.IdentifiedAppend{AppendRequest: store.AppendRequest{
			Content:      body,
			Flags:        validFlags(m.Flags, where, bar),
			InternalDate: m.Date,
			ImportKey:    fmt.Sprintf("imap:%d:%d", st.UIDValidity, uid),
		}}
		if p.mode == modeIdentity || p.mode == modeResume {
			req.UID = store.UID(uid)
		}
		res, err := r.ii.AppendIdentified(ctx, p.target.ID, req)
		// The store may have stopped reading at a refusal: the rest of
		// the literal must still be read for the next response.
		if _, derr := io.Copy(io.Discard, body); derr != nil && err == nil {
			err = derr
		}
		switch {
		case errors.Is(err, store.ErrDuplicate):
			n.skipped++
		case err != nil && ctx.Err() == nil && (isPerMessage(err) || errors.Is(err, store.ErrUIDOrder) || errors.Is(err, store.ErrInvalidName)):
			n.failed++
			bar.note(fmt.Sprintf("%s: skipped: %v", where, err))
		case err != nil:
			return fmt.Errorf("%s: %w", where, err)
		default:
			n.imported++
			n.octets += res[0].Size
		}
		return nil
	})
}

// syncFlags brings the flags of the messages imported before (below
// from) up to the source's: a second run copies no message again but
// carries the flag changes made on the source meanwhile. Messages gone
// from the source stay here: an import never deletes mail.
func (r *imapRun) syncFlags(ctx context.Context, p imapPlanned, from uint32) error {
	local, err := r.sess.Messages(ctx, p.target.ID)
	if err != nil {
		return err
	}
	for i := 0; i < len(local); i += imapBatch {
		batch := local[i:min(i+imapBatch, len(local))]
		uids := make([]uint32, 0, len(batch))
		for _, m := range batch {
			if uint32(m.UID) < from {
				uids = append(uids, uint32(m.UID))
			}
		}
		if len(uids) == 0 {
			continue
		}
		meta, err := r.src.Meta(uids)
		if err != nil {
			return err
		}
		have := make(map[store.UID]store.Flags, len(batch))
		for _, m := range batch {
			have[m.UID] = m.Flags
		}
		for _, m := range meta {
			want, err := store.CanonicalFlags(validFlags(m.Flags, fmt.Sprintf("%s UID %d", p.folder.Source, m.UID), nil))
			if err != nil || slices.Equal(want, have[store.UID(m.UID)]) {
				continue
			}
			req := store.FlagRequest{Op: store.FlagsReplace, Flags: want}
			if _, err := r.sess.StoreFlags(ctx, p.target.ID, []store.UID{store.UID(m.UID)}, req); err != nil {
				return err
			}
		}
	}
	return nil
}

// isIMAPSource reports whether an import source is a live server.
func isIMAPSource(path string) bool {
	return mailimport.IsIMAPURL(strings.TrimSpace(path))
}
