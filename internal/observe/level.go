package observe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Levels beyond slog's four. See the package documentation for the
// mapping from the original's level names.
const (
	LevelThread    = slog.LevelInfo - 2   // per-connection detail: the original POP THREAD level
	LevelTrace     = slog.LevelDebug - 4  // protocol lines, credentials and message data redacted
	LevelTraceAuth = slog.LevelDebug - 8  // also authentication lines, unredacted
	LevelTraceData = slog.LevelDebug - 12 // also message data
)

// levelNames maps accepted names (lower-case) to levels.
var levelNames = map[string]slog.Level{
	"error":         slog.LevelError,
	"warn":          slog.LevelWarn,
	"warning":       slog.LevelWarn,
	"info":          slog.LevelInfo,
	"informational": slog.LevelInfo,
	"thread":        LevelThread,
	"debug":         slog.LevelDebug,
	"trace":         LevelTrace,
	"traceauth":     LevelTraceAuth,
	"tracedata":     LevelTraceData,
}

// ParseLevel parses a level name, case-insensitively: error, warn
// (warning), info (informational), thread, debug, trace, traceauth,
// tracedata. The original POP names ERROR, INFORMATIONAL, THREAD and DEBUG
// are among them.
func ParseLevel(s string) (slog.Level, error) {
	if l, ok := levelNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want error, warn, info, thread, debug, trace, traceauth or tracedata)", s)
}

// LevelName returns the lower-case name ParseLevel accepts for l, as used
// in "+OK logging level changed to debug"; levels between the named ones
// are written as slog does ("DEBUG+1").
func LevelName(l slog.Level) string {
	switch l {
	case slog.LevelError:
		return "error"
	case slog.LevelWarn:
		return "warn"
	case slog.LevelInfo:
		return "info"
	case LevelThread:
		return "thread"
	case slog.LevelDebug:
		return "debug"
	case LevelTrace:
		return "trace"
	case LevelTraceAuth:
		return "traceauth"
	case LevelTraceData:
		return "tracedata"
	}
	return l.String()
}

// Format selects the log line format.
type Format int

// Log formats.
const (
	FormatText Format = iota // slog text: key=value
	FormatJSON               // one JSON object per line
)

// ParseFormat parses "text" or "json".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "text", "":
		return FormatText, nil
	case "json":
		return FormatJSON, nil
	}
	return 0, fmt.Errorf("unknown log format %q (want text or json)", s)
}

// NewLogger returns a logger writing to w at the level held by level
// (change it at run time for XTND LOGLEVEL and postern ctl loglevel). The
// extra levels are written by name (TRACE, TRACEAUTH, …) instead of slog's
// DEBUG-4. Every key appears once per line (see dedupHandler). Write to
// the terminal and the run log alike with io.MultiWriter(os.Stderr,
// runLog): each record is a single Write.
func NewLogger(w io.Writer, level *slog.LevelVar, format Format) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: replaceLevel}
	var h slog.Handler
	if format == FormatJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(newDedupHandler(h))
}

// replaceLevel writes the level attribute by name.
func replaceLevel(groups []string, a slog.Attr) slog.Attr {
	if a.Key != slog.LevelKey || len(groups) != 0 {
		return a
	}
	if l, ok := a.Value.Any().(slog.Level); ok {
		a.Value = slog.StringValue(strings.ToUpper(LevelName(l)))
	}
	return a
}

// Discard returns a logger that drops everything, for tests and for
// options left unset.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// enabled reports whether l logs at level; a nil logger logs nothing.
func enabled(l *slog.Logger, level slog.Level) bool {
	return l != nil && l.Enabled(context.Background(), level)
}
