package msgauth

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	checkResults = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_smtp_msgauth_results_total",
		Help: "Inbound SMTP check results by method (spf, dkim, dmarc) and RFC 8601 result.",
	}, []string{"method", "result"})
	checkActions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_smtp_msgauth_actions_total",
		Help: "What the inbound checks decided: accept, reject (DMARC p=reject) or tempfail (DNS).",
	}, []string{"action"})
	dkimSigned = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_smtp_dkim_sign_total",
		Help: "Submitted messages by DKIM signing outcome: signed, nokey (no key for the From domain) or error.",
	}, []string{"result"})
)
