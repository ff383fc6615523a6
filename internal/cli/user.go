package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/store"
)

// maxSecretLength bounds a password or APOP secret read from stdin. The
// original limited APOP secrets to 500 characters.
const (
	maxSecretLength     = 1024
	maxAPOPSecretLength = 500
)

func userAddFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.Bool("password-stdin", false, "read the password from one line of standard input")
	fs.Bool("admin", false, "allow privileged commands (XTND STATS, XTND SHUTDOWN)")
	fs.Bool("yes", false, "add NAME@DOMAIN without asking when the bare NAME receives that address's mail today")
	return nil
}

func passwdFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.Bool("password-stdin", false, "read the password from one line of standard input")
	fs.Bool("hash-stdin", false, "read a password hash (an imported scheme, see user import -h) from one line of standard input")
	return nil
}

func userSetFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	for _, f := range []struct{ name, usage string }{
		{"disabled", "refuse all logins (the original's DISUSER)"},
		{"enabled", "allow logins again"},
		{"no-mail", "refuse mail delivery and POP/IMAP login (DISMAIL)"},
		{"mail", "accept mail again"},
		{"apop-secret-stdin", "read the APOP shared secret (at most 500 characters) from standard input; an empty line removes it"},
		{"admin", "allow privileged commands"},
		{"no-admin", "remove the admin privilege"},
	} {
		fs.Bool(f.name, false, f.usage)
	}
	fs.String("expires", "", "expiration `DATE` (YYYY-MM-DD, UTC midnight) or never")
	fs.String("quota-storage", "", "storage quota: a `SIZE` in the configuration's syntax (10K, 50M, 2G; K = 1024), "+
		"none for no limit, or default for the site's Quota-Storage")
	fs.String("quota-messages", "", "message quota: a `N`umber of messages, none for no limit, "+
		"or default for the site's Quota-Messages")
	return nil
}

// parseQuota reads the value of --quota-storage or --quota-messages: a
// limit, none or default.
func parseQuota(flag, v string, parse func(string) (int64, error)) (*int64, error) {
	var n int64
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return nil, nil
	case "none":
		n = store.QuotaNone
	case "default":
		n = store.QuotaDefault
	default:
		var err error
		if n, err = parse(v); err != nil {
			return nil, usagef("--%s %q: %v; or none, or default", flag, v, err)
		}
	}
	return &n, nil
}

func parseCount(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a number of messages")
	}
	return n, nil
}

func boolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Value.String() == "true"
}

func runUserAdd(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	name := args[0]
	if err := store.ValidateAccountName(name); err != nil {
		return err
	}
	pw, err := readSecret(env, boolFlag(fs, "password-stdin"), "Password for "+name)
	if err != nil {
		return err
	}
	creds, err := auth.Credentials(pw)
	if err != nil {
		return err
	}
	admin := boolFlag(fs, "admin")
	creds.Admin = &admin
	return withConfigStore(ctx, env, configPath(fs), func(l *loaded, st store.Store) error {
		if err := refuseOutsideName(ctx, l, st, name); err != nil {
			return err
		}
		if err := confirmDomainAccount(ctx, env, l, st, name, boolFlag(fs, "yes")); err != nil {
			return err
		}
		a, err := st.CreateAccount(ctx, name, creds)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "added account %s\n", a.Name)
		return nil
	})
}

// refuseOutsideName refuses a name that an outside source of Accounts
// knows (docs/accounts.md): a local account of that name would take the
// name from its owner. A source that cannot answer refuses too.
func refuseOutsideName(ctx context.Context, l *loaded, st store.Store, name string) error {
	logger := slog.New(slog.DiscardHandler)
	for _, src := range app.AccountSources(l.cfg, st, nil, nil, nil, logger) {
		out, ok := src.(auth.OutsideSource)
		if !ok {
			continue
		}
		owns, err := out.Owns(ctx, name)
		if c, ok := src.(interface{ Close() }); ok {
			c.Close()
		}
		switch {
		case err != nil:
			return fmt.Errorf("cannot ask the %s account source whether it knows %s: %w", src.Name(), name, err)
		case owns:
			return fmt.Errorf("the %s account source has a user %s; a local account of that name would take it over", src.Name(), strings.ToLower(name))
		}
	}
	return nil
}

// confirmDomainAccount warns, and asks unless yes, before NAME@DOMAIN is
// added while the bare account NAME receives the mail of NAME@DOMAIN (a
// domain of the site's own): the new account takes that mail from then on.
func confirmDomainAccount(ctx context.Context, env *Env, l *loaded, st store.Store, name string, yes bool) error {
	local, domain := store.SplitAccountName(name)
	if domain == "" {
		return nil
	}
	res, err := delivery.NewResolver(delivery.ResolverOptions{
		Directory: st, Hostname: l.cfg.Hostname, SubstituteDomain: l.cfg.SubstituteDomain,
		Domains: l.cfg.LocalDomains, DomainsFile: l.cfg.LocalAliasesFile,
	})
	if err != nil {
		return err
	}
	if !res.IsLocalDomain(domain) {
		return nil
	}
	if _, err := st.Account(ctx, local); errors.Is(err, store.ErrNoSuchAccount) {
		return nil
	} else if err != nil {
		return err
	}
	full := strings.ToLower(name)
	fmt.Fprintf(env.Stderr, "warning: account %s receives the mail of %s today; once %s exists, that mail goes to it instead\n",
		strings.ToLower(local), full, full)
	if yes {
		return nil
	}
	return confirmAction(env, fmt.Sprintf("Add %s? [y/N] ", full), "not confirmed; nothing added")
}

func runUserPasswd(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	name := args[0]
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		if a, err := st.Account(ctx, name); err != nil {
			return err
		} else if a.Source != store.SourceLocal {
			return fmt.Errorf("account %s belongs to the %s account source: its password is kept there", a.Name, a.Source)
		}
		creds, err := newPasswordUpdate(env, fs, name)
		if err != nil {
			return err
		}
		a, err := st.UpdateAccount(ctx, name, creds)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "password changed for %s\n", a.Name)
		return nil
	})
}

// newPasswordUpdate reads what "user passwd" stores: a password, or with
// --hash-stdin a hash, which replaces the SCRAM keys with none.
func newPasswordUpdate(env *Env, fs *flag.FlagSet, name string) (store.AccountUpdate, error) {
	if !boolFlag(fs, "hash-stdin") {
		pw, err := readSecret(env, boolFlag(fs, "password-stdin"), "New password for "+name)
		if err != nil {
			return store.AccountUpdate{}, err
		}
		return auth.Credentials(pw)
	}
	if boolFlag(fs, "password-stdin") {
		return store.AccountUpdate{}, usagef("--password-stdin and --hash-stdin contradict each other")
	}
	hash, err := readLine(env.Stdin, maxSecretLength*4)
	if err != nil {
		return store.AccountUpdate{}, fmt.Errorf("read hash: %w", err)
	}
	hash = strings.TrimSpace(hash)
	if _, err := auth.CheckHash(hash); err != nil {
		return store.AccountUpdate{}, err
	}
	return store.AccountUpdate{PasswordHash: &hash, SCRAM: &store.SCRAMCredentials{}}, nil
}

func runUserSet(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	u, err := parseUserSet(env, fs)
	if err != nil {
		return err
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		a, err := st.UpdateAccount(ctx, args[0], u)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", a.Name, describeAccount(a))
		if u.QuotaStorage != nil || u.QuotaMessages != nil {
			return printQuota(ctx, env, st, a)
		}
		return nil
	})
}

// parseUserSet turns the flags of "user set" into an update, refusing
// contradictions and an empty change.
func parseUserSet(env *Env, fs *flag.FlagSet) (store.AccountUpdate, error) {
	var u store.AccountUpdate
	pair := func(on, off string, dst **bool) error {
		a, b := boolFlag(fs, on), boolFlag(fs, off)
		if a && b {
			return usagef("--%s and --%s contradict each other", on, off)
		}
		if a || b {
			v := a
			*dst = &v
		}
		return nil
	}
	if err := errors.Join(pair("disabled", "enabled", &u.Disabled), pair("no-mail", "mail", &u.NoMail),
		pair("admin", "no-admin", &u.Admin)); err != nil {
		return u, err
	}
	if v := fs.Lookup("expires").Value.String(); v != "" {
		t, err := parseExpires(v)
		if err != nil {
			return u, err
		}
		u.Expires = &t
	}
	var err error
	if u.QuotaStorage, err = parseQuota("quota-storage", fs.Lookup("quota-storage").Value.String(), config.ParseSize); err != nil {
		return u, err
	}
	if u.QuotaMessages, err = parseQuota("quota-messages", fs.Lookup("quota-messages").Value.String(), parseCount); err != nil {
		return u, err
	}
	if boolFlag(fs, "apop-secret-stdin") {
		s, err := readLine(env.Stdin, maxAPOPSecretLength)
		if err != nil {
			return u, fmt.Errorf("read APOP secret: %w", err)
		}
		u.APOPSecret = &s
	}
	if u == (store.AccountUpdate{}) {
		return u, usagef("user set: nothing to change (see postern user set -h)")
	}
	return u, nil
}

func parseExpires(v string) (time.Time, error) {
	if strings.EqualFold(v, "never") {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, usagef("--expires %q: want YYYY-MM-DD or never", v)
	}
	return t, nil
}

func userDelFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.Bool("yes", false, "delete without asking (needed when standard input is not a terminal)")
	return nil
}

func runUserDel(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	if fs.Lookup("yes").Value.String() != "true" {
		if err := confirm(env, fmt.Sprintf("Delete account %s and all its mail? This cannot be undone. [y/N] ", strings.ToLower(args[0]))); err != nil {
			return err
		}
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		if err := st.DeleteAccount(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted account %s and its mail\n", strings.ToLower(args[0]))
		return nil
	})
}

func userListFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("source", "", "list only the accounts of this account `SOURCE` (local, system, ldap)")
	return nil
}

func runUserList(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	source := strings.ToLower(fs.Lookup("source").Value.String())
	if source != "" && !slices.Contains([]string{store.SourceLocal, "system", "ldap"}, source) {
		return fmt.Errorf("--source %q: not an account source; use local, system or ldap", source)
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		accts, err := st.Accounts(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tFLAGS\tEXPIRES\tCREATED\tSOURCE")
		for _, a := range accts {
			if source != "" && a.Source != source {
				continue
			}
			exp := "never"
			if !a.Expires.IsZero() {
				exp = a.Expires.UTC().Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, describeAccount(a), exp, a.Created.UTC().Format(time.DateOnly), a.Source)
		}
		return tw.Flush()
	})
}

// printQuota prints the account's quota settings and, when the store
// keeps usage, the limits in force and the usage.
func printQuota(ctx context.Context, env *Env, st store.Store, a store.Account) error {
	setting := func(v int64, unit string) string {
		switch v {
		case store.QuotaNone:
			return "none"
		case store.QuotaDefault:
			return "default"
		}
		return strconv.FormatInt(v, 10) + unit
	}
	fmt.Fprintf(env.Stdout, "%s: quota storage %s, messages %s\n", a.Name,
		setting(a.QuotaStorage, " bytes"), setting(a.QuotaMessages, ""))
	qk, ok := st.(store.QuotaKeeper)
	if !ok {
		return nil
	}
	q, err := qk.Quota(ctx, a.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: in force: storage %s (%d bytes used), messages %s (%d used)\n", a.Name,
		setting(q.Storage.Limit, " bytes"), q.Storage.Used, setting(q.Messages.Limit, ""), q.Messages.Used)
	return nil
}

// describeAccount lists an account's flags in words.
func describeAccount(a store.Account) string {
	var f []string
	if a.Disabled {
		f = append(f, "disabled")
	}
	if a.NoMail {
		f = append(f, "no-mail")
	}
	if a.Expired(time.Now()) {
		f = append(f, "expired")
	}
	if a.Admin {
		f = append(f, "admin")
	}
	if a.APOPSecret != "" {
		f = append(f, "apop")
	}
	if len(f) == 0 {
		return "-"
	}
	return strings.Join(f, ",")
}

// confirm asks a yes/no question on the terminal and fails unless the
// answer is yes. Without a terminal it fails at once, naming --yes: a
// destructive command in a script must say so.
func confirm(env *Env, question string) error {
	return confirmAction(env, question, "not confirmed; nothing deleted")
}

// confirmAction is confirm with the message of a refusal.
func confirmAction(env *Env, question, refused string) error {
	f, ok := env.Stdin.(*os.File)
	if !ok || !env.IsTerminal(f) {
		return usagef("refusing without --yes: standard input is not a terminal to confirm on")
	}
	fmt.Fprint(env.Stderr, question)
	answer, err := readLine(env.Stdin, 16)
	if err != nil {
		return fmt.Errorf("no answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return &exitError{code: exitFailure, err: errors.New(refused)}
}

// readSecret reads a password from one line of stdin, or prompts twice on
// the terminal.
func readSecret(env *Env, fromStdin bool, prompt string) (string, error) {
	var pw string
	if fromStdin {
		s, err := readLine(env.Stdin, maxSecretLength)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw = s
	} else {
		f, ok := env.Stdin.(*os.File)
		if !ok || !env.IsTerminal(f) {
			return "", usagef("standard input is not a terminal: use --password-stdin to read the password from it")
		}
		a, err := promptNoEcho(env, f, prompt+": ")
		if err != nil {
			return "", err
		}
		b, err := promptNoEcho(env, f, "Again: ")
		if err != nil {
			return "", err
		}
		if a != b {
			return "", errors.New("the two passwords differ")
		}
		pw = a
	}
	if pw == "" {
		return "", errors.New("empty password refused")
	}
	return pw, nil
}

func promptNoEcho(env *Env, f *os.File, prompt string) (string, error) {
	fmt.Fprint(env.Stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

// readLine reads one line of at most max octets, without its line ending.
func readLine(r io.Reader, max int) (string, error) {
	br := bufio.NewReaderSize(r, max+2)
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("line longer than %d characters", max)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if err != nil && len(line) == 0 {
		return "", errors.New("no input")
	}
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > max {
		return "", fmt.Errorf("line longer than %d characters", max)
	}
	return string(line), nil
}
