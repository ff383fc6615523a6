package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/store"
)

// AccountSources builds the account sources of the global Accounts option,
// in its order (docs/accounts.md). Validate admits only the sources this
// version has. An outside source that cannot be set up (a CA or password
// file that cannot be read) is logged and left out: its users cannot log
// in, and no other source answers for them by mistake.
//
// sys answers for the host's accounts (the system source): the privileged
// helper in a server (StartSystemHelper); nil reads the files in this
// process, for commands an administrator runs.
func AccountSources(cfg *config.Config, st store.Store, hasher *auth.Hasher, localDomain func(string) bool,
	sys source.SystemChecker, logger *slog.Logger) []auth.Source {
	if sys == nil {
		sys = SystemFiles(cfg, hasher, logger)
	}
	out, errs := accountSources(cfg, st, hasher, localDomain, sys, logger)
	for _, err := range errs {
		logger.Error("account source off", "err", err)
	}
	return out
}

// accountSources builds the sources of Accounts over sys, leaving out
// and returning the error of each that cannot be built.
func accountSources(cfg *config.Config, st store.Store, hasher *auth.Hasher, localDomain func(string) bool,
	sys source.SystemChecker, logger *slog.Logger) ([]auth.Source, []error) {
	var out []auth.Source
	var errs []error
	for _, name := range cfg.Accounts {
		switch strings.ToLower(name) {
		case auth.SourceLocal:
			out = append(out, auth.NewLocalSource(st, hasher, localDomain))
		case source.SourceSystem:
			out = append(out, source.NewSystem(sys, st, localDomain))
		case source.SourceLDAP:
			src, err := newLDAPSource(cfg, st, hasher, logger)
			if err != nil {
				errs = append(errs, fmt.Errorf("ldap account source: %w", err))
				continue
			}
			out = append(out, src)
		}
	}
	return out, errs
}

// newLDAPSource builds the ldap source of the [LDAP] section.
func newLDAPSource(cfg *config.Config, st store.Store, hasher *auth.Hasher, logger *slog.Logger) (*source.LDAP, error) {
	l := cfg.LDAP
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if l.CAFile != "" {
		pem, err := os.ReadFile(l.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA-File: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA-File %s: no PEM certificate", l.CAFile)
		}
	}
	var pass string
	if l.BindPasswordFile != "" {
		b, err := os.ReadFile(l.BindPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("Bind-Password-File: %w", err)
		}
		pass, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
		if pass == "" {
			return nil, errors.New("Bind-Password-File: empty password")
		}
	}
	return source.NewLDAP(source.LDAPOptions{
		URLs: l.ServerURLs, StartTLS: l.StartTLS, TLS: tc, BindDN: l.BindDN, BindPass: pass, BaseDN: l.BaseDN,
		UserFilter: l.UserFilter, MailFilter: l.MailFilter, NameAttr: l.NameAttribute, MailAttr: l.MailAttribute,
		BindAsUser: l.BindAsUser, Timeout: l.Timeout,
		Store: st, Hasher: hasher, Logger: logger.With("pkg", "ldap"),
	})
}

// SystemFiles is the privileged part of the system source over the
// configured files.
func SystemFiles(cfg *config.Config, hasher *auth.Hasher, logger *slog.Logger) *source.SystemFiles {
	return &source.SystemFiles{PasswdFile: cfg.SystemPasswdFile, ShadowFile: cfg.SystemShadowFile,
		MinUID: cfg.SystemMinUID, Hasher: hasher, Logger: logger}
}

// startSystemHelper starts the privileged helper of the system source
// when Accounts lists it, before the privileges are dropped; nil when
// the source is not used or the helper cannot start (logged: the system
// source then answers every login with a temporary failure).
func startSystemHelper(cfg *config.Config, logger *slog.Logger) source.SystemChecker {
	used := false
	for _, name := range cfg.Accounts {
		used = used || strings.EqualFold(name, source.SourceSystem)
	}
	if !used {
		return nil
	}
	exe, err := os.Executable()
	if err == nil {
		var h *source.SystemHelper
		if h, err = source.StartSystemHelper(exe, cfg.SystemPasswdFile, cfg.SystemShadowFile, cfg.SystemMinUID); err == nil {
			return h
		}
	}
	logger.Error("system account source: privileged helper not started", "err", err)
	return unavailableChecker{err}
}

// unavailableChecker answers every question with a temporary failure.
type unavailableChecker struct{ err error }

func (u unavailableChecker) LookupUser(context.Context, string) (source.SystemUser, bool, error) {
	return source.SystemUser{}, false, fmt.Errorf("%w: %v", auth.ErrUnavailable, u.err)
}

func (u unavailableChecker) VerifyUser(context.Context, string, string) (bool, error) {
	return false, fmt.Errorf("%w: %v", auth.ErrUnavailable, u.err)
}
