package queue

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	queueSize = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "postern_smtp_queue_messages", Help: "Messages in the outbound queue.",
	})
	enqueued = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_smtp_queue_enqueued_total", Help: "Messages put in the outbound queue.",
	})
	attempts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_smtp_queue_recipient_attempts_total",
		Help: "Per-recipient delivery attempts by result: delivered, deferred, failed.",
	}, []string{"result"})
	dsnsSent = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_smtp_queue_dsn_total", Help: "Delivery status notifications generated, by action.",
	}, []string{"action"})
)
