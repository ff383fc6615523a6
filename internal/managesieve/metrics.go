package managesieve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricConnections = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_managesieve_connections_total", Help: "ManageSieve connections accepted.",
	}, []string{"tls"})
	metricCommands = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_managesieve_commands_total", Help: "ManageSieve commands by verb and result.",
	}, []string{"cmd", "result"})
	metricAuth = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_managesieve_auth_attempts_total", Help: "ManageSieve AUTHENTICATE attempts.",
	}, []string{"mech", "result"})
	metricPanics = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_managesieve_panics_total", Help: "ManageSieve connections ended by a recovered panic.",
	})
)
