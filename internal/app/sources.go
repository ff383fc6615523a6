package app

import (
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
func AccountSources(cfg *config.Config, st store.Store, hasher *auth.Hasher, localDomain func(string) bool, logger *slog.Logger) []auth.Source {
	var out []auth.Source
	for _, name := range cfg.Accounts {
		switch strings.ToLower(name) {
		case auth.SourceLocal:
			out = append(out, auth.NewLocalSource(st, hasher, localDomain))
		case source.SourceLDAP:
			src, err := newLDAPSource(cfg, st, hasher, logger)
			if err != nil {
				logger.Error("ldap account source off", "err", err)
				continue
			}
			out = append(out, src)
		}
	}
	return out
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
