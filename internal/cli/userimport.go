package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

func userImportFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("format", "", "the file's `FORMAT`: dovecot (passwd-file), shadow or htpasswd")
	fs.Bool("dry-run", false, "check every line and report, but create no account")
	return nil
}

// userImportCounts are the results of "user import".
type userImportCounts struct{ imported, skipped int }

// runUserImport creates an account for each line of a password file,
// keeping its hash (issue 22). Each account is made in one store
// transaction with its hash, or not at all; a line that cannot be imported
// (a malformed line, an unsupported scheme, a name already taken) is
// reported as FILE:LINE and skipped. Exit status 0 when every account line
// was imported, 1 when some were skipped.
func runUserImport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	format := strings.ToLower(fs.Lookup("format").Value.String())
	switch format {
	case auth.FormatDovecot, auth.FormatShadow, auth.FormatHtpasswd:
	case "":
		return usagef("user import: --format is required (dovecot, shadow or htpasswd)")
	default:
		return usagef("user import: --format %q: want dovecot, shadow or htpasswd", format)
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	dry := boolFlag(fs, "dry-run")
	var n userImportCounts
	err = withStore(ctx, env, configPath(fs), func(st store.Store) error {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 4096), auth.MaxPasswordLine+2)
		for line := 1; sc.Scan(); line++ {
			if err := importLine(ctx, env, st, format, sc.Text(), dry); errors.Is(err, auth.ErrSkipLine) {
				continue
			} else if err != nil {
				fmt.Fprintf(env.Stderr, "%s:%d: %v; skipped\n", args[0], line, err)
				n.skipped++
				continue
			}
			n.imported++
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	verb := "imported"
	if dry {
		verb = "would import"
	}
	fmt.Fprintf(env.Stdout, "%s %d accounts, skipped %d\n", verb, n.imported, n.skipped)
	if n.skipped > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d lines skipped", n.skipped)}
	}
	return nil
}

// importLine imports one line, or says why not.
func importLine(ctx context.Context, env *Env, st store.Store, format, line string, dry bool) error {
	u, err := auth.ParsePasswordLine(format, line)
	if errors.Is(err, auth.ErrSkipLine) {
		return err
	}
	if err != nil {
		if u.Name != "" {
			return fmt.Errorf("%s: %w", u.Name, err)
		}
		return err
	}
	if _, err := st.Account(ctx, u.Name); err == nil {
		return fmt.Errorf("%s: %w", u.Name, store.ErrAccountExists)
	} else if !errors.Is(err, store.ErrNoSuchAccount) {
		return err
	}
	if dry {
		fmt.Fprintf(env.Stdout, "%s: %s%s\n", u.Name, u.Scheme, importNotes(u))
		return nil
	}
	init := store.AccountUpdate{PasswordHash: &u.Hash}
	if u.Disabled {
		init.Disabled = &u.Disabled
	}
	if !u.Expires.IsZero() {
		init.Expires = &u.Expires
	}
	a, err := st.CreateAccount(ctx, u.Name, init)
	if err != nil {
		return fmt.Errorf("%s: %w", u.Name, err)
	}
	fmt.Fprintf(env.Stdout, "%s: imported (%s)%s\n", a.Name, u.Scheme, importNotes(u))
	return nil
}

func importNotes(u auth.ImportedUser) string {
	var notes []string
	if u.Disabled {
		notes = append(notes, "disabled: locked in the file")
	}
	if !u.Expires.IsZero() {
		notes = append(notes, "expires "+u.Expires.Format("2006-01-02"))
	}
	if len(notes) == 0 {
		return ""
	}
	return ", " + strings.Join(notes, ", ")
}
