package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/store"
)

func deliverFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("mailbox", "", "deliver into `MBOX` instead of INBOX (falls back to INBOX if it does not exist)")
	fs.String("from", "", "the envelope sender, as `SENDER` (the MTA's ${sender}), which the recipient's Sieve script sees")
	return nil
}

// runDeliver is the local delivery agent: its exit status is all a mail
// transfer agent looks at, so every failure maps to one of the exit
// codes of sysexits.h (the exit codes in cli.go), with one line on stderr.
func runDeliver(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	l, err := loadConfig(env, configPath(fs))
	if err != nil {
		return &exitError{code: exitTempFail, err: err}
	}
	st, err := openStore(ctx, env, l)
	if err != nil {
		return &exitError{code: exitTempFail, err: err}
	}
	defer st.Close()
	if err := provisionRecipient(ctx, l, st, args[0]); err != nil {
		return &exitError{code: exitTempFail, err: fmt.Errorf("temporary failure, try again later: %w", err)}
	}
	d := delivery.New(delivery.Options{Store: st, MaxSize: l.maxMessageSize()})
	res, err := d.Deliver(ctx, delivery.Request{
		Account: args[0],
		Mailbox: fs.Lookup("mailbox").Value.String(),
		Content: env.Stdin,
		// A final delivery: the account's Sieve script runs, with keep
		// going to --mailbox. Redirects and vacation responses need the
		// server's queue: here a redirect keeps the message instead and
		// no vacation response is sent (docs/sieve.md).
		Envelope: &delivery.Envelope{From: fs.Lookup("from").Value.String(), To: args[0]},
	})
	switch {
	case errors.Is(err, delivery.ErrNoSuchUser), errors.Is(err, delivery.ErrNoMail):
		return &exitError{code: exitNoUser, err: err}
	case errors.Is(err, delivery.ErrRejected):
		// The MTA bounces with our stderr line (RFC 5429 §2.1.1 where
		// the protocol-level refusal is the LDA's exit status).
		return &exitError{code: exitNoPerm, err: fmt.Errorf("%s", delivery.RejectReason(err))}
	case errors.Is(err, delivery.ErrMalformed), errors.Is(err, delivery.ErrTooBig):
		return &exitError{code: exitDataErr, err: err}
	case errors.Is(err, delivery.ErrOverQuota):
		return &exitError{code: exitCantCreat, err: err}
	case err != nil:
		return &exitError{code: exitTempFail, err: fmt.Errorf("temporary failure, try again later: %w", err)}
	}
	if res.FellBack && fs.Lookup("mailbox").Value.String() != "" {
		fmt.Fprintf(env.Stderr, "postern: mailbox %q does not exist; delivered to %s\n", fs.Lookup("mailbox").Value.String(), store.MailboxInbox)
	}
	return nil
}

// provisionRecipient makes the store account of a user of an outside
// account source (system, ldap) that has not logged in yet, so that its
// first mail is not refused (docs/accounts.md). A name no source knows is
// left to Deliver, which refuses it; a source that cannot answer is a
// temporary failure.
func provisionRecipient(ctx context.Context, l *loaded, st store.Store, name string) error {
	if _, err := st.Account(ctx, name); !errors.Is(err, store.ErrNoSuchAccount) {
		return nil
	}
	logger := slog.New(slog.DiscardHandler)
	sources := app.AccountSources(l.cfg, st, nil, nil, nil, logger)
	defer func() {
		for _, s := range sources {
			if c, ok := s.(interface{ Close() }); ok {
				c.Close()
			}
		}
	}()
	_, err := auth.Directory{Store: st, Sources: sources}.Account(ctx, name)
	if errors.Is(err, store.ErrNoSuchAccount) {
		return nil
	}
	return err
}
