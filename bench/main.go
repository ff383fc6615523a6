// Command bench measures Postern side by side with Dovecot: it prepares
// identical mail in both (a generated corpus, delivered over LMTP),
// drives both with the same Go clients (go-imap v2, go-smtp in LMTP mode,
// a minimal POP3 client) over loopback without TLS, and prints a Markdown
// table of medians and Postern/Dovecot ratios, plus a JSON file.
//
// Usage:
//
//	go run ./bench -all                 # every workload, the sizes
//	go run ./bench -all -write-results  # and regenerate bench/RESULTS.md
//	go run ./bench -workloads imap,pop3 -msgs 2000 -runs 5
//	go run ./bench -all -short -servers postern
//
// It installs nothing: without Dovecot it names the Debian packages to
// install and exits with status 3. A workload whose protocol a server does
// not serve (connection refused, or a greeting or banner that says "not
// available") is reported as n/a for that server. bench/README.md has the
// fairness rules and how to read the table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit statuses.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitMissing = 3 // Dovecot is not installed
)

// options are the command-line settings; defaults are the sizes.
type options struct {
	workloads     []string
	servers       []string
	runs          int
	msgs          int
	appendMsgs    int
	lmtpClients   int
	maxAttach     int
	bigMsgs       int
	idleLevels    []int
	idleDeliver   int
	idleSetupMax  time.Duration
	stormClients  int
	stormTime     time.Duration
	loginsClients []int
	loginsTime    time.Duration
	mixedClients  []int
	mixedTime     time.Duration
	mixedMsgs     int
	opTimeout     time.Duration
	workTimeout   time.Duration
	timeout       time.Duration
	short         bool
	posternBin    string
	dir           string
	keep          bool
	jsonPath      string
	writeResults  bool
	resultsPath   string
	render        string
	args          []string // the command line, for RESULTS.md
}

// allWorkloads lists the workloads in the order they run.
var allWorkloads = []string{"lmtp", "imap", "append", "pop3", "idle", "storm", "logins", "mixed", "bigbox"}

func defaultOptions() options {
	return options{
		workloads:     allWorkloads,
		servers:       []string{"postern", "dovecot"},
		runs:          3,
		msgs:          10000,
		appendMsgs:    2000,
		lmtpClients:   4,
		maxAttach:     2 << 20,
		bigMsgs:       100_000,
		idleLevels:    []int{1000, 10000},
		idleDeliver:   5,
		idleSetupMax:  10 * time.Minute,
		stormClients:  200,
		stormTime:     20 * time.Second,
		loginsClients: []int{10, 50},
		loginsTime:    10 * time.Second,
		mixedClients:  []int{10, 50},
		mixedTime:     10 * time.Second,
		mixedMsgs:     100,
		opTimeout:     60 * time.Second,
		workTimeout:   20 * time.Minute,
		timeout:       3 * time.Hour,
	}
}

// shortOptions shrinks every size so that all workloads finish in seconds
// (the smoke test and -short).
func (o *options) applyShort() {
	o.runs = 1
	o.msgs = 40
	o.appendMsgs = 10
	o.lmtpClients = 2
	o.maxAttach = 64 << 10
	o.bigMsgs = 60
	o.idleLevels = []int{4}
	o.idleDeliver = 2
	o.idleSetupMax = 30 * time.Second
	o.stormClients = 4
	o.stormTime = time.Second
	o.loginsClients = []int{2}
	o.loginsTime = time.Second
	o.mixedClients = []int{2}
	o.mixedTime = time.Second
	o.mixedMsgs = 12
	o.opTimeout = 20 * time.Second
	o.workTimeout = 60 * time.Second
	o.timeout = 5 * time.Minute
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := defaultOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "run every workload: "+strings.Join(allWorkloads, ","))
	wl := fs.String("workloads", "", "comma-separated workloads to run (instead of -all)")
	servers := fs.String("servers", "postern,dovecot", "servers to measure: postern, dovecot, or Postern's store kinds postern-pg (one node on PostgreSQL) and postern-pg2 (two nodes on one PostgreSQL)")
	short := fs.Bool("short", false, "tiny sizes: every workload in seconds (the smoke test's sizes)")
	runs := fs.Int("runs", o.runs, "measured runs per workload and server (the median is reported)")
	msgs := fs.Int("msgs", o.msgs, "messages delivered (workload 1) and in the read mailbox (2, 4)")
	appendMsgs := fs.Int("append", o.appendMsgs, "messages appended (workload 3)")
	lmtpClients := fs.Int("lmtp-clients", o.lmtpClients, "parallel LMTP clients")
	maxAttach := fs.Int("max-attach", o.maxAttach, "largest attachment in the corpus, bytes")
	bigMsgs := fs.Int("bigbox", o.bigMsgs, "messages in the large mailbox (workload 9)")
	idle := fs.String("idle", "1000,10000", "IDLE connection counts; each level past the first runs only when the machine allows")
	idleSetup := fs.Duration("idle-setup-max", o.idleSetupMax, "longest time allowed to log in one IDLE level")
	stormClients := fs.Int("storm-clients", o.stormClients, "parallel clients of the login storm")
	stormTime := fs.Duration("storm-time", o.stormTime, "duration of the login storm")
	loginsClients := fs.String("logins-clients", "10,50", "client counts of the logins workload (the first also runs the webmail loop)")
	loginsTime := fs.Duration("logins-time", o.loginsTime, "duration of each loop of the logins workload")
	mixedClients := fs.String("mixed-clients", "10,50", "client counts of the mixed load")
	mixedTime := fs.Duration("mixed-time", o.mixedTime, "duration of each level of the mixed load")
	mixedMsgs := fs.Int("mixed-msgs", o.mixedMsgs, "messages in each mixed-load client's mailbox")
	opTimeout := fs.Duration("op-timeout", o.opTimeout, "deadline of one network exchange")
	workTimeout := fs.Duration("workload-timeout", o.workTimeout, "deadline of one workload run against one server")
	timeout := fs.Duration("timeout", o.timeout, "deadline of the whole benchmark")
	fs.StringVar(&o.posternBin, "postern", "", "postern binary (default: go build ./cmd/postern into the scratch directory)")
	fs.StringVar(&o.dir, "dir", "", "scratch directory for both servers' data (default: a new temporary directory)")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory (logs, configurations, data)")
	fs.StringVar(&o.jsonPath, "json", "", "JSON results file (default: bench/results.json in the module)")
	fs.BoolVar(&o.writeResults, "write-results", false, "regenerate bench/RESULTS.md from this run")
	fs.StringVar(&o.render, "render", "", "measure nothing: print the table of a JSON results `FILE` (with -write-results, also regenerate RESULTS.md from it)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if !*all && *wl == "" && o.render == "" {
		return o, errors.New("say what to run: -all, or -workloads " + strings.Join(allWorkloads, ","))
	}
	if *wl != "" {
		o.workloads = nil
		for _, w := range strings.Split(*wl, ",") {
			w = strings.TrimSpace(w)
			if !contains(allWorkloads, w) {
				return o, fmt.Errorf("unknown workload %q; known: %s", w, strings.Join(allWorkloads, ","))
			}
			o.workloads = append(o.workloads, w)
		}
	}
	o.servers = nil
	for _, s := range strings.Split(*servers, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "dovecot" && !contains(storeKinds, s) {
			return o, fmt.Errorf("unknown server %q: dovecot or one of %s", s, strings.Join(storeKinds, ", "))
		}
		o.servers = append(o.servers, s)
	}
	if *short {
		o.short = true
		o.applyShort()
	}
	// Flags given explicitly win over -short's sizes.
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "runs":
			o.runs = *runs
		case "msgs":
			o.msgs = *msgs
		case "append":
			o.appendMsgs = *appendMsgs
		case "lmtp-clients":
			o.lmtpClients = *lmtpClients
		case "max-attach":
			o.maxAttach = *maxAttach
		case "bigbox":
			o.bigMsgs = *bigMsgs
		case "idle":
			o.idleLevels, err = parseInts(*idle)
		case "idle-setup-max":
			o.idleSetupMax = *idleSetup
		case "storm-clients":
			o.stormClients = *stormClients
		case "storm-time":
			o.stormTime = *stormTime
		case "logins-clients":
			o.loginsClients, err = parseInts(*loginsClients)
		case "logins-time":
			o.loginsTime = *loginsTime
		case "mixed-clients":
			o.mixedClients, err = parseInts(*mixedClients)
		case "mixed-time":
			o.mixedTime = *mixedTime
		case "mixed-msgs":
			o.mixedMsgs = *mixedMsgs
		case "op-timeout":
			o.opTimeout = *opTimeout
		case "workload-timeout":
			o.workTimeout = *workTimeout
		case "timeout":
			o.timeout = *timeout
		}
	})
	if err != nil {
		return o, err
	}
	if o.runs < 1 || o.msgs < 1 || o.appendMsgs < 1 || o.lmtpClients < 1 || o.stormClients < 1 || len(o.idleLevels) == 0 || o.mixedMsgs < 1 || o.bigMsgs < 1 {
		return o, errors.New("-runs, -msgs, -append, -lmtp-clients, -storm-clients, -idle, -mixed-msgs and -bigbox must be positive")
	}
	o.args = args
	return o, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(exitUsage)
	}
	if o.render != "" {
		rep, err := loadReport(o.render)
		if err == nil && o.writeResults {
			err = rep.writeResultsMD(o.resultsPath, moduleRoot())
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(exitError)
		}
		fmt.Print(rep.markdownTable())
		os.Exit(exitOK)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		var me missingError
		if errors.As(err, &me) {
			os.Exit(exitMissing)
		}
		os.Exit(exitError)
	}
	fmt.Print(rep.markdownTable())
	os.Exit(exitOK)
}
