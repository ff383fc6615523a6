package pop3server

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
		Name: "postern_pop3_connections_total",
		Help: "POP3 connections accepted, by listener kind and TLS.",
	}, []string{"listener", "tls"})
	metricCommands = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "postern_pop3_command_duration_seconds",
		Help:    "POP3 command durations, by verb and result.",
		Buckets: []float64{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30},
	}, []string{"cmd", "result"})
	metricAuth = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_pop3_auth_attempts_total",
		Help: "POP3 authentication attempts, by mechanism and result.",
	}, []string{"mech", "result"})
	metricPanics = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_pop3_panics_total",
		Help: "Panics recovered in POP3 connections (bugs).",
	})
	metricBadInput = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_pop3_bad_input_total",
		Help: "POP3 input refused before dispatch, by kind: long_line, binary, unknown, state.",
	}, []string{"kind"})
	metricRetrieved = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_pop3_retrieved_octets_total",
		Help: "Octets of messages sent by RETR.",
	})
)
