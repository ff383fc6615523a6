package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"time"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
)

// Statistics of the whole service. Under `postern serve` each worker
// counts its own connections; POP3's XTND STATS and /metrics report the
// sums over every live worker, as `postern ctl stats` does: a worker asks
// the supervisor (ctl stats-sum), which asks each worker (ctl stats-json)
// and adds them up (observe.SumStats).

// serviceStatsTimeout bounds a worker's question to the supervisor; past
// it the worker reports its own counters.
const serviceStatsTimeout = 5 * time.Second

// ctlStatsJSON is a worker's "stats-json": its counters by protocol.
func (in *instance) ctlStatsJSON(_ context.Context, _ []string, w io.Writer) error {
	in.mu.Lock()
	stats := maps.Clone(in.stats)
	in.mu.Unlock()
	out := map[string]observe.StatsSnapshot{}
	for name, s := range stats {
		out[name] = s.Snapshot()
	}
	return json.NewEncoder(w).Encode(out)
}

// ctlStatsSum is the supervisor's "stats-sum": every live worker's
// counters summed by protocol, with the supervisor's start time.
func (sv *supervisor) ctlStatsSum(ctx context.Context, _ []string, w io.Writer) error {
	byProto := map[string][]observe.StatsSnapshot{}
	for _, wk := range sv.live() {
		var b bytes.Buffer
		if err := server.CtlRequest(ctx, wk.ctlPath, "stats-json", &b); err != nil {
			continue // a worker that just exited
		}
		var m map[string]observe.StatsSnapshot
		if err := json.Unmarshal(b.Bytes(), &m); err != nil {
			continue
		}
		for name, s := range m {
			byProto[name] = append(byProto[name], s)
		}
	}
	out := map[string]observe.StatsSnapshot{}
	for name, snaps := range byProto {
		s := observe.SumStats(snaps)
		s.Start = sv.in.started
		out[name] = s
	}
	return json.NewEncoder(w).Encode(out)
}

// serviceStats returns the counters of the whole service by protocol:
// the supervisor's sums in a worker, else this process's own (also when
// the supervisor does not answer).
func (in *instance) serviceStats(ctx context.Context) map[string]observe.StatsSnapshot {
	if in.worker != nil {
		ctx, cancel := context.WithTimeout(ctx, serviceStatsTimeout)
		defer cancel()
		var b bytes.Buffer
		var m map[string]observe.StatsSnapshot
		err := server.CtlRequest(ctx, in.cfgNow().ControlSocket, "stats-sum", &b)
		if err == nil {
			err = json.Unmarshal(b.Bytes(), &m)
		}
		if err == nil {
			return m
		}
		in.logger.Warn("statistics of this worker alone: the supervisor did not answer", "err", err)
	}
	in.mu.Lock()
	stats := maps.Clone(in.stats)
	in.mu.Unlock()
	out := map[string]observe.StatsSnapshot{}
	for name, s := range stats {
		out[name] = s.Snapshot()
	}
	return out
}

// serviceStatsOf is XTND STATS' source for proto in a worker (nil
// elsewhere: the server's own counters are the service's).
func (in *instance) serviceStatsOf(proto string, own *observe.Stats) func(context.Context) observe.StatsSnapshot {
	if in.worker == nil {
		return nil
	}
	return func(ctx context.Context) observe.StatsSnapshot {
		if s, ok := in.serviceStats(ctx)[proto]; ok {
			return s
		}
		return own.Snapshot()
	}
}
