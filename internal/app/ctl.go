package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
)

// statsTimeFormat is the original's yyyy-mm-dd hh:mm:ss.
const statsTimeFormat = "2006-01-02 15:04:05"

// ctlHandlers returns the commands of the control socket.
func (in *instance) ctlHandlers() map[string]server.CtlHandler {
	return map[string]server.CtlHandler{
		"stats":       in.ctlStats,
		"loglevel":    in.ctlLogLevel,
		"shutdown":    in.ctlShutdown,
		"connections": in.ctlConnections,
	}
}

// ctlStats prints the XTND STATS report of the original (seed Table 19-3):
// process-wide lines, then the counters of each running protocol.
func (in *instance) ctlStats(_ context.Context, _ []string, w io.Writer) error {
	mem := observe.ReadMemory()
	cpu := observe.CPUTime()
	fmt.Fprintf(w, "Version Number : %s\n", VersionString())
	fmt.Fprintf(w, "Logging Level : %s\n", strings.ToUpper(observe.LevelName(in.level.Level())))
	fmt.Fprintf(w, "Current Time : %s\n", time.Now().Format(statsTimeFormat))
	fmt.Fprintf(w, "Start Time : %s\n", in.started.Format(statsTimeFormat))
	fmt.Fprintf(w, "CPU Seconds : %.2f (%d mins, %d secs)\n", cpu.Seconds(), int(cpu.Minutes()), int(cpu.Seconds())%60)
	fmt.Fprintf(w, "Peak Memory : %d KiB resident, %d KiB virtual\n", mem.PeakRSS/1024, mem.PeakVirtual/1024)
	names := make([]string, 0, len(in.stats))
	for name := range in.stats {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "\n[%s]\n", strings.ToUpper(name))
		writeCounters(w, in.stats[name].Snapshot())
	}
	if len(names) == 0 {
		fmt.Fprintln(w, "\n(no protocol server is running)")
	}
	return nil
}

// writeCounters prints the per-protocol fields of XTND STATS in the
// original's order.
func writeCounters(w io.Writer, s observe.StatsSnapshot) {
	rows := []struct {
		name string
		v    int64
	}{
		{"Current Threads", s.CurrentThreads}, {"Total Threads", s.TotalThreads},
		{"Max Threads", s.MaxThreads}, {"Too Many Threads", s.TooManyThreads},
		{"Normal Disconnects", s.NormalDisconnects}, {"Abnormal Disconnects", s.AbnormalDisconnects},
		{"Client Timeouts", s.ClientTimeouts}, {"Blocked Socket Count", s.BlockedSockets},
		{"Retrieved Messages", s.RetrievedMessages}, {"Retrieved Octets", s.RetrievedOctets},
		{"Average Octets", s.AverageOctets}, {"Minimum Octets", s.MinOctets},
		{"Maximum Octets", s.MaxOctets}, {"Auth Failures", s.AuthFailures},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s : %d\n", r.name, r.v)
	}
	fmt.Fprintln(w, "Current Users :")
	for i, u := range s.CurrentUsers {
		fmt.Fprintf(w, "%d. %s\n", i, u)
	}
}

// ctlLogLevel changes the log level now, as XTND LOGLEVEL did, and answers
// with the original's wording.
func (in *instance) ctlLogLevel(_ context.Context, args []string, w io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: loglevel LEVEL")
	}
	lvl, err := observe.ParseLevel(args[0])
	if err != nil {
		return err
	}
	in.level.Set(lvl)
	in.logger.Info("log level changed", "level", observe.LevelName(lvl))
	fmt.Fprintf(w, "logging level changed to %s\n", strings.ToLower(args[0]))
	return nil
}

// ctlShutdown starts a graceful shutdown, as XTND SHUTDOWN did.
func (in *instance) ctlShutdown(_ context.Context, _ []string, w io.Writer) error {
	in.events.Event("SHUTDOWN", slog.String("by", "control"))
	fmt.Fprintln(w, "shutting down: no new connections; waiting for current sessions")
	in.requestStop()
	return nil
}

// ctlConnections lists the open connections of every protocol.
func (in *instance) ctlConnections(_ context.Context, _ []string, w io.Writer) error {
	conns := in.conns.List()
	if len(conns) == 0 {
		fmt.Fprintln(w, "no connections")
		return nil
	}
	fmt.Fprintf(w, "%-6s %-6s %-22s %-16s %s\n", "ID", "PROTO", "REMOTE", "USER", "SINCE")
	for _, c := range conns {
		user := c.User
		if user == "" {
			user = "-"
		}
		fmt.Fprintf(w, "%-6d %-6s %-22s %-16s %s\n", c.ID, c.Proto, c.Remote, user, c.Since.Format(statsTimeFormat))
	}
	return nil
}
