package milter

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var milterResults = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "postern_smtp_milter_results_total",
	Help: "Milter verdicts: accept, reject, tempfail, reply, discard, or unavailable (the default action applied).",
}, []string{"result"})
