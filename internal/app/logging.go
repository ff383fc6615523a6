package app

import (
	"io"
	"log/slog"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
)

// sectionLogger is a logger at a section's own Log-Level (the global one
// when the section sets none), writing where the process logger writes.
func sectionLogger(in *instance, level config.LogLevel, pkg string) *slog.Logger {
	logger, _ := sectionLevel(in, level, pkg)
	return logger
}

// sectionLevel is sectionLogger that also returns the level, for servers
// that change it at run time (XTND LOGLEVEL). Every section level is
// registered, so `postern ctl loglevel` changes them all at once.
func sectionLevel(in *instance, level config.LogLevel, pkg string) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	if l, err := observe.ParseLevel(string(level)); err == nil {
		lv.Set(l)
	} else {
		lv.Set(in.level.Level())
	}
	in.mu.Lock()
	in.levels = append(in.levels, lv)
	if in.sectionLevels == nil {
		in.sectionLevels = map[string][]*slog.LevelVar{}
	}
	in.sectionLevels[pkg] = append(in.sectionLevels[pkg], lv)
	in.mu.Unlock()
	var out io.Writer = in.opts.Stderr
	if in.runLog != nil {
		out = io.MultiWriter(in.opts.Stderr, in.runLog)
	}
	return observe.NewLogger(out, lv, in.format).With("pkg", pkg), lv
}
