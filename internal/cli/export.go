package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/postern/postern/internal/mailexport"
	"github.com/postern/postern/internal/store"
)

func exportFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("user", "", "the account to export (`NAME`, required)")
	fs.String("format", "", "`FORMAT`: maildir (with Dovecot's UID lists) or mbox (required)")
	return nil
}

// exportTarget is what one mailbox is written through.
type exportTarget interface {
	write(m mailexport.Message, size int64, content io.Reader) error
	close() (string, error) // a summary of what was done
}

func runExport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	user, format, dir := fs.Lookup("user").Value.String(), fs.Lookup("format").Value.String(), args[0]
	if user == "" {
		return usagef("--user NAME is required")
	}
	var begin func(mailexport.Mailbox) (exportTarget, error)
	var md *mailexport.Maildir
	switch format {
	case "maildir":
		var err error
		if md, err = mailexport.NewMaildir(dir); err != nil {
			return err
		}
		begin = func(mb mailexport.Mailbox) (exportTarget, error) {
			b, err := md.Begin(mb)
			return maildirTarget{b}, err
		}
	case "mbox":
		x, err := mailexport.NewMbox(dir)
		if err != nil {
			return err
		}
		begin = func(mb mailexport.Mailbox) (exportTarget, error) {
			f, err := x.Begin(mb)
			return mboxTarget{f}, err
		}
	default:
		return usagef("--format maildir or --format mbox is required")
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		acct, err := st.Account(ctx, user)
		if err != nil {
			return err
		}
		sess, err := st.Open(ctx, acct.ID)
		if err != nil {
			return err
		}
		defer sess.Close()
		if err := exportAll(ctx, env, sess, acct.Name, begin); err != nil {
			return err
		}
		if md != nil {
			subs, err := sess.Subscriptions(ctx)
			if err != nil {
				return err
			}
			return md.Subscriptions(subs)
		}
		return nil
	})
}

// exportAll writes every mailbox of the session's account.
// Every message carries the POP3 unique-id Postern serves it under (kept,
// or store.DefaultUIDL), so that a POP3 client finds its messages again.
func exportAll(ctx context.Context, env *Env, sess store.Session, account string, begin func(mailexport.Mailbox) (exportTarget, error)) error {
	mbs, err := sess.Mailboxes(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, mb := range mbs {
		infos, err := sess.Messages(ctx, mb.ID)
		if err != nil {
			return err
		}
		uidls := map[store.UID]string{}
		if uk, ok := sess.(store.UIDLKeeper); ok {
			if err := uk.POP3UIDLs(ctx, mb.ID, func(u store.UID, s string) error { uidls[u] = s; return nil }); err != nil {
				return err
			}
		}
		t, err := begin(mailexport.Mailbox{Name: mb.Name, UIDValidity: mb.UIDValidity, UIDNext: mb.UIDNext})
		if err != nil {
			return fmt.Errorf("%s: %w", mb.Name, err)
		}
		for _, in := range infos {
			uidl := uidls[in.UID]
			if uidl == "" {
				uidl = store.DefaultUIDL(account, in)
			}
			if err := exportOne(ctx, sess, mb, in, uidl, t); err != nil {
				t.close()
				return err
			}
		}
		summary, err := t.close()
		if err != nil {
			return fmt.Errorf("%s: %w", mb.Name, err)
		}
		fmt.Fprintf(env.Stdout, "%s: %d message(s)%s\n", mb.Name, len(infos), summary)
		total += len(infos)
	}
	fmt.Fprintf(env.Stdout, "exported %d message(s) in %d mailbox(es)\n", total, len(mbs))
	return nil
}

func exportOne(ctx context.Context, sess store.Session, mb store.Mailbox, in store.MessageInfo, uidl string, t exportTarget) error {
	c, err := sess.OpenContent(ctx, mb.ID, in.UID)
	if errors.Is(err, store.ErrNoSuchMessage) {
		return nil // expunged meanwhile
	}
	if err != nil {
		return fmt.Errorf("%s UID %d: %w", mb.Name, in.UID, err)
	}
	defer c.Close()
	m := mailexport.Message{UID: in.UID, EmailID: in.EmailID, Flags: in.Flags, Date: in.InternalDate, POP3UIDL: uidl}
	if err := t.write(m, c.Size(), io.NewSectionReader(c, 0, c.Size())); err != nil {
		return fmt.Errorf("%s UID %d: %w", mb.Name, in.UID, err)
	}
	return nil
}

type maildirTarget struct{ b *mailexport.MaildirBox }

func (t maildirTarget) write(m mailexport.Message, size int64, r io.Reader) error {
	return t.b.Write(m, size, r)
}

func (t maildirTarget) close() (string, error) {
	n, err := t.b.Close()
	s := fmt.Sprintf(" (%d written, %d renamed for new flags, %d unchanged)", n.Written, n.Renamed, n.Unchanged)
	if n.KeywordsLeftOut > 0 {
		s += fmt.Sprintf("; %d keyword use(s) left out (a Maildir folder names 26 keywords)", n.KeywordsLeftOut)
	}
	return s, err
}

type mboxTarget struct{ f *mailexport.MboxFile }

func (t mboxTarget) write(m mailexport.Message, _ int64, r io.Reader) error {
	return t.f.Write(m, r)
}

func (t mboxTarget) close() (string, error) {
	_, err := t.f.Close()
	return "", err
}
