package imapserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Command results, the fixed label set of STYLE.md B7.
const (
	resultOK      = "ok"
	resultNo      = "no"
	resultBad     = "bad"
	resultError   = "error"
	resultIOError = "ioerror"
	resultPanic   = "panic"
)

var (
	metricConnections = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_imap_connections_total",
		Help: "IMAP connections accepted, by listener kind and TLS.",
	}, []string{"listener", "tls"})
	metricCommands = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "postern_imap_command_duration_seconds",
		Help:    "IMAP command durations, by verb (from the dispatch table, or unknown) and result.",
		Buckets: []float64{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30},
	}, []string{"cmd", "result"})
	metricAuth = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_imap_auth_attempts_total",
		Help: "IMAP authentication attempts, by mechanism and result.",
	}, []string{"mech", "result"})
	metricPanics = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_imap_panics_total",
		Help: "Panics recovered in IMAP connections (bugs).",
	})
	metricFetchedOctets = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_imap_fetched_octets_total",
		Help: "Octets of message data sent in FETCH responses.",
	})
)
