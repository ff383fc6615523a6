package app

import (
	"io"
	"strings"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
)

// sourceChanges returns the changes between the configuration in effect
// and cfg that concern the account sources (Accounts, the [LDAP] section,
// System-*), and among them those the system source's privileged helper
// was started with (its files and System-Min-UID).
func sourceChanges(old, cfg *config.Config) (all, helper []config.Change) {
	for _, ch := range config.Changes(old, cfg) {
		switch {
		case ch.Section == config.SectionLDAP, ch.Section == config.SectionGlobal && ch.Field == "Accounts":
			all = append(all, ch)
		case ch.Section == config.SectionGlobal && strings.HasPrefix(ch.Field, "System-"):
			all = append(all, ch)
			helper = append(helper, ch)
		}
	}
	return all, helper
}

// prepareSources builds the account sources cfg names, for a reload,
// without putting them in effect; apply is nil when they do not change.
// A source that cannot be built refuses the reload with the message
// `postern check` gives (checkAccountSources), and nothing changes.
//
// The system source keeps the privileged helper the server started (as
// root, before the privileges were dropped, it cannot be started again):
// changed System-* options then stay pending until a restart, with a
// warning. A system source new to the server gets its helper started
// now, as the server's user (docs/accounts.md).
func (in *instance) prepareSources(cfg *config.Config, res *reloadResult) (apply func()) {
	changes, helper := sourceChanges(in.cfg, cfg)
	if len(changes) == 0 {
		return nil
	}
	built := cfg.Clone()
	if in.systemHelper != nil && len(helper) > 0 {
		built.SystemPasswdFile, built.SystemShadowFile, built.SystemMinUID = in.cfg.SystemPasswdFile, in.cfg.SystemShadowFile, in.cfg.SystemMinUID
		for _, ch := range helper {
			in.logger.Warn("reload: the system source's privileged helper keeps its files until a restart",
				"option", ch.Label(), "old", ch.Old, "new", ch.New)
		}
	}
	if in.auth.sources == nil { // no login yet: initAuth builds them from in.cfg
		return func() { in.takeSourceOptions(built, res) }
	}
	sys := in.systemHelper
	if sys == nil {
		sys = startSystemHelper(built, in.logger) // nil when system is not listed
	}
	next, errs := accountSources(built, in.store, in.auth.hasher, in.isLocalDomain, sys, in.logger)
	if len(errs) > 0 {
		closeSources(next)
		if c, ok := sys.(io.Closer); ok && sys != in.systemHelper {
			c.Close()
		}
		for _, err := range errs {
			res.problems = append(res.problems, err.Error())
		}
		return nil
	}
	return func() {
		in.systemHelper = sys
		old := in.auth.sources.Swap(next)
		// Forget every verified login, lest a removed source's users
		// enter from the cache; then close the old directory connections
		// (each busy one when its operation ends).
		in.auth.verifier.Flush()
		closeSources(old)
		in.takeSourceOptions(built, res)
		in.logger.Info("account sources replaced; auth cache flushed", "accounts", strings.Join(built.Accounts, ", "))
	}
}

// takeSourceOptions records the source options of built as in effect, and
// in res those that changed.
func (in *instance) takeSourceOptions(built *config.Config, res *reloadResult) {
	changes, _ := sourceChanges(in.cfg, built)
	in.updateCfg(func(c *config.Config) {
		c.Accounts, c.LDAP = built.Accounts, built.LDAP
		c.SystemPasswdFile, c.SystemShadowFile, c.SystemMinUID = built.SystemPasswdFile, built.SystemShadowFile, built.SystemMinUID
	})
	for _, ch := range changes {
		res.applied = append(res.applied, ch.Label()+": "+ch.New)
	}
}

// closeSources closes what the sources hold open (LDAP connections).
func closeSources(srcs []auth.Source) {
	for _, s := range srcs {
		if c, ok := s.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// checkAccountSources: every source Accounts names can be built (the
// [LDAP] section's CA-File and Bind-Password-File read).
func checkAccountSources(cfg *config.Config) []error {
	srcs, errs := accountSources(cfg, nil, nil, nil, unavailableChecker{}, observe.Discard())
	closeSources(srcs)
	return errs
}

// checkAccountSources builds the system source over unavailableChecker:
// a check reads no shadow file.
var _ source.SystemChecker = unavailableChecker{}
