package observe

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// statsField is one per-protocol line of the XTND STATS report and the
// /metrics series that carries the same value.
type statsField struct {
	report  string // the report's name, "Current Threads"
	metric  string // the metric name after postern_<proto>_stats_
	counter bool   // only ever grows (a Prometheus counter, name ends _total)
	help    string
	get     func(StatsSnapshot) int64
}

// Fields of WriteStatsCounters (IMAP, POP3) and WriteMailStatsCounters
// (SMTP, LMTP). Current Users becomes the number of logged-in sessions.
var (
	connFields = []statsField{
		{"Current Threads", "current_threads", false, "Connections open now.", func(s StatsSnapshot) int64 { return s.CurrentThreads }},
		{"Total Threads", "threads_total", true, "Connections accepted since the start.", func(s StatsSnapshot) int64 { return s.TotalThreads }},
		{"Max Threads", "max_threads", false, "Most connections open at once since the start.", func(s StatsSnapshot) int64 { return s.MaxThreads }},
		{"Too Many Threads", "too_many_threads_total", true, "Connections refused for a connection limit.", func(s StatsSnapshot) int64 { return s.TooManyThreads }},
		{"Normal Disconnects", "normal_disconnects_total", true, "Connections the client ended by logging out.", func(s StatsSnapshot) int64 { return s.NormalDisconnects }},
		{"Abnormal Disconnects", "abnormal_disconnects_total", true, "Connections ended by an I/O error, abuse or shutdown.", func(s StatsSnapshot) int64 { return s.AbnormalDisconnects }},
		{"Client Timeouts", "client_timeouts_total", true, "Connections closed because the client was idle too long.", func(s StatsSnapshot) int64 { return s.ClientTimeouts }},
	}
	retrievalFields = []statsField{
		{"Blocked Socket Count", "blocked_sockets_total", true, "Writes that blocked past their deadline (the client stopped reading).", func(s StatsSnapshot) int64 { return s.BlockedSockets }},
		{"Retrieved Messages", "retrieved_messages_total", true, "Messages sent to clients in full.", func(s StatsSnapshot) int64 { return s.RetrievedMessages }},
		{"Retrieved Octets", "retrieved_octets_total", true, "Octets of the messages sent in full.", func(s StatsSnapshot) int64 { return s.RetrievedOctets }},
		{"Average Octets", "average_octets", false, "Average size of a message sent in full (0 before the first).", func(s StatsSnapshot) int64 { return s.AverageOctets }},
		{"Minimum Octets", "minimum_octets", false, "Smallest message sent in full (0 before the first).", func(s StatsSnapshot) int64 { return s.MinOctets }},
		{"Maximum Octets", "maximum_octets", false, "Largest message sent in full.", func(s StatsSnapshot) int64 { return s.MaxOctets }},
	}
	mailFields = []statsField{
		{"Received Messages", "received_messages_total", true, "Messages taken in and handed to delivery.", func(s StatsSnapshot) int64 { return s.ReceivedMessages }},
		{"Received Octets", "received_octets_total", true, "Octets of the messages taken in.", func(s StatsSnapshot) int64 { return s.ReceivedOctets }},
		{"Delivered Recipients", "delivered_recipients_total", true, "Local deliveries (one per account reached).", func(s StatsSnapshot) int64 { return s.DeliveredRecipients }},
		{"Queued Recipients", "queued_recipients_total", true, "Remote recipients handed to the outbound queue.", func(s StatsSnapshot) int64 { return s.QueuedRecipients }},
		{"Failed Recipients", "failed_recipients_total", true, "Recipients whose delivery failed after the data.", func(s StatsSnapshot) int64 { return s.FailedRecipients }},
	}
	userFields = []statsField{
		{"Auth Failures", "auth_failures_total", true, "Failed authentications.", func(s StatsSnapshot) int64 { return s.AuthFailures }},
		{"Current Users", "current_users", false, "Logged-in sessions (the report lists their user names).", func(s StatsSnapshot) int64 { return int64(len(s.CurrentUsers)) }},
	}
)

// StatsProtocols are the protocols whose XTND STATS counters /metrics
// exports, the section names of `postern ctl stats`.
var StatsProtocols = []string{"imap", "pop3", "smtp", "lmtp"}

// statsFieldsOf returns the report lines of proto: the mail counters for
// SMTP and LMTP, the retrieval counters for IMAP and POP3.
func statsFieldsOf(proto string) []statsField {
	f := append([]statsField{}, connFields...)
	if proto == "smtp" || proto == "lmtp" {
		f = append(f, mailFields...)
	} else {
		f = append(f, retrievalFields...)
	}
	return append(f, userFields...)
}

// published holds the Stats each protocol's /metrics series read.
var published struct {
	sync.Mutex
	stats map[string]*Stats
}

// PublishStats makes s the counters /metrics exports for proto (one of
// StatsProtocols), replacing any earlier ones; until then they read 0.
func PublishStats(proto string, s *Stats) {
	published.Lock()
	defer published.Unlock()
	if published.stats == nil {
		published.stats = make(map[string]*Stats)
	}
	published.stats[proto] = s
}

func publishedSnapshot(proto string) StatsSnapshot {
	published.Lock()
	s := published.stats[proto]
	published.Unlock()
	if s == nil {
		return StatsSnapshot{}
	}
	return s.Snapshot()
}

// Every XTND STATS counter of every protocol, as
// postern_<proto>_stats_<field> (docs/operations.md, Monitoring).
func init() {
	registerStats(promauto.With(prometheus.DefaultRegisterer), publishedSnapshot)
}
