package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/postern/postern/internal/store"
)

// defaultImportJobs is how many users --all-users imports at once.
const defaultImportJobs = 4

// siteUser is one line of a --users-file: whose mail, into which account,
// and for an IMAP source the file holding that user's password.
type siteUser struct {
	line           int
	source, target string
	passwordFile   string
}

// readUsersFile reads lines "SOURCE-USER POSTERN-USER [PASSWORD-FILE]";
// blank lines and lines starting with '#' are skipped. A password is
// never in the file itself, only the name of a file holding it.
func readUsersFile(path string) ([]siteUser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var users []siteUser
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("%s:%d: want \"SOURCE-USER POSTERN-USER [PASSWORD-FILE]\"", path, n)
		}
		u := siteUser{line: n, source: fields[0], target: fields[1]}
		if len(fields) == 3 {
			u.passwordFile = fields[2]
		}
		if prev, dup := seen[strings.ToLower(u.target)]; dup {
			return nil, fmt.Errorf("%s:%d: %s is the target of line %d already", path, n, u.target, prev)
		}
		seen[strings.ToLower(u.target)] = n
		users = append(users, u)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}

// userReport is the outcome of one user's import.
type userReport struct {
	user siteUser
	out  string // the import's last line of standard output
	err  error
}

// runImportAll imports every user of usersFile from source (with %u for
// the source user), at most jobs at once, printing each user's report as
// it finishes and a summary; it fails when any user failed.
func runImportAll(ctx context.Context, env *Env, configFile, usersFile, source string, req importRequest, jobs int) error {
	if usersFile == "" {
		return usagef("--all-users needs --users-file FILE")
	}
	if !strings.Contains(source, "%u") {
		return usagef("SOURCE must hold %%u, replaced by each source user (/home/%%u/Maildir, imaps://%%u@host)")
	}
	if jobs < 1 {
		return usagef("--jobs must be at least 1")
	}
	if req.imap.passwordStdin {
		return usagef("--password-stdin does not go with --all-users: give each user's password file in the users file")
	}
	users, err := readUsersFile(usersFile)
	if err != nil {
		return err
	}
	return withStore(ctx, env, configFile, func(st store.Store) error {
		var (
			mu     sync.Mutex
			failed int
			wg     sync.WaitGroup
		)
		sem := make(chan struct{}, jobs)
		for _, u := range users {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				r := importSiteUser(ctx, env, st, source, u, req)
				mu.Lock()
				defer mu.Unlock()
				printReport(env, r)
				if r.err != nil {
					failed++
				}
			})
		}
		wg.Wait()
		verb := "imported"
		if req.dryRun {
			verb = "checked"
		}
		fmt.Fprintf(env.Stdout, "%s %d user(s): %d ok, %d failed\n", verb, len(users), len(users)-failed, failed)
		if failed > 0 {
			return fmt.Errorf("%d of %d user(s) failed (see above)", failed, len(users))
		}
		return nil
	})
}

// importSiteUser runs one user's import with its output captured.
func importSiteUser(ctx context.Context, env *Env, st store.Store, source string, u siteUser, req importRequest) userReport {
	var out, errs bytes.Buffer
	sub := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: env.Getenv, Environ: env.Environ,
		IsTerminal: func(any) bool { return false }}
	path := strings.ReplaceAll(source, "%u", u.source)
	if isIMAPSource(path) {
		if u.passwordFile == "" {
			return userReport{user: u, err: fmt.Errorf("line %d: an IMAP source needs the user's PASSWORD-FILE", u.line)}
		}
		req.imap.passwordFile = u.passwordFile
	}
	err := importOne(ctx, sub, st, u.target, path, req)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	r := userReport{user: u, out: lines[len(lines)-1], err: err}
	if req.dryRun && len(lines) > 1 {
		// The plan, folder by folder, under the user's line.
		r.out += "\n" + indent(strings.Join(lines[:len(lines)-1], "\n"))
	}
	if err != nil && errs.Len() > 0 {
		r.err = fmt.Errorf("%w\n%s", err, indent(errs.String()))
	}
	return r
}

func printReport(env *Env, r userReport) {
	if r.err != nil {
		var ue *usageError
		msg := r.err.Error()
		if errors.As(r.err, &ue) {
			msg = ue.Error()
		}
		fmt.Fprintf(env.Stdout, "%s -> %s: FAILED: %s\n", r.user.source, r.user.target, msg)
		return
	}
	fmt.Fprintf(env.Stdout, "%s -> %s: %s\n", r.user.source, r.user.target, r.out)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func intFlag(fs *flag.FlagSet, name string) int {
	n, _ := strconv.Atoi(fs.Lookup(name).Value.String())
	return n
}
