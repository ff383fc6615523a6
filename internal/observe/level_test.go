package observe

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	good := map[string]slog.Level{
		// The original POP levels (XTND LOGLEVEL, TCPIP$POP_LOG_LEVEL).
		"ERROR":         slog.LevelError,
		"INFORMATIONAL": slog.LevelInfo,
		"THREAD":        LevelThread,
		"DEBUG":         slog.LevelDebug,
		// Modern names.
		"error":     slog.LevelError,
		"warn":      slog.LevelWarn,
		"Warning":   slog.LevelWarn,
		"info":      slog.LevelInfo,
		"debug":     slog.LevelDebug,
		"trace":     LevelTrace,
		"TraceAuth": LevelTraceAuth,
		"tracedata": LevelTraceData,
		" info ":    slog.LevelInfo,
	}
	for name, want := range good {
		got, err := ParseLevel(name)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for _, bad := range []string{"", "verbose", "debug2", "-4"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) succeeded", bad)
		}
	}
	// LevelName round-trips.
	for _, l := range []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelInfo, LevelThread, slog.LevelDebug, LevelTrace, LevelTraceAuth, LevelTraceData} {
		if got, err := ParseLevel(LevelName(l)); err != nil || got != l {
			t.Errorf("round trip of %v: %v %v", l, got, err)
		}
	}
	if LevelThread <= LevelTrace || LevelThread >= slog.LevelInfo || LevelThread <= slog.LevelDebug {
		t.Error("level order broken")
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	var lv slog.LevelVar
	lv.Set(LevelTrace)
	l := NewLogger(&buf, &lv, FormatText)
	l.Log(t.Context(), LevelTrace, "protocol line", "line", "a1 NOOP")
	l.Log(t.Context(), LevelTraceAuth, "hidden")
	if !strings.Contains(buf.String(), "level=TRACE msg=\"protocol line\"") || strings.Contains(buf.String(), "hidden") {
		t.Errorf("text output: %s", buf.String())
	}

	buf.Reset()
	lv.Set(slog.LevelInfo) // run-time change (XTND LOGLEVEL)
	l = NewLogger(&buf, &lv, FormatJSON)
	l.Debug("nope")
	l.Info("imap command done", "cmd", "NOOP")
	if !strings.Contains(buf.String(), `"level":"INFO"`) || strings.Contains(buf.String(), "nope") {
		t.Errorf("json output: %s", buf.String())
	}
}
