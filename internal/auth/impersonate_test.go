package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// plainExchange runs one PLAIN exchange with an initial response.
func plainExchange(t *testing.T, a *Authenticator, msg string) (store.Account, error) {
	t.Helper()
	m, err := a.NewMechanism(MechPlain, connFrom(addrA))
	if err != nil {
		t.Fatal(err)
	}
	_, done, err := m.Next(context.Background(), []byte(msg))
	if !done {
		t.Fatalf("PLAIN %q not done", msg)
	}
	acct, _ := m.Identity()
	return acct, err
}

// TestAdminImpersonation: PLAIN with an authorization identity works only
// with the option on, for an administrator with the right password, as an
// account that may log in; each attempt is logged.
func TestAdminImpersonation(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newTestEnv(t, func(o *Options) { o.AdminImpersonation = on; o.Throttle.Off = true })
		e.addUser(t, "admin", "admin-pw", func(a *store.Account) { a.Admin = true })
		e.addUser(t, "clerk", "clerk-pw")
		e.addUser(t, "alice", "alice-pw")
		e.addUser(t, "gone", "gone-pw", func(a *store.Account) { a.Disabled = true })
		tests := []struct {
			msg  string
			want string // account on success
			err  error
		}{
			{"alice\x00admin\x00admin-pw", "alice", nil},
			{"ALICE\x00Admin\x00admin-pw", "alice", nil},
			{"alice\x00admin\x00wrong", "", ErrBadCredentials},
			{"alice\x00clerk\x00clerk-pw", "", ErrAuthzidNotAllowed}, // not an admin
			{"nobody\x00admin\x00admin-pw", "", ErrAuthzidNotAllowed},
			{"gone\x00admin\x00admin-pw", "", ErrDisabled},
			{"admin\x00admin\x00admin-pw", "admin", nil}, // same identity: a plain login
		}
		for _, tt := range tests {
			acct, err := plainExchange(t, e.auth, tt.msg)
			want, wantErr := tt.want, tt.err
			if !on && tt.msg != "admin\x00admin\x00admin-pw" && !errors.Is(tt.err, ErrBadCredentials) {
				want, wantErr = "", ErrAuthzidNotAllowed
			}
			if !on && errors.Is(tt.err, ErrBadCredentials) {
				want, wantErr = "", ErrAuthzidNotAllowed // refused before the password is looked at
			}
			if acct.Name != want || !errors.Is(err, wantErr) && !(wantErr == nil && err == nil) {
				t.Errorf("on=%v PLAIN %q = %q, %v; want %q, %v", on, tt.msg, acct.Name, err, want, wantErr)
			}
		}
		if got := strings.Count(e.log.String(), "admin impersonation"); on && got != 5 || !on && got != 0 {
			t.Errorf("on=%v: %d impersonation log lines:\n%s", on, got, e.log.String())
		}
	}
}
