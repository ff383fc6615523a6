package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// Formats of a password file that "postern user import" reads.
const (
	// FormatDovecot is Dovecot's passwd-file:
	// user:{SCHEME}hash:uid:gid:gecos:home:shell:extra (fields after the
	// password optional and ignored).
	FormatDovecot = "dovecot"
	// FormatShadow is shadow(5): name:hash:lastchg:min:max:warn:inactive:
	// expire:reserved. A "!" before the hash locks the account (it is
	// imported disabled, the DISUSER of the original); field 8, the account
	// expiration in days since 1970-01-01, is its expiry. Password ageing
	// fields are ignored.
	FormatShadow = "shadow"
	// FormatHtpasswd is Apache's htpasswd: user:hash.
	FormatHtpasswd = "htpasswd"
)

// MaxPasswordLine bounds a line of a password file.
const MaxPasswordLine = 8192

// ImportedUser is one account read from a password file.
type ImportedUser struct {
	Name     string
	Hash     string    // as stored: the file's hash, Dovecot prefix kept
	Scheme   string    // the scheme CheckHash found, for reports
	Disabled bool      // shadow: locked with "!"
	Expires  time.Time // shadow field 8; zero: never
}

// ErrSkipLine is returned for blank and comment lines.
var ErrSkipLine = errors.New("no account on this line")

// ParsePasswordLine reads one line of a password file in format. A blank
// line or a "#" comment gives ErrSkipLine; a line that cannot be imported
// gives an error that says why, with the user name when there is one.
func ParsePasswordLine(format, line string) (ImportedUser, error) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
		return ImportedUser{}, ErrSkipLine
	}
	if len(line) > MaxPasswordLine {
		return ImportedUser{}, fmt.Errorf("line longer than %d characters", MaxPasswordLine)
	}
	f := strings.Split(line, ":")
	if len(f) < 2 {
		return ImportedUser{}, errors.New("want NAME:HASH")
	}
	u := ImportedUser{Name: strings.ToLower(f[0]), Hash: f[1]}
	if err := store.ValidateAccountName(u.Name); err != nil {
		return ImportedUser{}, err
	}
	var err error
	switch format {
	case FormatDovecot:
	case FormatHtpasswd:
		if len(f) != 2 {
			return u, errors.New("htpasswd line with more than NAME:HASH")
		}
	case FormatShadow:
		err = u.shadowFields(f)
	default:
		return ImportedUser{}, fmt.Errorf("unknown format %q (want dovecot, shadow or htpasswd)", format)
	}
	if err != nil {
		return u, err
	}
	if u.Hash == "" {
		return u, errors.New("empty password field refused")
	}
	if u.Scheme, err = CheckHash(u.Hash); err != nil {
		return u, err
	}
	return u, nil
}

// shadowFields reads the lock mark and the expiry of a shadow line.
func (u *ImportedUser) shadowFields(f []string) error {
	if len(f) > 9 {
		return errors.New("shadow line with more than 9 fields")
	}
	if u.Hash == "" {
		return errors.New("empty password field refused (it would let anyone in)")
	}
	if strings.HasPrefix(u.Hash, "!") {
		u.Disabled = true
		u.Hash = strings.TrimLeft(u.Hash, "!")
	}
	if u.Hash == "" || u.Hash == "*" || strings.HasPrefix(u.Hash, "*") {
		return errors.New("no password (locked or login disabled)")
	}
	if len(f) > 7 && f[7] != "" {
		days, err := strconv.ParseInt(f[7], 10, 32)
		if err != nil || days < 0 {
			return fmt.Errorf("bad expiration date %q", f[7])
		}
		u.Expires = time.Unix(days*86400, 0).UTC()
	}
	return nil
}
