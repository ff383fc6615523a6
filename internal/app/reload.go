package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
)

// reloadResult is what one reload did, for the log, the event log and
// `postern ctl reload`.
type reloadResult struct {
	problems []string // the file's problems: it was refused, nothing changed
	applied  []string // changes now in effect
	failed   []string // changes that could not be applied (a port in use)
	pending  []string // changes that need a restart
}

// reloadRequest asks the run loop for a reload (`postern ctl reload`).
type reloadRequest struct{ reply chan *reloadResult }

// reload reopens the logs (log rotation), re-reads the certificates (a
// renewal must not wait for a fix of the configuration) and reads the
// configuration file again. A file with problems is refused with the
// messages `postern check` gives, and nothing else changes. Otherwise it
// sets the log levels, turns protocols on and off and moves listeners to new
// ports as the file says, without ending any session (turned-off services
// and moved listeners stop accepting; their sessions go on until they
// end), replaces the account sources (prepareSources: one that cannot be
// built refuses the file), and reloads the recipient tables. Every other
// change needs a
// restart, and the log says which. It runs on the run loop only, which
// owns in.cfg and in.services.
func (in *instance) reload(ctx context.Context) *reloadResult {
	res := &reloadResult{}
	in.reopenLogs()
	in.reloadTLS()
	if in.opts.ConfigPath == "" {
		in.events.Event(observe.EventReload, slog.String("result", "ok"))
		in.logger.Info("reload done", "config", "quickstart")
		return res
	}
	cfg, err := in.loadConfig()
	if err != nil {
		var list *config.ErrorList
		if errors.As(err, &list) {
			for _, e := range *list {
				res.problems = append(res.problems, e.Error())
			}
		} else {
			res.problems = []string{err.Error()}
		}
	}
	var applySources func()
	if err == nil {
		applySources = in.prepareSources(cfg, res)
	}
	if len(res.problems) > 0 {
		in.events.Event(observe.EventReload, slog.String("result", "error"))
		in.logger.Error("reload refused: the configuration has problems; nothing changed",
			"problems", strings.Join(res.problems, "; "))
		return res
	}
	for _, w := range cfg.Warnings() {
		in.logger.Warn("configuration", "warning", w.Error())
	}
	in.applyLogLevels(cfg)
	in.applyServices(ctx, cfg, res)
	if applySources != nil {
		applySources()
	}
	if in.auth.domains != nil {
		if err := in.auth.domains.Reload(); err != nil {
			in.logger.Error("reload local domains for logins failed; keeping the old ones", "err", err)
		}
	}
	for _, s := range in.services {
		if r, ok := s.impl.(interface{ Reload() error }); ok {
			if err := r.Reload(); err != nil {
				in.logger.Error("reload recipient tables failed; keeping the old ones", "service", s.name, "err", err)
			}
		}
	}
	in.reportReload(cfg, res)
	in.logger.Info("reload done", "config", in.opts.ConfigPath, "log_level", cfg.LogLevel)
	return res
}

// loadConfig reads the configuration file again, through the privileged
// reader when the server has one (after the switch to Run-As-User the
// file may be readable by root alone), else itself.
func (in *instance) loadConfig() (*config.Config, error) {
	path := in.opts.ConfigPath
	if in.fileReader != nil {
		if abs, err := filepath.Abs(path); err == nil {
			if data, _, err := in.fileReader.ReadFile(abs); err == nil {
				return config.Parse(path, bytes.NewReader(data), in.opts.Environ())
			}
		}
	}
	return config.Load(path, in.opts.Environ())
}

func (in *instance) reloadTLS() {
	if err := in.tls.reload(in.logger); err != nil {
		in.logger.Error("reload certificates failed; keeping the old ones", "err", err)
	}
}

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
	in.mu.Lock()
	defer in.mu.Unlock()
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

// reportReload logs, and records in the event log, what the reload did
// and every option the reloaded file changed that a reload does not
// apply: the server keeps running with the old value, and the
// administrator must be told so rather than find it still in effect.
func (in *instance) reportReload(cfg *config.Config, res *reloadResult) {
	for _, ch := range config.Changes(in.cfg, cfg) {
		if ch.Field == "Log-Level" {
			continue // applied
		}
		res.pending = append(res.pending, ch.Label()+": "+ch.Old+" -> "+ch.New)
	}
	attrs := []slog.Attr{slog.String("result", "ok")}
	if len(res.applied) > 0 {
		attrs = append(attrs, slog.String("applied", strings.Join(res.applied, "; ")))
		in.logger.Info("reload applied", "changes", strings.Join(res.applied, "; "))
	}
	if len(res.failed) > 0 {
		attrs[0] = slog.String("result", "failed")
		attrs = append(attrs, slog.String("failed", strings.Join(res.failed, "; ")))
		in.logger.Error("reload could not apply these changes; the old values stay in effect", "changes", strings.Join(res.failed, "; "))
	}
	if len(res.pending) > 0 {
		if len(res.failed) == 0 {
			attrs[0] = slog.String("result", "restart_needed")
		}
		attrs = append(attrs, slog.String("changes", strings.Join(res.pending, "; ")))
		in.logger.Warn("reload: restart needed to apply these changes; the server keeps running with the old values",
			"changes", strings.Join(res.pending, "; "))
	}
	in.events.Event(observe.EventReload, attrs...)
}

// ctlReload is `postern ctl reload`: the run loop reloads, as on SIGHUP,
// and the outcome is printed; a refused file fails with its problems.
func (in *instance) ctlReload(ctx context.Context, _ []string, w io.Writer) error {
	req := reloadRequest{reply: make(chan *reloadResult, 1)}
	select {
	case in.reloads <- req:
	case <-in.stop:
		return errors.New("the server is stopping")
	case <-ctx.Done():
		return ctx.Err()
	}
	var res *reloadResult
	select {
	case res = <-req.reply:
	case <-time.After(2 * time.Minute):
		return errors.New("reload did not finish within 2 minutes")
	}
	for _, p := range res.problems {
		fmt.Fprintln(w, p)
	}
	if len(res.problems) > 0 {
		return fmt.Errorf("configuration refused: %d problem(s); nothing changed", len(res.problems))
	}
	for _, a := range res.applied {
		fmt.Fprintln(w, "applied: "+a)
	}
	for _, p := range res.pending {
		fmt.Fprintln(w, "restart needed: "+p)
	}
	for _, f := range res.failed {
		fmt.Fprintln(w, "failed: "+f)
	}
	if len(res.failed) > 0 {
		return fmt.Errorf("%d change(s) could not be applied", len(res.failed))
	}
	fmt.Fprintln(w, "reload done")
	return nil
}

// portText formats a port for messages (0 is off).
func portText(p int) string {
	if p == 0 {
		return "0 (off)"
	}
	return strconv.Itoa(p)
}
