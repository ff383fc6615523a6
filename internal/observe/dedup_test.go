package observe

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestNoDuplicateKeys: a key set by the logger and again by the record, or
// by two With calls, is written once, with the most specific value; an
// attribute named level or msg does not clash with the handler's own.
func TestNoDuplicateKeys(t *testing.T) {
	for _, format := range []Format{FormatText, FormatJSON} {
		var b bytes.Buffer
		lv := new(slog.LevelVar)
		log := NewLogger(&b, lv, format).With("pkg", "imap", "proto", "imap", "remote", "192.0.2.1:5000")
		log = log.With(slog.String("user", "alice"))
		log.Info("authentication succeeded", "proto", "imap", "remote", "192.0.2.1", "user", "alice", "level", "DEBUG", "mech", "PLAIN")
		log.WithGroup("g").Info("grouped", "level", "x", "a", 1, "a", 2)
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines: %q", len(lines), b.String())
		}
		first := lines[0]
		if format == FormatJSON {
			var m map[string]any
			if err := json.Unmarshal([]byte(first), &m); err != nil {
				t.Fatal(err)
			}
			if m["remote"] != "192.0.2.1" || m["attr_level"] != "DEBUG" || m["level"] != "INFO" {
				t.Errorf("json: %s", first)
			}
		} else if !strings.Contains(first, " remote=192.0.2.1 ") || !strings.Contains(first, " attr_level=DEBUG ") {
			t.Errorf("text: %s", first)
		}
		for _, key := range []string{"proto", "remote", "user", "level", "pkg", "mech"} {
			if n := strings.Count(first, " "+key+"=") + strings.Count(first, `"`+key+`":`); n != 1 {
				t.Errorf("format %d: key %s %d times in %s", format, key, n, first)
			}
		}
		if g := lines[1]; strings.Count(g, "a=")+strings.Count(g, `"a":`) != 1 || !strings.Contains(g, "g.a=2") && !strings.Contains(g, `"g":{"level":"x","a":2}`) {
			t.Errorf("format %d: grouped line %s", format, g)
		}
	}
}
