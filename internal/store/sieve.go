package store

import (
	"context"
	"errors"
	"time"
)

// Errors of the Sieve script store.
var (
	// ErrNoSuchScript means the account has no script of that name.
	ErrNoSuchScript = errors.New("no such sieve script")
	// ErrScriptExists means a script of that name exists already.
	ErrScriptExists = errors.New("sieve script exists")
	// ErrScriptActive means the operation needs the script inactive
	// (RFC 5804 §2.10: the active script cannot be deleted).
	ErrScriptActive = errors.New("sieve script is active")
)

// SieveScriptInfo describes one stored script.
type SieveScriptInfo struct {
	Name   string
	Size   int64
	Active bool
}

// SieveKeeper is implemented by stores that keep users' Sieve scripts
// (RFC 5228) and the vacation response log (RFC 5230), so that every
// node and every backup has them. Script names are case-sensitive
// (RFC 5804 §1.6); at most one script per account is active.
type SieveKeeper interface {
	// SieveScripts lists the account's scripts in name order.
	SieveScripts(ctx context.Context, account AccountID) ([]SieveScriptInfo, error)
	// SieveScript returns a script's text; ErrNoSuchScript if absent.
	SieveScript(ctx context.Context, account AccountID, name string) (content string, active bool, err error)
	// ActiveSieveScript returns the active script; ErrNoSuchScript when
	// none is active.
	ActiveSieveScript(ctx context.Context, account AccountID) (name, content string, err error)
	// PutSieveScript creates or replaces a script, keeping its active
	// state.
	PutSieveScript(ctx context.Context, account AccountID, name, content string) error
	// SetActiveSieveScript makes name the active script, and every
	// other inactive; "" deactivates all. ErrNoSuchScript if absent.
	SetActiveSieveScript(ctx context.Context, account AccountID, name string) error
	// DeleteSieveScript removes an inactive script: ErrScriptActive for
	// the active one, ErrNoSuchScript if absent.
	DeleteSieveScript(ctx context.Context, account AccountID, name string) error
	// RenameSieveScript renames a script, keeping its active state:
	// ErrNoSuchScript, or ErrScriptExists when newName is taken.
	RenameSieveScript(ctx context.Context, account AccountID, oldName, newName string) error
	// VacationDue records, atomically, that a vacation response keyed
	// by key (sender and handle) is sent at now and covers until now+
	// period, and reports whether it is due: false when a response
	// with the same key still covers now (RFC 5230 §4.2).
	VacationDue(ctx context.Context, account AccountID, key string, now time.Time, period time.Duration) (bool, error)
}
