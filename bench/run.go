package main

import (
	"cmp"
	"github.com/postern/postern/internal/store/postgres/pgtest"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// missingError reports software the harness needs and will not install.
type missingError struct{ msg string }

func (e missingError) Error() string { return e.msg }

// Users both servers get. deliverN and appendN are per run; reader holds
// the msgs-message mailbox that workloads 2 and 4 read.
const (
	userReader = "reader"
	userWarm   = "warm"
	userIdle   = "idle"
	userStorm  = "storm"
)

// bench is one benchmark run: the options, the corpus, the servers and the
// figures gathered so far.
type bench struct {
	o       options
	log     io.Writer
	corpus  *corpus
	targets []*target
	rep     *report
	dir     string
	pg      *pgtest.Cluster // the PostgreSQL of postern-pg and postern-pg2
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func users(runs int) []string {
	u := []string{userReader, userWarm, userIdle, userStorm, userMixed, userBigbox}
	for r := range runs {
		u = append(u, fmt.Sprintf("deliver%d", r), fmt.Sprintf("append%d", r))
	}
	return append(u, loginUserNames(loginArgon)...)
}

// run prepares both servers, runs the chosen workloads and returns the
// report (also written as JSON, and as RESULTS.md with -write-results).
func run(ctx context.Context, o options, log io.Writer) (*report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	b := &bench{o: o, log: log}
	fileLimit := raiseFileLimit()

	var dovecotBin string
	if contains(o.servers, "dovecot") {
		var err error
		if dovecotBin, err = findDovecot(); err != nil {
			return nil, missingError{err.Error()}
		}
	}
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "postern-bench-"); err != nil {
			return nil, err
		}
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Dovecot's mail processes run unprivileged and must reach their home
	// below the scratch directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if contains(o.servers, "dovecot") && os.Geteuid() == 0 {
		if err := searchable(dir); err != nil {
			return nil, err
		}
	}
	b.dir = dir
	root := moduleRoot()
	b.rep = newReport(o, readMachine(dir), root)
	b.rep.Machine.FileLimit = fileLimit
	b.logf("scratch directory %s (%s)", dir, b.rep.Machine.Filesystem)

	start := time.Now()
	b.corpus = newCorpus(max(o.msgs, o.appendMsgs, o.mixedMsgs), o.maxAttach)
	b.logf("corpus: %d messages, %.1f MiB, generated in %v", len(b.corpus.msgs),
		float64(b.corpus.bytes)/(1<<20), time.Since(start).Round(time.Millisecond))

	maxConns := max(o.stormClients, slicesMax(o.idleLevels), slicesMax(o.loginsClients), slicesMax(o.mixedClients)) + 100
	for _, s := range o.servers {
		var t *target
		var err error
		switch s {
		case "postern":
			bin := o.posternBin
			if bin == "" {
				if bin, err = buildPostern(ctx, root, dir); err != nil {
					return nil, err
				}
			}
			t, err = startPostern(ctx, bin, filepath.Join(dir, "postern"), users(o.runs))
		case "dovecot":
			t, err = startDovecot(ctx, dovecotBin, filepath.Join(dir, "dovecot"),
				append(users(o.runs), loginUserNames(loginPlain)...), maxConns)
		case "postern-pg", "postern-pg2":
			bin := o.posternBin
			if bin == "" {
				if bin, err = buildPostern(ctx, root, dir); err != nil {
					return nil, err
				}
			}
			nodes := 1
			if s == "postern-pg2" {
				nodes = 2
			}
			t, err = b.startPosternPG(ctx, bin, filepath.Join(dir, s), users(o.runs), nodes)
		}
		if err != nil {
			b.stopAll()
			return nil, fmt.Errorf("starting %s: %w", s, err)
		}
		b.targets = append(b.targets, t)
		b.rep.Servers = append(b.rep.Servers, t.name)
		b.rep.Versions[t.name] = t.version
		for p, r := range t.na {
			b.logf("%s: %s n/a: %s", t.name, p, r)
		}
		for _, n := range t.notes {
			b.rep.note(t.name + ": " + n)
		}
	}
	defer b.stopAll()

	for _, w := range b.workloads() {
		if !contains(o.workloads, w.id) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped before workload %s: %w", w.id, err)
		}
		b.runWorkload(ctx, w)
	}
	b.rep.Finished = time.Now().UTC()
	b.rep.computeRatios()
	if err := b.rep.writeJSON(o.jsonPath, root, dir); err != nil {
		return nil, err
	}
	if o.writeResults {
		if err := b.rep.writeResultsMD(o.resultsPath, root); err != nil {
			return nil, err
		}
	}
	return b.rep, nil
}

func (b *bench) stopAll() {
	for _, t := range b.targets {
		t.stop()
	}
	b.targets = nil
	if b.pg != nil {
		b.pg.Stop()
		b.pg = nil
	}
}

func slicesMax(s []int) int {
	m := 0
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// moduleRoot finds the Postern module above the working directory, or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/postern/postern\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// buildPostern builds ./cmd/postern into the scratch directory.
func buildPostern(ctx context.Context, root, dir string) (string, error) {
	if root == "" {
		return "", errors.New("not inside the Postern module: run from the repository or pass -postern BINARY")
	}
	bin := filepath.Join(dir, "postern-bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/postern")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/postern: %v\n%s", err, out)
	}
	return bin, nil
}

// metricDef describes one row of the table.
type metricDef struct {
	key    string
	label  string
	unit   string
	better string // "higher" or "lower"
}

// workload is one numbered workload of the issue.
type workload struct {
	id      string
	title   string
	protos  []string
	metrics []metricDef
	runs    int // 0: options.runs
	// warmTimeout bounds warm (0: options.workTimeout), for a workload
	// whose preparation takes longer than a run.
	warmTimeout time.Duration
	warm        func(ctx context.Context, t *target) error
	run         func(ctx context.Context, t *target, r int) (map[string]float64, error)
}

// runWorkload warms every server, then runs the workload runs times per
// server, alternating which server goes first, and records the medians.
func (b *bench) runWorkload(ctx context.Context, w workload) {
	load := loadAverage()
	b.rep.mu.Lock()
	b.rep.Load[w.id] = load
	b.rep.mu.Unlock()
	b.logf("workload %s: %s (load average %s)", w.id, w.title, load)
	for _, m := range w.metrics {
		b.rep.addRow(w.id, w.title, m)
	}
	var ready []*target
	for _, t := range b.targets {
		reason := ""
		for _, p := range w.protos {
			if ok, r := t.available(p); !ok {
				reason = p + ": " + r
				break
			}
		}
		if reason == "" && !t.alive() {
			reason = "server has exited; see " + t.logPath
		}
		if reason == "" && w.warm != nil {
			wctx, cancel := context.WithTimeout(ctx, cmp.Or(w.warmTimeout, b.o.workTimeout))
			if err := w.warm(wctx, t); err != nil {
				reason = "warm-up failed: " + err.Error()
			}
			cancel()
		}
		if reason != "" {
			b.logf("  %s: n/a: %s", t.name, reason)
			for _, m := range w.metrics {
				b.rep.setNA(w.id, m.key, t.name, reason)
			}
			continue
		}
		ready = append(ready, t)
	}
	runs := w.runs
	if runs == 0 {
		runs = b.o.runs
	}
	failed := map[string]bool{}
	for r := range runs {
		for i := range ready {
			// Interleave: run r starts with server r mod n.
			t := ready[(i+r)%len(ready)]
			if failed[t.name] {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, b.o.workTimeout)
			vals, err := w.run(wctx, t, r)
			cancel()
			if err != nil {
				b.logf("  %s run %d: error: %v", t.name, r+1, err)
				failed[t.name] = true
				for _, m := range w.metrics {
					b.rep.setNA(w.id, m.key, t.name, "error: "+err.Error())
				}
				continue
			}
			keys := make([]string, 0, len(vals))
			for k := range vals {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				b.rep.addValue(w.id, k, t.name, vals[k])
				parts = append(parts, fmt.Sprintf("%s=%.4g", k, vals[k]))
			}
			b.logf("  %s run %d: %s", t.name, r+1, strings.Join(parts, " "))
		}
	}
}

// searchable checks that every directory above dir lets other users pass
// (o+x): Dovecot's mail processes run as the unprivileged dovecot user and
// must reach their homes below dir.
func searchable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the Dovecot mail user cannot reach %s: %s is mode %v; choose another -dir", abs, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
