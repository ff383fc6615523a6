package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/postern/postern/internal/store"
)

// metricImpersonations counts admin impersonation logins by result.
var metricImpersonations = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "postern_auth_impersonations_total",
	Help: "SASL PLAIN logins with an authorization identity (an administrator acting as another account, global Admin-Impersonation), by result: ok, or refused.",
}, []string{"result"})

// impersonate is PLAIN with an authorization identity other than the
// authentication identity (RFC 4616 §2): the migration tools' master-user
// login (imapsync --authuser, Dovecot's master users). It is allowed only
// with Options.AdminImpersonation, and only when authcid's password is
// right and its account is an administrator; the session is then
// authzid's, whose own flags (DISUSER, expiry, DISMAIL) apply. Every such
// attempt is logged at warning level and counted.
func (a *Authenticator) impersonate(ctx context.Context, authzid, authcid, passwd string, c ConnInfo) (store.Account, error) {
	if !a.impersonation {
		return store.Account{}, ErrAuthzidNotAllowed
	}
	admin, err := a.login(ctx, MechPlain, authcid, passwd, c)
	if err != nil {
		return store.Account{}, err
	}
	target, err := a.impersonationTarget(ctx, admin, authzid)
	log := c.Log
	if log == nil {
		log = a.logger
	}
	result := "ok"
	if err != nil {
		result = "refused"
	}
	metricImpersonations.WithLabelValues(result).Inc()
	log.LogAttrs(ctx, slog.LevelWarn, "admin impersonation", slog.String("admin", admin.Name),
		slog.String("user", authzid), slog.String("proto", c.Proto), slog.String("result", result), slog.Any("err", err))
	return target, err
}

// impersonationTarget checks that admin may act as authzid and returns
// authzid's account.
func (a *Authenticator) impersonationTarget(ctx context.Context, admin store.Account, authzid string) (store.Account, error) {
	if !admin.Admin {
		return store.Account{}, fmt.Errorf("%w: %s is not an administrator", ErrAuthzidNotAllowed, admin.Name)
	}
	target, err := a.lookupProvisioned(ctx, authzid)
	if errors.Is(err, ErrUnknownUser) {
		return store.Account{}, fmt.Errorf("%w: no account %q", ErrAuthzidNotAllowed, authzid)
	}
	if err != nil {
		return store.Account{}, err
	}
	if err := a.checkAccount(target); err != nil {
		return store.Account{}, err
	}
	return target, nil
}
