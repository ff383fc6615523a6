// Package sqlrow holds what the SQL stores (store/sqlite, store/postgres)
// share about their rows: both schemas name the account columns alike, so
// the mapping from a store.AccountUpdate to columns is written once here and
// each backend adds only its placeholder syntax.
package sqlrow

import (
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

// Column is one column of an UPDATE's SET clause and its new value (nil
// for SQL NULL).
type Column struct {
	Name  string
	Value any
}

// AccountUpdate lists the account columns u changes, in a fixed order. A
// quota of store.QuotaDefault becomes NULL (the site default); one below it
// is refused with store.ErrNotAllowed.
func AccountUpdate(u store.AccountUpdate) ([]Column, error) {
	var cols []Column
	set := func(name string, v any) { cols = append(cols, Column{name, v}) }
	if u.PasswordHash != nil {
		set("password_hash", *u.PasswordHash)
	}
	if u.SCRAM != nil {
		set("scram_salt", u.SCRAM.Salt)
		set("scram_iterations", u.SCRAM.Iterations)
		set("scram_stored_key", u.SCRAM.StoredKey)
		set("scram_server_key", u.SCRAM.ServerKey)
	}
	if u.APOPSecret != nil {
		set("apop_secret", *u.APOPSecret)
	}
	if u.Disabled != nil {
		set("disabled", *u.Disabled)
	}
	if u.NoMail != nil {
		set("no_mail", *u.NoMail)
	}
	if u.Expires != nil {
		set("expires", TimeToInt(*u.Expires))
	}
	if u.Admin != nil {
		set("admin", *u.Admin)
	}
	if u.Source != nil {
		if *u.Source == "" {
			return nil, fmt.Errorf("empty account source: %w", store.ErrNotAllowed)
		}
		set("source", *u.Source)
	}
	for _, q := range []struct {
		col string
		v   *int64
	}{{"quota_storage", u.QuotaStorage}, {"quota_messages", u.QuotaMessages}} {
		switch {
		case q.v == nil:
		case *q.v == store.QuotaDefault:
			set(q.col, nil)
		case *q.v < store.QuotaDefault:
			return nil, fmt.Errorf("%s %d: %w", q.col, *q.v, store.ErrNotAllowed)
		default:
			set(q.col, *q.v)
		}
	}
	return cols, nil
}

// TimeToInt is how both schemas keep a time: Unix nanoseconds, 0 for none.
func TimeToInt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
