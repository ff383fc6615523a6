package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/server"
)

// listMax is how many files of one kind verify lists before it only counts.
const listMax = 20

// storeCommand loads the configuration and becomes Run-As-User, as
// openStore does, so that what the command creates belongs to the server's
// account.
func storeCommand(env *Env, fs *flag.FlagSet) (*loaded, error) {
	l, err := loadConfig(env, configPath(fs))
	if err != nil {
		return nil, err
	}
	if err := app.PrepareDirs(l.cfg); err != nil {
		return nil, err
	}
	return l, server.DropPrivileges(l.cfg.RunAsUser)
}

func runBackup(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	l, err := storeCommand(env, fs)
	if err != nil {
		return err
	}
	bar := newLabelledProgress(env, "backup")
	res, err := app.Backup(ctx, l.cfg, args[0], bar.step)
	bar.done()
	fmt.Fprintf(env.Stdout, "backup of %s in %s: %d messages, %d content files (%d copied, %s; %d already there; %d removed), index %s\n",
		l.cfg.DataDirectory, args[0], res.Messages, res.Files, res.Copied, formatOctets(res.Bytes),
		res.Present, res.Removed, formatOctets(res.IndexBytes))
	for i, f := range res.Bad {
		if i == listMax {
			fmt.Fprintf(env.Stderr, "postern: … and %d more\n", len(res.Bad)-listMax)
			break
		}
		fmt.Fprintf(env.Stderr, "postern: not backed up (missing or corrupt): %s\n", f)
	}
	return err
}

func runRestore(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	l, err := storeCommand(env, fs)
	if err != nil {
		return err
	}
	bar := newLabelledProgress(env, "restore")
	res, err := app.Restore(ctx, l.cfg, args[0], bar.step)
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "restored %s into %s: %d messages, %d content files (%s)\n",
		args[0], l.cfg.DataDirectory, res.Messages, res.Files, formatOctets(res.Bytes))
	return verify(ctx, env, l, false)
}

func verifyFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.Bool("repair", false, "fix what can be fixed without loss: reference counts, UIDNEXT, HIGHESTMODSEQ; move orphan files to lost+found/")
	return nil
}

func runVerify(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	l, err := storeCommand(env, fs)
	if err != nil {
		return err
	}
	return verify(ctx, env, l, boolFlag(fs, "repair"))
}

// verify runs app.Verify and prints its report: every finding, then one
// summary line; it fails when the store is not sound.
func verify(ctx context.Context, env *Env, l *loaded, repair bool) error {
	bar := newLabelledProgress(env, "verify")
	r, err := app.Verify(ctx, l.cfg, repair, bar.step)
	bar.done()
	if r == nil {
		return err
	}
	w := env.Stdout
	if app.IsPostgres(l.cfg) {
		fmt.Fprintf(w, "database %s: %d messages; %d bodies (%s) read and checked\n",
			app.RedactURL(l.cfg.StoreURL), r.Messages, r.Files, formatOctets(r.Bytes))
	} else {
		fmt.Fprintf(w, "index %s: quick_check %s; %d messages; %d content files (%s) read and checked\n",
			l.cfg.DataDirectory, r.IntegrityCheck, r.Messages, r.Files, formatOctets(r.Bytes))
	}
	list(w, "missing", r.Missing)
	list(w, "corrupt", r.Corrupt)
	orphan := "orphan"
	if r.OrphansMoved {
		orphan = "orphan moved to lost+found"
	}
	list(w, orphan, r.Orphans)
	list(w, "problem", r.Problems)
	list(w, "repaired", r.Repaired)
	if repair {
		list(w, "still broken", r.Remaining)
	}
	if err != nil {
		return err
	}
	if r.OK() {
		fmt.Fprintln(w, "verify: OK")
		return nil
	}
	fixable := len(r.Remaining) + len(r.Orphans)
	if r.OrphansMoved {
		fixable -= len(r.Orphans)
	}
	hint := ""
	switch {
	case len(r.Missing)+len(r.Corrupt) > 0:
		hint = "; restore missing or corrupt messages from a backup"
	case fixable > 0 && !repair:
		hint = "; postern verify --repair fixes these without loss"
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("verify: %d missing, %d corrupt, %d orphan files, %d index problems left%s",
		len(r.Missing), len(r.Corrupt), len(r.Orphans), len(r.Remaining), hint)}
}

func list(w io.Writer, what string, items []string) {
	for i, it := range items {
		if i == listMax {
			fmt.Fprintf(w, "%s: … and %d more\n", what, len(items)-listMax)
			return
		}
		fmt.Fprintf(w, "%s: %s\n", what, it)
	}
}
