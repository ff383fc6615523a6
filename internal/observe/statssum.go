package observe

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// SumStats adds up the snapshots of one protocol taken in several
// processes (the workers of `postern serve`), as the original's single
// server would have counted them: totals and current counts add up,
// maxima take the largest, the minimum message size the smallest non-zero
// one, the average is recomputed, the CPU time is the sum, the current
// users of all are listed, sorted. Start is the earliest, Now the latest.
func SumStats(snaps []StatsSnapshot) StatsSnapshot {
	var out StatsSnapshot
	for i, s := range snaps {
		if i == 0 || s.Start.Before(out.Start) {
			out.Start = s.Start
		}
		if s.Now.After(out.Now) {
			out.Now = s.Now
		}
		out.CPU += s.CPU
		for _, f := range []struct{ dst, src *int64 }{
			{&out.CurrentThreads, &s.CurrentThreads}, {&out.TotalThreads, &s.TotalThreads},
			{&out.TooManyThreads, &s.TooManyThreads}, {&out.NormalDisconnects, &s.NormalDisconnects},
			{&out.AbnormalDisconnects, &s.AbnormalDisconnects}, {&out.ClientTimeouts, &s.ClientTimeouts},
			{&out.BlockedSockets, &s.BlockedSockets}, {&out.RetrievedMessages, &s.RetrievedMessages},
			{&out.RetrievedOctets, &s.RetrievedOctets}, {&out.AuthFailures, &s.AuthFailures},
			{&out.ReceivedMessages, &s.ReceivedMessages}, {&out.ReceivedOctets, &s.ReceivedOctets},
			{&out.DeliveredRecipients, &s.DeliveredRecipients}, {&out.QueuedRecipients, &s.QueuedRecipients},
			{&out.FailedRecipients, &s.FailedRecipients},
		} {
			*f.dst += *f.src
		}
		out.MaxThreads = max(out.MaxThreads, s.MaxThreads)
		out.MaxOctets = max(out.MaxOctets, s.MaxOctets)
		if s.MinOctets != 0 && (out.MinOctets == 0 || s.MinOctets < out.MinOctets) {
			out.MinOctets = s.MinOctets
		}
		out.CurrentUsers = append(out.CurrentUsers, s.CurrentUsers...)
	}
	if out.RetrievedMessages > 0 {
		out.AverageOctets = out.RetrievedOctets / out.RetrievedMessages
	}
	slices.Sort(out.CurrentUsers)
	return out
}

// StatsGatherer returns the /metrics series of the XTND STATS counters
// (postern_<proto>_stats_*) with the values of snaps, by protocol, in
// place of this process's own: a worker of `postern serve` serves the
// sums of every worker with it. A protocol missing from snaps reads 0.
func StatsGatherer(snaps map[string]StatsSnapshot) prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	registerStats(promauto.With(reg), func(proto string) StatsSnapshot { return snaps[proto] })
	return reg
}

// IsStatsMetric reports whether name is one of the XTND STATS series.
func IsStatsMetric(name string) bool {
	for _, proto := range StatsProtocols {
		for _, f := range statsFieldsOf(proto) {
			if name == statsMetricName(proto, f) {
				return true
			}
		}
	}
	return false
}

func statsMetricName(proto string, f statsField) string {
	return "postern_" + proto + "_stats_" + f.metric
}

// registerStats declares, with fac, the series of every field of every
// protocol, read from snap.
func registerStats(fac promauto.Factory, snap func(proto string) StatsSnapshot) {
	for _, proto := range StatsProtocols {
		for _, f := range statsFieldsOf(proto) {
			name := statsMetricName(proto, f)
			help := f.help + " XTND STATS \"" + f.report + "\"."
			get := func() float64 { return float64(f.get(snap(proto))) }
			if f.counter {
				fac.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, get)
			} else {
				fac.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, get)
			}
		}
	}
}
