package smtpserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// protoMetrics are the metrics of one protocol segment ("smtp" or "lmtp";
// STYLE.md B7 keeps the segment identical across protocols).
type protoMetrics struct {
	connections *prometheus.CounterVec   // listener, tls
	commands    *prometheus.HistogramVec // cmd, result
	deliveries  *prometheus.CounterVec   // result
	authTotal   *prometheus.CounterVec   // mech, result
	panics      prometheus.Counter
}

func newProtoMetrics(proto string) *protoMetrics {
	p := "postern_" + proto + "_"
	return &protoMetrics{
		connections: promauto.NewCounterVec(prometheus.CounterOpts{
			Name: p + "connections_total", Help: "Connections accepted.",
		}, []string{"listener", "tls"}),
		commands: promauto.NewHistogramVec(prometheus.HistogramOpts{
			Name: p + "command_duration_seconds", Help: "Duration of the transaction commands the backend sees.",
			Buckets: []float64{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30},
		}, []string{"cmd", "result"}),
		deliveries: promauto.NewCounterVec(prometheus.CounterOpts{
			Name: p + "deliveries_total", Help: "Per-recipient outcomes after DATA: ok (stored or queued), rejected (5xx) or deferred (4xx).",
		}, []string{"result"}),
		authTotal: promauto.NewCounterVec(prometheus.CounterOpts{
			Name: p + "auth_attempts_total", Help: "AUTH attempts by mechanism and result.",
		}, []string{"mech", "result"}),
		panics: promauto.NewCounter(prometheus.CounterOpts{
			Name: p + "panics_total", Help: "Panics recovered while serving a connection.",
		}),
	}
}

// Metrics are package-level, as promauto registration is once per process.
var (
	smtpMetrics = newProtoMetrics("smtp")
	lmtpMetrics = newProtoMetrics("lmtp")
)
