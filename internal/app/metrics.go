package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/observe"
)

// metricsGatherTimeout bounds how long /metrics waits for the supervisor.
const metricsGatherTimeout = 5 * time.Second

// metricsGatherer is what a worker's /metrics serves: its own metrics, with
// those of password verification (auth.SharedMetrics) taken from the
// supervisor, which verifies for every worker, and the XTND STATS series
// summed over every live worker (serviceStats), so that /metrics reports
// the whole service whichever worker answers.
func (in *instance) metricsGatherer() prometheus.Gatherer {
	if in.opts.Worker == nil {
		return prometheus.DefaultGatherer
	}
	v := in.opts.Worker.Verifier
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		ctx, cancel := context.WithTimeout(context.Background(), metricsGatherTimeout)
		defer cancel()
		var shared []*dto.MetricFamily
		if v != nil {
			var err error
			if shared, err = v.Metrics(ctx); err != nil {
				return nil, err
			}
		}
		stats, err := observe.StatsGatherer(in.serviceStats(ctx)).Gather()
		if err != nil {
			return nil, err
		}
		return mergeShared(prometheus.DefaultGatherer, append(shared, stats...))
	})
}

// mergeShared gathers g and replaces its families named in
// auth.SharedMetrics and its XTND STATS series by shared, sorted by name
// as the exposition wants.
func mergeShared(g prometheus.Gatherer, shared []*dto.MetricFamily) ([]*dto.MetricFamily, error) {
	mfs, err := g.Gather()
	mfs = slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool {
		return slices.Contains(auth.SharedMetrics, mf.GetName()) || observe.IsStatsMetric(mf.GetName())
	})
	mfs = append(mfs, shared...)
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return mfs, err
}
