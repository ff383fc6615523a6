package sqlite

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// opDuration measures every store operation. op is one of a fixed set of
// method names (never user input).
var opDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "postern_store_op_duration_seconds",
	Help:    "Duration of mail store operations.",
	Buckets: []float64{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10},
}, []string{"op"})

// observe records the duration of op since start; use it deferred.
func observe(op string, start time.Time) {
	opDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
