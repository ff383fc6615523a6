package observe

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// StatsTimeFormat is the original's time format in XTND STATS,
// yyyy-mm-dd hh:mm:ss.
const StatsTimeFormat = "2006-01-02 15:04:05"

// StatsHeader holds the report fields that do not come from the counters.
type StatsHeader struct {
	// Version is the "Version Number" line, e.g. "Postern 0.1.0, linux amd64".
	Version string
	// Level is the "Logging Level" line, e.g. "INFORMATIONAL".
	Level string
}

// WriteStatsReport writes the XTND STATS report of the original (seed
// Table 19-3), every field in its order, one "Name : value" line each,
// with "\n" line endings. POP3's XTND STATS and `postern ctl stats` both
// print it, so they always agree.
func WriteStatsReport(w io.Writer, hdr StatsHeader, s StatsSnapshot) {
	WriteStatsHeader(w, hdr, s)
	WriteStatsCounters(w, s)
}

// WriteStatsHeader writes the first lines of the report: Version Number,
// Logging Level, Current Time, Start Time and CPU Seconds.
func WriteStatsHeader(w io.Writer, hdr StatsHeader, s StatsSnapshot) {
	fmt.Fprintf(w, "Version Number : %s\n", hdr.Version)
	fmt.Fprintf(w, "Logging Level : %s\n", hdr.Level)
	fmt.Fprintf(w, "Current Time : %s\n", s.Now.Format(StatsTimeFormat))
	fmt.Fprintf(w, "Start Time : %s\n", s.Start.Format(StatsTimeFormat))
	fmt.Fprintf(w, "CPU Seconds : %.2f (%d mins, %d secs)\n", s.CPU.Seconds(), int(s.CPU.Minutes()), int(s.CPU.Seconds())%60)
}

// WriteStatsCounters writes the per-protocol counters of the report, from
// Current Threads to the numbered Current Users list.
func WriteStatsCounters(w io.Writer, s StatsSnapshot) {
	rows := []struct {
		name string
		v    int64
	}{
		{"Current Threads", s.CurrentThreads}, {"Total Threads", s.TotalThreads},
		{"Max Threads", s.MaxThreads}, {"Too Many Threads", s.TooManyThreads},
		{"Normal Disconnects", s.NormalDisconnects}, {"Abnormal Disconnects", s.AbnormalDisconnects},
		{"Client Timeouts", s.ClientTimeouts}, {"Blocked Socket Count", s.BlockedSockets},
		{"Retrieved Messages", s.RetrievedMessages}, {"Retrieved Octets", s.RetrievedOctets},
		{"Average Octets", s.AverageOctets}, {"Minimum Octets", s.MinOctets},
		{"Maximum Octets", s.MaxOctets}, {"Auth Failures", s.AuthFailures},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s : %d\n", r.name, r.v)
	}
	fmt.Fprintln(w, "Current Users :")
	for i, u := range s.CurrentUsers {
		fmt.Fprintf(w, "%d. %s\n", i, u)
	}
}

// WriteMailStatsCounters writes the counters of SMTP (submission and
// inbound) and LMTP, which take mail in rather than hand it out: the
// connection lines of the report, then what was received and where it
// went (delivered to local accounts, queued for remote recipients,
// failed), then the authentication failures and the current users.
func WriteMailStatsCounters(w io.Writer, s StatsSnapshot) {
	rows := []struct {
		name string
		v    int64
	}{
		{"Current Threads", s.CurrentThreads}, {"Total Threads", s.TotalThreads},
		{"Max Threads", s.MaxThreads}, {"Too Many Threads", s.TooManyThreads},
		{"Normal Disconnects", s.NormalDisconnects}, {"Abnormal Disconnects", s.AbnormalDisconnects},
		{"Client Timeouts", s.ClientTimeouts},
		{"Received Messages", s.ReceivedMessages}, {"Received Octets", s.ReceivedOctets},
		{"Delivered Recipients", s.DeliveredRecipients}, {"Queued Recipients", s.QueuedRecipients},
		{"Failed Recipients", s.FailedRecipients}, {"Auth Failures", s.AuthFailures},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s : %d\n", r.name, r.v)
	}
	fmt.Fprintln(w, "Current Users :")
	for i, u := range s.CurrentUsers {
		fmt.Fprintf(w, "%d. %s\n", i, u)
	}
}

// StatsLevelName writes a level as the original's XTND STATS did:
// INFORMATIONAL for info, the upper-cased name otherwise.
func StatsLevelName(l slog.Level) string {
	if l == slog.LevelInfo {
		return "INFORMATIONAL"
	}
	return strings.ToUpper(LevelName(l))
}
