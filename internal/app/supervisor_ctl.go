package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
)

// The supervisor's control socket: what only it knows (stats' Rollovers
// and Worker PID, shutdown, upgrade) it answers; what every worker holds
// (log levels, logs) it passes to each; the rest (reload, queue,
// listeners) goes to the serving worker.

func (sv *supervisor) ctlHandlers() map[string]server.CtlHandler {
	return map[string]server.CtlHandler{
		"stats":       sv.ctlStats,
		"stats-sum":   sv.ctlStatsSum,
		"connections": sv.ctlConnections,
		"shutdown":    sv.in.ctlShutdown,
		"upgrade":     sv.ctlUpgrade,
		"loglevel":    sv.broadcast("loglevel"),
		"reopen-logs": sv.broadcast("reopen-logs"),
		"reload":      sv.toServing("reload"),
		server.FallbackCommand: func(ctx context.Context, args []string, w io.Writer) error {
			return sv.toServing(args[0])(ctx, args[1:], w)
		},
	}
}

// toServing passes a command to the serving worker alone. A reload goes
// there only: a draining worker serves no listener, and must not bind one
// that a reload turns on.
func (sv *supervisor) toServing(cmd string) server.CtlHandler {
	return func(ctx context.Context, args []string, w io.Writer) error {
		sv.mu.Lock()
		s := sv.serving
		sv.mu.Unlock()
		if s == nil {
			return errors.New("no worker is serving; try again in a moment")
		}
		return server.CtlRequest(ctx, s.ctlPath, strings.Join(append([]string{cmd}, args...), " "), w)
	}
}

// live returns the live workers, the serving one first.
func (sv *supervisor) live() []*worker {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	var out []*worker
	if sv.serving != nil {
		out = append(out, sv.serving)
	}
	for _, w := range sv.workers {
		if w != sv.serving && w != sv.pending {
			out = append(out, w)
		}
	}
	return out
}

// broadcast passes a command to every live worker and answers with what
// the serving one said; the supervisor applies loglevel and reopen-logs to
// itself too.
func (sv *supervisor) broadcast(cmd string) server.CtlHandler {
	return func(ctx context.Context, args []string, w io.Writer) error {
		line := strings.Join(append([]string{cmd}, args...), " ")
		ws := sv.live()
		if len(ws) == 0 {
			return errors.New("no worker is serving")
		}
		var first error
		for i, wk := range ws {
			out := io.Discard
			if i == 0 {
				out = w
			}
			if err := server.CtlRequest(ctx, wk.ctlPath, line, out); err != nil && i == 0 {
				first = err
			}
		}
		if first == nil {
			switch cmd {
			case "loglevel":
				sv.in.ctlLogLevel(ctx, args, io.Discard)
			case "reopen-logs":
				sv.in.reopenLogs()
			}
		}
		return first
	}
}

// ctlConnections lists the connections of every worker.
func (sv *supervisor) ctlConnections(ctx context.Context, _ []string, w io.Writer) error {
	var rows []string
	header := ""
	for _, wk := range sv.live() {
		var b bytes.Buffer
		if err := server.CtlRequest(ctx, wk.ctlPath, "connections", &b); err != nil {
			continue // a worker that just exited
		}
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			switch {
			case l == "no connections" || l == "":
			case strings.HasPrefix(l, "ID "):
				header = l
			default:
				rows = append(rows, l)
			}
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no connections")
		return nil
	}
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	return nil
}

// ctlStats prints the XTND STATS report summed over the live workers, the
// supervisor's start time, and after each protocol's counters the number
// of rollovers and the serving worker's PID (the product brief's
// `Rollovers : N` and `Worker PID : P`).
func (sv *supervisor) ctlStats(ctx context.Context, _ []string, w io.Writer) error {
	var reports []string
	for _, wk := range sv.live() {
		var b bytes.Buffer
		if err := server.CtlRequest(ctx, wk.ctlPath, "stats", &b); err == nil {
			reports = append(reports, b.String())
		}
	}
	if len(reports) == 0 {
		return errors.New("no worker is serving")
	}
	sv.mu.Lock()
	rollovers, pid := sv.rollovers, 0
	if sv.serving != nil {
		pid = sv.serving.pid
	}
	sv.mu.Unlock()
	extra := []string{"Rollovers : " + strconv.Itoa(rollovers), "Worker PID : " + strconv.Itoa(pid)}
	io.WriteString(w, mergeStats(reports, sv.in.started, extra))
	return nil
}

// statsReport is one worker's report: the header lines, then each
// protocol's section.
type statsReport struct {
	header   []string
	names    []string
	sections map[string][]string
}

func parseStats(s string) statsReport {
	r := statsReport{sections: map[string][]string{}}
	cur := ""
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = l
			r.names = append(r.names, l)
			continue
		}
		if cur == "" {
			r.header = append(r.header, l)
		} else if l != "" {
			r.sections[cur] = append(r.sections[cur], l)
		}
	}
	return r
}

// mergeStats sums the counters of several reports: totals add up, maxima
// take the largest, the minimum the smallest non-zero one, the average is
// recomputed, and the current users of all are listed. The first report
// gives the header and the order; extra lines end each section.
func mergeStats(reports []string, started time.Time, extra []string) string {
	base := parseStats(reports[0])
	var rest []statsReport
	for _, r := range reports[1:] {
		rest = append(rest, parseStats(r))
	}
	var b strings.Builder
	for _, l := range base.header {
		if strings.HasPrefix(l, "Start Time : ") {
			l = "Start Time : " + started.Format(observe.StatsTimeFormat)
		}
		b.WriteString(l + "\n")
	}
	for _, name := range base.names {
		b.WriteString(name + "\n")
		all := [][]string{base.sections[name]}
		for _, r := range rest {
			all = append(all, r.sections[name])
		}
		for _, l := range mergeSection(all) {
			b.WriteString(l + "\n")
		}
		for _, l := range extra {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// mergeSection merges one protocol's lines from each report.
func mergeSection(all [][]string) []string {
	vals := map[string]int64{}
	var users []string
	for _, lines := range all {
		inUsers := false
		for _, l := range lines {
			if l == "Current Users :" {
				inUsers = true
				continue
			}
			if inUsers {
				if _, u, ok := strings.Cut(l, ". "); ok {
					users = append(users, u)
				}
				continue
			}
			k, v, ok := strings.Cut(l, " : ")
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil {
				continue
			}
			old, seen := vals[k]
			switch {
			case !seen:
				vals[k] = n
			case strings.HasPrefix(k, "Max"):
				vals[k] = max(old, n)
			case k == "Minimum Octets":
				if old == 0 || (n != 0 && n < old) {
					vals[k] = n
				}
			default:
				vals[k] += n
			}
		}
	}
	if m := vals["Retrieved Messages"]; m > 0 {
		if _, ok := vals["Average Octets"]; ok {
			vals["Average Octets"] = vals["Retrieved Octets"] / m
		}
	}
	var out []string
	for _, l := range all[0] {
		if l == "Current Users :" {
			out = append(out, l)
			for i, u := range users {
				out = append(out, strconv.Itoa(i)+". "+u)
			}
			break
		}
		k, _, ok := strings.Cut(l, " : ")
		if n, seen := vals[k]; ok && seen {
			l = k + " : " + strconv.FormatInt(n, 10)
		}
		out = append(out, l)
	}
	return out
}
