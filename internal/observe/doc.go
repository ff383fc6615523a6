// Package observe holds what every Postern service uses to be watched: slog
// setup with trace levels, the run log, the event log, the protocol trace
// facility, the XTND STATS counters and the /metrics handler. It is a leaf:
// it imports no other Postern package, and configuration arrives as plain
// parameters.
//
// # Levels
//
// Below slog's four levels are three trace levels (mox mlog): [LevelTrace]
// logs protocol lines with credentials and message data redacted,
// [LevelTraceAuth] also logs authentication lines unredacted, and
// [LevelTraceData] also logs message data. Between Info and Debug is
// [LevelThread], the original POP server's THREAD level. [ParseLevel]
// accepts, case-insensitively, the modern names and the original POP
// levels of XTND LOGLEVEL and TCPIP$POP_LOG_LEVEL:
//
//	ERROR          error     slog.LevelError
//	               warn      slog.LevelWarn    (alias warning)
//	INFORMATIONAL  info      slog.LevelInfo    (default)
//	THREAD         thread    LevelThread       (Info-2: per-connection detail)
//	DEBUG          debug     slog.LevelDebug   (one line per command)
//	               trace     LevelTrace        (Debug-4)
//	               traceauth LevelTraceAuth    (Debug-8)
//	               tracedata LevelTraceData    (Debug-12)
//
// DEBUG maps to slog's Debug, not to trace: the original kept its protocol
// trace behind a separate switch (TCPIP$POP_TRACE, Server-Trace), and
// names are case-insensitive, so "DEBUG" and "debug" must mean the same.
//
// # Files
//
// All files live in the Log-Directory:
//
//	postern-run.log                                  run log (POP_RUN.LOG, TCPIP$IMAP_RUN.LOG)
//	postern-event-<NODE>.log                         event log (TCPIP$IMAP_EVENT$node.LOG)
//	postern-<proto>-<NODE>-<mmddhhmmss>-trace.log        trace, one file per server start
//	postern-<proto>-<NODE>-<mmddhhmmss>-<cid>-trace.log  trace, one file per connection
//
// NODE is [NodeName] of the host name: the first label, upper-cased, like
// an OpenVMS node name. Timestamps in file names are UTC.
//
// # Event log format
//
// One line per event, written with a single write(2):
//
//	2026-11-25T19:42:55.123Z AUTHFAIL proto=pop3 remote=203.0.113.9 user=alice mech=USER reason="bad password"
//
// Fields: an RFC 3339 UTC timestamp with milliseconds, the event kind in
// capitals ([EventStart], [EventStop], [EventShutdown], [EventReload],
// [EventAuthFail], [EventReject]), then key=value pairs. Keys are
// [a-z0-9_]. A value made only of letters, digits and ._:/@+- is written
// bare; anything else is written as a Go quoted string (strconv.Quote), so
// control characters, quotes and spaces are escaped and a value can never
// end the line or fake another one. For AUTHFAIL and REJECT the proto and
// remote fields always come first, so a fail2ban filter anchored at the
// start of the line cannot be fooled by a crafted user name:
//
//	failregex = ^\S+ AUTHFAIL proto=\S+ remote=<HOST>( |$)
//
// # Trace files
//
// Each line is "<timestamp> <cid> <dir> <text>", dir being "C:" (from the
// client), "S:" (from the server) or "--" (connect and close notes).
// Passwords never reach a trace file: protocols pass client lines through
// a Redactor or use ConnTrace.ClientSecret. Message data is summarised as
// "[N bytes of message data]" unless data tracing is on. Trace-Synch
// sets the flush cadence; see [TraceOptions].
//
// Invariants: no package-level mutable state except Prometheus metrics;
// every type here is safe for concurrent use unless its documentation says
// otherwise.
package observe
