package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// report is everything one benchmark run found; it is written as JSON and
// rendered as the Markdown table.
type report struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Commit   string            `json:"commit"`
	Machine  machineInfo       `json:"machine"`
	Servers  []string          `json:"servers"`
	Versions map[string]string `json:"versions"`
	Settings map[string]any    `json:"settings"`
	Command  string            `json:"command"`
	Rows     []*row            `json:"rows"`
	Notes    []string          `json:"notes,omitempty"`
	// Load is the 1-minute load average when each workload started: other
	// work on the machine makes figures noisy, and this shows how much.
	Load map[string]string `json:"load_average,omitempty"`

	mu sync.Mutex
}

// row is one line of the table: one metric of one workload.
type row struct {
	Workload string             `json:"workload"`
	Title    string             `json:"title"`
	Key      string             `json:"key"`
	Metric   string             `json:"metric"`
	Unit     string             `json:"unit"`
	Better   string             `json:"better"`
	Results  map[string]*result `json:"results"`
	Ratio    *float64           `json:"ratio,omitempty"` // Postern / Dovecot medians
}

// result is one server's figures for a row.
type result struct {
	Runs   []float64 `json:"runs,omitempty"`
	Median *float64  `json:"median,omitempty"`
	NA     string    `json:"na,omitempty"`
}

func newReport(o options, m machineInfo, root string) *report {
	r := &report{
		Started:  time.Now().UTC(),
		Machine:  m,
		Versions: map[string]string{},
		Load:     map[string]string{},
		Command:  strings.TrimSpace("go run ./bench " + strings.Join(o.args, " ")),
		Settings: map[string]any{
			"runs": o.runs, "msgs": o.msgs, "append": o.appendMsgs, "lmtp_clients": o.lmtpClients,
			"max_attach": o.maxAttach, "idle_levels": o.idleLevels, "idle_deliveries": o.idleDeliver,
			"storm_clients": o.stormClients, "storm_seconds": o.stormTime.Seconds(), "short": o.short,
		},
	}
	if root != "" {
		// Read-only: rev-parse changes nothing in the repository.
		if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
			r.Commit = strings.TrimSpace(string(out))
		}
	}
	return r
}

func (r *report) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !contains(r.Notes, s) {
		r.Notes = append(r.Notes, s)
	}
}

func (r *report) addRow(workload, title string, m metricDef) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Rows = append(r.Rows, &row{Workload: workload, Title: title, Key: m.key, Metric: m.label,
		Unit: m.unit, Better: m.better, Results: map[string]*result{}})
}

func (r *report) result(workload, key, server string) *result {
	for _, row := range r.Rows {
		if row.Workload == workload && row.Key == key {
			res := row.Results[server]
			if res == nil {
				res = &result{}
				row.Results[server] = res
			}
			return res
		}
	}
	return &result{} // an unknown metric is dropped
}

func (r *report) addValue(workload, key, server string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.result(workload, key, server)
	res.Runs = append(res.Runs, v)
}

func (r *report) setNA(workload, key, server, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.result(workload, key, server).NA = reason
}

// computeRatios fills in medians and Postern/Dovecot ratios.
func (r *report) computeRatios() {
	for _, row := range r.Rows {
		for _, res := range row.Results {
			if res.NA == "" && len(res.Runs) > 0 {
				m := median(res.Runs)
				res.Median = &m
			}
		}
		p, d := row.Results["Postern"], row.Results["Dovecot"]
		if p != nil && d != nil && p.Median != nil && d.Median != nil && *d.Median != 0 {
			ratio := *p.Median / *d.Median
			row.Ratio = &ratio
		}
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile returns the p-quantile (nearest rank) of d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func formatValue(v float64, unit string) string {
	var s string
	switch {
	case unit == "s" && v < 10:
		s = fmt.Sprintf("%.3f", v)
	case v >= 100:
		s = fmt.Sprintf("%.0f", v)
	case v >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.2f", v)
	}
	return s + " " + unit
}

// formatRatio keeps two significant digits for small ratios, which "%.2f"
// would print as 0.00.
func formatRatio(v float64) string {
	if v < 0.1 {
		return fmt.Sprintf("%.2g×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func (r *report) cell(row *row, server string) string {
	res := row.Results[server]
	switch {
	case res == nil:
		return "—"
	case res.NA != "":
		return "n/a"
	case res.Median == nil:
		return "—"
	}
	return formatValue(*res.Median, row.Unit)
}

// markdownTable renders the table: workload, Postern, Dovecot, ratio,
// better-is; or, when the servers are Postern's store kinds
// (storeKinds), one column per kind and each one's ratio to the first.
func (r *report) markdownTable() string {
	if !contains(r.Servers, "Dovecot") && len(r.Servers) > 1 {
		return r.kindsTable()
	}
	var b strings.Builder
	b.WriteString("| workload | Postern | Dovecot | ratio (P/D) | better is |\n")
	b.WriteString("|---|---:|---:|---:|---|\n")
	for _, row := range r.Rows {
		ratio := "—"
		if row.Ratio != nil {
			ratio = formatRatio(*row.Ratio)
		}
		name := strings.SplitN(row.Title, " ", 2)[0] + " " + row.Metric
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, r.cell(row, "Postern"), r.cell(row, "Dovecot"), ratio, row.Better)
	}
	return b.String()
}

// naReasons lists why figures are missing, one line per server and reason.
func (r *report) naReasons() []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range r.Rows {
		for _, s := range r.Servers {
			if res := row.Results[s]; res != nil && res.NA != "" {
				line := fmt.Sprintf("%s, workload %s: %s", s, strings.SplitN(row.Title, " ", 2)[0], res.NA)
				if !seen[line] {
					seen[line] = true
					out = append(out, line)
				}
			}
		}
	}
	return out
}

func (r *report) writeJSON(path, root, dir string) error {
	if path == "" {
		path = filepath.Join(dir, "results.json")
		if root != "" {
			path = filepath.Join(root, "bench", "results.json")
		}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: JSON results in %s\n", path)
	return nil
}

// goal is a target of the issue for one row: the ratio must be at least
// (or at most) limit.
type goal struct {
	workload, key string
	atLeast       bool
	limit         float64
	text          string
}

var goals = []goal{
	{"lmtp", "rate", true, 1.0, "LMTP delivery ≥ 1.0× Dovecot"},
	{"imap", "select_fetch", false, 1.0, "SELECT+FETCH of the mailbox ≤ 1.0× Dovecot's time"},
	{"imap", "search_text", false, 0.5, "SEARCH TEXT ≤ 0.5× Dovecot's time"},
	{"idle", "pss1000", false, 0.1, "memory per idle IMAP connection ≤ 0.1× (PSS, 1,000 connections)"},
	{"pop3", "mibs", true, 1.0, "POP3 RETR throughput ≥ 1.0×"},
	{"logins", "p10_rate", true, 1.0, "logins/s, 10 clients, vs Dovecot {PLAIN} with its auth cache ≥ 1.0× (issue 15)"},
	{"logins", "p50_rate", true, 1.0, "logins/s, 50 clients, vs Dovecot {PLAIN} with its auth cache ≥ 1.0× (issue 15)"},
	{"logins", "a50_rate", true, 3.0, "logins/s, 50 clients, both on argon2id ≥ 3× (issue 15)"},
	{"mixed", "c10_rate", true, 1.5, "mixed load, 10 clients, commands/s ≥ 1.5× (issue 15)"},
	{"mixed", "c50_rate", true, 1.5, "mixed load, 50 clients, commands/s ≥ 1.5× (issue 15)"},
}

func (r *report) goalLines() []string {
	var out []string
	for _, g := range goals {
		status := "not measured"
		for _, row := range r.Rows {
			if row.Workload != g.workload || row.Key != g.key {
				continue
			}
			if row.Ratio == nil {
				status = "not measured (n/a)"
				break
			}
			met := *row.Ratio <= g.limit
			if g.atLeast {
				met = *row.Ratio >= g.limit
			}
			status = fmt.Sprintf("%s — %s", formatRatio(*row.Ratio), map[bool]string{true: "met", false: "NOT met"}[met])
		}
		out = append(out, fmt.Sprintf("- %s: %s", g.text, status))
	}
	return out
}

// kindsTable renders one column per server and the ratio of each to the
// first server (Postern on SQLite when it is measured).
func (r *report) kindsTable() string {
	var b strings.Builder
	b.WriteString("| workload |")
	sep := "|---|"
	for _, s := range r.Servers {
		b.WriteString(" " + s + " |")
		sep += "---:|"
	}
	for _, s := range r.Servers[1:] {
		fmt.Fprintf(&b, " %s ÷ %s |", s, r.Servers[0])
		sep += "---:|"
	}
	b.WriteString(" better is |\n" + sep + "---|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s %s |", strings.SplitN(row.Title, " ", 2)[0], row.Metric)
		for _, s := range r.Servers {
			b.WriteString(" " + r.cell(row, s) + " |")
		}
		first := row.Results[r.Servers[0]]
		for _, s := range r.Servers[1:] {
			ratio := "—"
			if res := row.Results[s]; res != nil && res.Median != nil && first != nil && first.Median != nil && *first.Median != 0 {
				ratio = formatRatio(*res.Median / *first.Median)
			}
			b.WriteString(" " + ratio + " |")
		}
		b.WriteString(" " + row.Better + " |\n")
	}
	return b.String()
}
