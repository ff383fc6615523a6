package app

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime/debug"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/store"
)

// authShared is what every protocol's Authenticator shares: one password
// hasher, whose cap on concurrent argon2id computations then bounds the
// memory of the whole process; one verified-credentials cache, so that a
// password verified over IMAP is not hashed again for SMTP; and one
// failure-throttle table, so that an address's failures count across
// POP3, IMAP and SMTP together.
type authShared struct {
	hasher   *auth.Hasher
	cache    *auth.Cache
	throttle *auth.Throttle
}

// newAuthShared builds the shared parts from the configuration
// (Auth-Cache-TTL, Auth-Hash-Concurrency, Memory-Limit).
func newAuthShared(cfg *config.Config, trusted []netip.Prefix) authShared {
	h := &auth.Hasher{MaxConcurrent: cfg.AuthHashConcurrency}
	if cfg.MemoryLimit > 0 {
		h.MemoryBudget = cfg.MemoryLimit / 2
	}
	return authShared{
		hasher:   h,
		cache:    auth.NewCache(auth.CacheOptions{TTL: cfg.AuthCacheTTL}),
		throttle: auth.NewThrottle(auth.ThrottleOptions{Trusted: trusted}, nil),
	}
}

// newAuthenticator returns an Authenticator for one protocol, built on the
// shared hasher, cache and throttle. onAttempt may be nil.
func (in *instance) newAuthenticator(logger *slog.Logger, onAttempt func(auth.Attempt)) *auth.Authenticator {
	if in.auth.hasher == nil {
		in.auth = newAuthShared(in.cfg, in.trusted)
		in.logger.Info("password verification",
			"hash_concurrency", in.auth.hasher.Concurrency(), "auth_cache_ttl", in.auth.cache.TTL())
	}
	return auth.New(auth.Options{
		Store:          in.store,
		Hasher:         in.auth.hasher,
		Cache:          in.auth.cache,
		SharedThrottle: in.auth.throttle,
		Logger:         logger,
		OnAttempt:      onAttempt,
		Upgrade: func(ctx context.Context, name string, u store.AccountUpdate) error {
			_, err := in.store.UpdateAccount(ctx, name, u)
			return err
		},
	})
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
