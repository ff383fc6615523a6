package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricAcceptErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_admission_accept_errors_total",
		Help: "Accept errors retried or recovered, by listener and kind (temporary, descriptors, failed).",
	}, []string{"listener", "kind"})
	metricRefused = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_admission_refused_total",
		Help: "Connections refused with the protocol's temporary reply, by listener and reason " +
			"(per_ip, preauth, service, rate, busy, memory).",
	}, []string{"listener", "reason"})
	metricMemoryPressure = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "postern_memory_pressure",
		Help: "1 while the process is near its memory limit (new connections refused), else 0.",
	})
	metricMemoryPressureEvents = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_memory_pressure_total",
		Help: "Times the process reached 90% of its memory limit.",
	})
	metricListenerFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_listener_failures_total",
		Help: "Listeners that failed with a permanent accept error and were re-created, by listener.",
	}, []string{"listener"})
)

// CountFailure counts a failed listener that was restarted elsewhere (app
// serving a listener again after its Serve returned), in the same metric.
func CountFailure(label string) { metricListenerFailures.WithLabelValues(label).Inc() }
