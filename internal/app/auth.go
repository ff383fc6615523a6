package app

import (
	"context"
	"log/slog"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// authShared is what every protocol's Authenticator shares: one password
// hasher, whose cap on concurrent argon2id computations then bounds the
// memory of the whole process, and one failure-throttle table, so that an
// address's failures count across POP3, IMAP and SMTP together.
type authShared struct {
	hasher   *auth.Hasher
	throttle *auth.Throttle
}

// newAuthenticator returns an Authenticator for one protocol, built on the
// shared hasher and throttle. onAttempt may be nil.
func (in *instance) newAuthenticator(logger *slog.Logger, onAttempt func(auth.Attempt)) *auth.Authenticator {
	if in.auth.hasher == nil {
		in.auth.hasher = &auth.Hasher{}
		in.auth.throttle = auth.NewThrottle(auth.ThrottleOptions{}, nil)
	}
	return auth.New(auth.Options{
		Store:          in.store,
		Hasher:         in.auth.hasher,
		SharedThrottle: in.auth.throttle,
		Logger:         logger,
		OnAttempt:      onAttempt,
		Upgrade: func(ctx context.Context, name string, u store.AccountUpdate) error {
			_, err := in.store.UpdateAccount(ctx, name, u)
			return err
		},
	})
}
