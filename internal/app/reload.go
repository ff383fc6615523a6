package app

import (
	"log/slog"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
)

// applyLogLevels sets the process's level and every section's from the
// reloaded configuration (a section without its own Log-Level follows the
// global one).
func (in *instance) applyLogLevels(cfg *config.Config) {
	if lvl, err := observe.ParseLevel(string(cfg.LogLevel)); err == nil {
		in.level.Set(lvl)
	}
	sections := map[string]config.LogLevel{
		"imap": cfg.IMAP.LogLevel, "pop3": cfg.POP.LogLevel, "smtp": cfg.SMTP.LogLevel, "lmtp": cfg.LMTP.LogLevel,
	}
	for pkg, lvs := range in.sectionLevels {
		level, ok := sections[pkg]
		if !ok {
			level = cfg.LogLevel
		}
		lvl, err := observe.ParseLevel(string(level))
		if err != nil {
			continue
		}
		for _, lv := range lvs {
			lv.Set(lvl)
		}
	}
}

// reportRestartNeeded logs, and records in the event log, every option the
// reloaded file changed that a reload does not apply (everything but the
// log levels): listeners, paths, limits… A changed port in particular is
// not bound until a restart, and the administrator must be told so rather
// than find the old port still answering.
func (in *instance) reportRestartNeeded(cfg *config.Config) {
	var pending []string
	for _, ch := range config.Changes(in.cfg, cfg) {
		if ch.Field == "Log-Level" {
			continue // applied
		}
		pending = append(pending, ch.Label()+": "+ch.Old+" -> "+ch.New)
	}
	if len(pending) == 0 {
		in.events.Event(observe.EventReload, slog.String("result", "ok"))
		return
	}
	in.logger.Warn("reload: restart needed to apply these changes; the server keeps running with the old values",
		"changes", strings.Join(pending, "; "))
	in.events.Event(observe.EventReload, slog.String("result", "restart_needed"), slog.String("changes", strings.Join(pending, "; ")))
}
