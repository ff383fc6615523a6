package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
)

// ctlHandlers returns the commands of the control socket.
// Services add their own commands (SMTP: "queue") by implementing
// CtlHandlers; startControl runs after the services are built.
func (in *instance) ctlHandlers() map[string]server.CtlHandler {
	h := map[string]server.CtlHandler{
		"stats":       in.ctlStats,
		"loglevel":    in.ctlLogLevel,
		"shutdown":    in.ctlShutdown,
		"connections": in.ctlConnections,
		"reopen-logs": in.ctlReopenLogs,
		"listeners":   in.ctlListeners,
		"reload":      in.ctlReload,
		"stats-json":  in.ctlStatsJSON,
	}
	for _, s := range in.services {
		if p, ok := s.impl.(interface {
			CtlHandlers() map[string]server.CtlHandler
		}); ok {
			maps.Copy(h, p.CtlHandlers())
		}
	}
	return h
}

// ctlStats prints the XTND STATS report of the original (seed Table 19-3):
// the process-wide lines, then the counters of each running protocol, with
// the same writer POP3's XTND STATS uses.
func (in *instance) ctlStats(_ context.Context, _ []string, w io.Writer) error {
	hdr := observe.StatsHeader{Version: VersionString(), Level: observe.StatsLevelName(in.level.Level())}
	snap := observe.StatsSnapshot{Start: in.started, Now: time.Now(), CPU: observe.CPUTime()}
	observe.WriteStatsHeader(w, hdr, snap)
	mem := observe.ReadMemory()
	fmt.Fprintf(w, "Peak Memory : %d KiB resident, %d KiB virtual\n", mem.PeakRSS/1024, mem.PeakVirtual/1024)
	in.mu.Lock()
	stats := maps.Clone(in.stats)
	in.mu.Unlock()
	names := slices.Sorted(maps.Keys(stats))
	for _, name := range names {
		fmt.Fprintf(w, "\n[%s]\n", strings.ToUpper(name))
		if name == "smtp" || name == "lmtp" {
			observe.WriteMailStatsCounters(w, stats[name].Snapshot())
			continue
		}
		observe.WriteStatsCounters(w, stats[name].Snapshot())
	}
	if len(names) == 0 {
		fmt.Fprintln(w, "\n(no protocol server is running)")
	}
	return nil
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
	in.mu.Lock()
	for _, lv := range in.levels {
		lv.Set(lvl)
	}
	in.mu.Unlock()
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
		fmt.Fprintf(w, "%-6d %-6s %-22s %-16s %s\n", c.ID, c.Proto, c.Remote, user, c.Since.Format(observe.StatsTimeFormat))
	}
	return nil
}

// ctlReopenLogs reopens the run and event logs after rotation, as SIGHUP
// does, without re-reading anything else.
func (in *instance) ctlReopenLogs(_ context.Context, _ []string, w io.Writer) error {
	if err := in.reopenLogs(); err != nil {
		return err
	}
	fmt.Fprintf(w, "logs reopened: %s, %s\n", in.runLog.Path(), in.events.Path())
	return nil
}

// setStats registers a protocol's statistics for ctl stats and /metrics
// (postern_<proto>_stats_*).
func (in *instance) setStats(proto string, st *observe.Stats) {
	in.mu.Lock()
	in.stats[proto] = st
	in.mu.Unlock()
	observe.PublishStats(proto, st)
}
