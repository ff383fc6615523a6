package app

import (
	"github.com/postern/postern/internal/managesieve"
)

// buildManageSieve converts [ManageSieve] into the ManageSieve server's
// Options. It shares IMAP's authenticator rules: the same account
// sources, cache and throttle, PLAIN under [IMAP] Allow-Plaintext-Auth,
// and STARTTLS with the [IMAP] certificate (docs/sieve.md).
func buildManageSieve(in *instance) (Service, error) {
	cfg := in.cfg
	logger := in.logger.With("pkg", "managesieve")
	return managesieve.New(managesieve.Options{
		Store:              in.store,
		Auth:               in.newAuthenticator(logger, nil),
		TLS:                in.tls.config("managesieve"),
		AllowPlaintextAuth: cfg.IMAP.AllowPlaintextAuth,
		MaxScriptSize:      cfg.ManageSieve.MaxScriptSize,
		MaxScripts:         cfg.ManageSieve.MaxScripts,
		Logger:             logger,
		Conns:              in.conns,
	})
}
