package observe

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Process-level gauges. Protocol metrics live in the protocol packages
// (STYLE.md B7); the default registry already has the Go runtime and
// process collectors (process_resident_memory_bytes and friends).
var (
	_ = promauto.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "postern_process_peak_rss_bytes",
		Help: "Peak resident set size of the process (VmHWM), the modern form of the original's Peak virtual size.",
	}, func() float64 { return float64(ReadMemory().PeakRSS) })
	_ = promauto.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "postern_process_peak_virtual_bytes",
		Help: "Peak virtual memory size of the process (VmPeak); 0 where /proc is not available.",
	}, func() float64 { return float64(ReadMemory().PeakVirtual) })
)

// MetricsHandler returns the /metrics HTTP handler for every metric registered
// with the default registry (promauto's), in the Prometheus text or
// OpenMetrics format the scraper asks for.
func MetricsHandler() http.Handler {
	return MetricsHandlerFor(prometheus.DefaultGatherer)
}

// MetricsHandlerFor is MetricsHandler for the metrics of g.
func MetricsHandlerFor(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
	})
}
