package app

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/delivery"
	"github.com/postern/postern/internal/store"
)

// authShared is what every protocol's Authenticator shares: one verifier
// (auth.Verifier) holding the password-hash queue, whose cap on concurrent
// argon2id computations bounds their memory, the verified-credentials
// cache, so that a password verified over IMAP is not hashed again for
// SMTP, and the failure-throttle table, so that an address's failures
// count across POP3, IMAP and SMTP together. In a worker of `postern
// serve` the verifier is the supervisor's, reached over a socket, and so
// shared by every worker too (docs/supervisor.md); elsewhere it is this
// process's own.
type authShared struct {
	// hasher computes the hashes that stay in this process: a credential
	// upgrade after a login with an outdated hash (rare), and, without a
	// supervisor, every verification.
	hasher   *auth.Hasher
	verifier auth.Verifier
	// domains knows the site's own domains (Hostname, Substitute-Domain,
	// Local-Domains, Local-Aliases-File), reloaded on SIGHUP: a login as
	// NAME@DOMAIN at one of them may name the bare account NAME.
	domains *delivery.Resolver
	// bearer verifies OAuth bearer tokens ([OAuth]); nil: OAuth off.
	bearer auth.TokenVerifier
	// sources are the account sources of Accounts, in order, shared so
	// that an outside source's connections are; a reload replaces them
	// (prepareSources).
	sources *auth.SourceList
}

// accountHelpers is what the account sources need started before the
// privileges are dropped: the system source's privileged helper.
type accountHelpers struct {
	systemHelper source.SystemChecker // nil: no system source
}

// startAccountHelpers starts them; run before DropPrivileges. A worker
// uses the supervisor's (WorkerOptions.SystemAccounts), which the
// supervisor started before its own drop.
func (in *instance) startAccountHelpers() {
	if in.opts.Worker != nil && in.opts.Worker.SystemAccounts != nil {
		in.systemHelper = in.opts.Worker.SystemAccounts
		return
	}
	in.systemHelper = startSystemHelper(in.cfg, in.logger)
}

// newAuthShared builds the shared parts: a worker's verifier is the
// supervisor's (WorkerOptions.Verifier); otherwise newLocalVerifier.
func newAuthShared(cfg *config.Config, trusted []netip.Prefix, w *WorkerOptions, logger *slog.Logger) authShared {
	h := newHasher(cfg)
	if w != nil && w.Verifier != nil {
		w.Verifier.SetLogger(logger)
		return authShared{hasher: h, verifier: w.Verifier}
	}
	return authShared{hasher: h, verifier: newLocalVerifier(cfg, trusted)}
}

// newLocalVerifier builds the verifier from the configuration
// (Auth-Cache-TTL, Auth-Hash-Concurrency, Memory-Limit, Trusted-Networks):
// the supervisor's, which its workers share.
func newLocalVerifier(cfg *config.Config, trusted []netip.Prefix) *auth.LocalVerifier {
	return auth.NewLocalVerifier(newHasher(cfg), auth.NewCache(auth.CacheOptions{TTL: cfg.AuthCacheTTL}),
		auth.NewThrottle(auth.ThrottleOptions{Trusted: trusted}, nil))
}

// newHasher returns a Hasher with Auth-Hash-Concurrency, its memory budget
// half of Memory-Limit when there is one.
func newHasher(cfg *config.Config) *auth.Hasher {
	h := &auth.Hasher{MaxConcurrent: cfg.AuthHashConcurrency}
	if cfg.MemoryLimit > 0 {
		h.MemoryBudget = cfg.MemoryLimit / 2
	}
	return h
}

// newAuthenticator returns an Authenticator for one protocol, built on the
// shared hasher, cache and throttle. onAttempt may be nil.
func (in *instance) newAuthenticator(logger *slog.Logger, onAttempt func(auth.Attempt)) *auth.Authenticator {
	in.initAuth()
	return auth.New(auth.Options{
		Store:      in.store,
		SourceList: in.auth.sources,

		AdminImpersonation: in.cfg.AdminImpersonation,
		ChannelBinding:     in.cfg.SCRAMChannelBinding,
		Bearer:             in.auth.bearer,
		Hasher:             in.auth.hasher,
		Verifier:           in.auth.verifier,
		Logger:             logger,
		OnAttempt:          onAttempt,
		Upgrade: func(ctx context.Context, name string, u store.AccountUpdate) error {
			_, err := in.store.UpdateAccount(ctx, name, u)
			return err
		},
	})
}

// newDomainTable loads the site's domains for logins. A domains file that
// cannot be read is logged (mail delivery refuses to start on it); logins
// as NAME@DOMAIN then find full-address accounts only.
func (in *instance) newDomainTable() *delivery.Resolver {
	cfg := in.cfg
	res, err := delivery.NewResolver(delivery.ResolverOptions{
		Directory: in.store, Hostname: cfg.Hostname, SubstituteDomain: cfg.SubstituteDomain,
		Domains: cfg.LocalDomains, DomainsFile: cfg.LocalAliasesFile,
		ReadDomainsFile: func(path string) ([]string, error) { return readLocalAliases(path, in.logger) },
	})
	if err != nil {
		in.logger.Error("local domains for logins", "err", err)
		return nil
	}
	return res
}

// newTokenVerifier builds the bearer-token verifier of the [OAuth]
// section, or nil when it is not configured. A client secret file that
// cannot be read is logged and leaves OAuth off.
func (in *instance) newTokenVerifier() auth.TokenVerifier {
	o := in.cfg.OAuth
	if !o.Configured() {
		return nil
	}
	opts := auth.OAuthOptions{Issuer: o.Issuer, Audience: o.Audience, JWKSURL: o.JWKSURL,
		UsernameClaim: o.UsernameClaim, IntrospectionURL: o.IntrospectionURL, ClientID: o.ClientID}
	if o.ClientSecretFile != "" {
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			in.logger.Error("OAuth off: read Client-Secret-File", "err", err)
			return nil
		}
		opts.ClientSecret, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
	}
	in.logger.Info("OAuth bearer tokens accepted", "issuer", o.Issuer, "introspection", o.IntrospectionURL != "")
	return auth.NewTokenVerifier(opts)
}

// initAuth builds, once, what the protocols' Authenticators share.
func (in *instance) initAuth() {
	if in.auth.hasher != nil {
		return
	}
	in.auth = newAuthShared(in.cfg, in.trusted, in.opts.Worker, in.logger)
	in.auth.domains = in.newDomainTable()
	in.auth.bearer = in.newTokenVerifier()
	if in.systemHelper == nil {
		// Not started before the privilege drop (a path other than
		// serve's start): start it now; without root it cannot read the
		// shadow file, and the system source fails closed.
		in.systemHelper = startSystemHelper(in.cfg, in.logger)
	}
	in.auth.sources = auth.NewSourceList(AccountSources(in.cfg, in.store, in.auth.hasher, in.isLocalDomain, in.systemHelper, in.logger))
	if lv, ok := in.auth.verifier.(*auth.LocalVerifier); ok {
		in.logger.Info("password verification",
			"hash_concurrency", lv.Hasher.Concurrency(), "auth_cache_ttl", lv.Cache.TTL())
	} else {
		in.logger.Info("password verification by the supervisor")
	}
}

// directory is the account lookup of delivery: the store, widened by the
// outside sources of Accounts so that mail to their users arrives before
// their first login (auth.Directory).
func (in *instance) directory() delivery.Directory {
	in.initAuth()
	return auth.Directory{Store: in.store, List: in.auth.sources}
}

// isLocalDomain reports whether domain is one of the site's own, for
// logins as NAME@DOMAIN. Until the domain table is loaded (it is at the
// first Authenticator), nothing is.
func (in *instance) isLocalDomain(domain string) bool {
	return in.auth.domains != nil && in.auth.domains.IsLocalDomain(domain)
}

// applyMemoryLimit sets the Go runtime's soft memory limit from
// Memory-Limit; 0 leaves GOMEMLIMIT or the runtime's default alone.
func applyMemoryLimit(cfg *config.Config, logger *slog.Logger) {
	if cfg.MemoryLimit <= 0 {
		return
	}
	debug.SetMemoryLimit(cfg.MemoryLimit)
	logger.Info("memory limit set", "bytes", cfg.MemoryLimit)
}
