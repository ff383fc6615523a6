package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smokeTimeout bounds the smoke run (after the build). On a quiet 2-core
// machine the run takes about 70 s (the issue asks for < 2 min); the bound
// is a guard against a hang, with room for a loaded machine, where creating
// the accounts alone (one argon2id hash per `postern user add`) took 65 s.
const smokeTimeout = 240 * time.Second

// buildTimeout bounds building the binary the smoke test runs.
const buildTimeout = 10 * time.Minute

// TestSmoke runs every workload at tiny sizes against Postern alone, so
// that the harness cannot rot: it builds the binary, starts it, and
// checks each workload produced figures. A workload whose protocol Postern
// does not serve yet is skipped with the reason. With BENCH_DOVECOT=1 (and
// Dovecot installed) Dovecot is measured too.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	// Dovecot's mail processes run as another user and must pass through
	// the test's directories.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "postern")
	// The build is not part of the smoke run's budget: on a fresh machine
	// (no build cache) while every other package of ./... builds too, it
	// alone can take minutes. Its own bound only guards against a hang.
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), buildTimeout)
	defer cancelBuild()
	build := exec.CommandContext(buildCtx, "go", "build", "-o", bin, "github.com/postern/postern/cmd/postern")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()
	args := []string{"-all", "-short", "-servers", "postern"}
	if os.Getenv("BENCH_DOVECOT") == "1" {
		args[3] = "postern,dovecot"
	}
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	o.posternBin = bin
	o.dir = filepath.Join(dir, "scratch")
	o.jsonPath = filepath.Join(dir, "results.json")
	o.timeout = smokeTimeout - 10*time.Second
	rep, err := run(ctx, o, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.markdownTable())
	if _, err := os.Stat(o.jsonPath); err != nil {
		t.Errorf("no JSON file: %v", err)
	}
	for _, w := range allWorkloads {
		t.Run(w, func(t *testing.T) {
			rows := 0
			for _, row := range rep.Rows {
				if row.Workload != w {
					continue
				}
				rows++
				for _, s := range rep.Servers {
					res := row.Results[s]
					switch {
					case res == nil:
						t.Errorf("%s %s: no result", s, row.Metric)
					case strings.Contains(res.NA, "not served") || strings.Contains(res.NA, "connection refused") ||
						strings.Contains(res.NA, "not available"):
						t.Skipf("%s does not serve this workload's protocol yet: %s", s, res.NA)
					case res.NA != "":
						t.Errorf("%s %s: %s", s, row.Metric, res.NA)
					case strings.HasSuffix(row.Key, "_errors"):
						// The mixed load requires no failed command.
						if res.Median == nil || *res.Median != 0 {
							t.Errorf("%s %s: want 0 (runs %v)", s, row.Metric, res.Runs)
						}
					case res.Median != nil && w == "idle" && !strings.HasPrefix(row.Key, "notify"):
						// At a few connections the memory growth is noise
						// (the server's heap may even shrink): any figure
						// will do.
					case res.Median == nil || *res.Median <= 0:
						t.Errorf("%s %s: no figure (runs %v)", s, row.Metric, res.Runs)
					}
				}
			}
			if rows == 0 {
				t.Errorf("workload %s produced no rows", w)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	if _, err := parseFlags(nil, testWriter{t}); err == nil {
		t.Error("no workload chosen: want an error")
	}
	if _, err := parseFlags([]string{"-workloads", "imap,nope"}, testWriter{t}); err == nil {
		t.Error("unknown workload: want an error")
	}
	o, err := parseFlags([]string{"-all", "-short", "-msgs", "7"}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if o.msgs != 7 || o.runs != 1 || len(o.workloads) != len(allWorkloads) {
		t.Errorf("-short -msgs 7: got msgs %d runs %d workloads %v", o.msgs, o.runs, o.workloads)
	}
	o, err = parseFlags([]string{"-all"}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if o.msgs != 10000 || o.appendMsgs != 2000 || o.lmtpClients != 4 || o.stormClients != 200 ||
		o.stormTime != 20*time.Second || len(o.idleLevels) != 2 || o.idleLevels[1] != 10000 {
		t.Errorf("defaults are not the issue's sizes: %+v", o)
	}
}

func TestCorpus(t *testing.T) {
	a, b := newCorpus(200, 100<<10), newCorpus(200, 100<<10)
	if a.bytes != b.bytes || string(a.msgs[123]) != string(b.msgs[123]) {
		t.Fatal("the corpus is not deterministic")
	}
	if a.wantText != 2 || a.wantFrom != 2 || a.wantSubject != 2 {
		t.Errorf("search answers: text %d, from %d, subject %d; want 2, 2 and 2", a.wantText, a.wantFrom, a.wantSubject)
	}
	var mimeCount, biggest int
	for i, m := range a.msgs {
		if strings.Contains(string(m), "multipart/mixed") {
			mimeCount++
		} else if len(m) < minTextSize || len(m) > maxTextSize+2048 {
			t.Errorf("message %d: %d bytes, outside the text sizes", i, len(m))
		}
		biggest = max(biggest, len(m))
		if strings.Contains(string(m), "\n") && strings.Count(string(m), "\n") != strings.Count(string(m), "\r\n") {
			t.Errorf("message %d has a bare LF", i)
		}
	}
	if mimeCount != 4 || biggest < 100<<10*4/3 {
		t.Errorf("%d MIME messages, biggest %d bytes; want 4 and one with the full attachment", mimeCount, biggest)
	}
}

func TestPercentileMedian(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}

// testWriter sends the harness's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestResultsKeepHandWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "RESULTS.md")
	r := newReport(defaultOptions(), machineInfo{Cores: 2}, "")
	r.Servers = []string{"Postern", "Dovecot"}
	r.addRow("lmtp", "1 LMTP", metricDef{"rate", "LMTP delivery", "msgs/s", "higher"})
	r.addValue("lmtp", "rate", "Postern", 300)
	r.addValue("lmtp", "rate", "Dovecot", 200)
	r.computeRatios()
	if err := r.writeResultsMD(path, ""); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(b, "hand-written analysis\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.writeResultsMD(path, ""); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	s := string(b)
	if strings.Count(s, "hand-written analysis") != 1 || !strings.Contains(s, "| 1 LMTP delivery | 300 msgs/s | 200 msgs/s | 1.50× | higher |") {
		t.Errorf("regenerated RESULTS.md:\n%s", s)
	}
}
