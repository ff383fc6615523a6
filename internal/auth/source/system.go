package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// SourceSystem is the system source's name in "Accounts:".
const SourceSystem = "system"

// Defaults of the system source's options.
const (
	DefaultPasswdFile = "/etc/passwd"
	DefaultShadowFile = "/etc/shadow"
	DefaultMinUID     = 1000
)

// maxSystemFile bounds what is read of a passwd or shadow file.
const maxSystemFile = 64 << 20

// SystemUser is what the privileged part tells of a host account: never
// its hash.
type SystemUser struct {
	Name     string
	Disabled bool      // the shadow hash is locked ("!" or "*")
	Expires  time.Time // shadow field 8; zero: never
}

// SystemChecker answers for the host's accounts without showing a hash
// (issue 22: no hash reaches a process that serves clients). SystemFiles
// is the privileged implementation; SystemHelper reaches one in the
// privileged helper process. The supervisor may serve the same interface.
type SystemChecker interface {
	// LookupUser returns the account of name (UID ≥ System-Min-UID);
	// found is false when there is none.
	LookupUser(ctx context.Context, name string) (u SystemUser, found bool, err error)
	// VerifyUser reports whether password is name's: false for an
	// unknown name, an empty or locked-away hash, or a hash of a scheme
	// that cannot be verified.
	VerifyUser(ctx context.Context, name, password string) (bool, error)
}

// SystemFiles reads the passwd and shadow files at each question, so
// that a change on the host applies at the next login past the auth
// cache. Only the privileged part may use it.
type SystemFiles struct {
	PasswdFile, ShadowFile string
	MinUID                 int
	Hasher                 *auth.Hasher // nil: production costs
	Logger                 *slog.Logger // unknown schemes and bad lines; nil discards
}

// LookupUser finds name in the passwd file with a UID of at least MinUID,
// and its lock and expiry in the shadow file.
func (f *SystemFiles) LookupUser(ctx context.Context, name string) (SystemUser, bool, error) {
	name = strings.ToLower(name)
	if store.ValidateAccountName(name) != nil || strings.Contains(name, "@") {
		return SystemUser{}, false, nil
	}
	ok, err := f.inPasswd(name)
	if err != nil || !ok {
		return SystemUser{}, false, err
	}
	u := SystemUser{Name: name}
	sh, found, err := f.shadowLine(name)
	if errors.Is(err, fs.ErrPermission) {
		// Not the privileged part (`postern deliver` run by the MTA as
		// a mail user): the account exists, its lock cannot be read, so
		// it counts as locked. Delivery does not look at the lock, and
		// a login verifies in the helper anyway.
		u.Disabled = true
		return u, true, nil
	}
	if err != nil {
		return SystemUser{}, false, err
	}
	if !found {
		u.Disabled = true // no shadow line: no password to log in with
		return u, true, nil
	}
	hash := sh[1]
	u.Disabled = hash == "" || hash[0] == '!' || hash[0] == '*'
	if len(sh) > 7 && sh[7] != "" {
		days, err := strconv.ParseInt(sh[7], 10, 32)
		if err != nil || days < 0 {
			f.log().Warn("shadow: bad expiration date; account treated as expired", "user", name)
			days = 0
		}
		u.Expires = time.Unix(days*86400, 0).UTC()
	}
	return u, true, nil
}

// VerifyUser checks password against name's shadow hash. The hash after a
// "!" lock mark is still verified (the account is then DISUSER, which the
// Authenticator reports only to someone with the right password); "*", an
// empty field and an unknown scheme verify nothing.
func (f *SystemFiles) VerifyUser(ctx context.Context, name, password string) (bool, error) {
	name = strings.ToLower(name)
	if ok, err := f.inPasswd(name); err != nil || !ok {
		return false, err
	}
	sh, found, err := f.shadowLine(name)
	if err != nil || !found || password == "" {
		return false, err
	}
	hash := strings.TrimLeft(sh[1], "!")
	if hash == "" || hash[0] == '*' {
		return false, nil
	}
	if _, err := auth.CheckHash(hash); err != nil {
		f.log().Warn("shadow: hash cannot be verified; login refused", "user", name, "err", err)
		return false, nil
	}
	h := f.Hasher
	if h == nil {
		h = &auth.Hasher{}
	}
	ok, err := h.Verify(hash, password)
	if err != nil {
		f.log().Warn("shadow: hash cannot be verified; login refused", "user", name, "err", err)
		return false, nil
	}
	return ok, nil
}

func (f *SystemFiles) log() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// inPasswd reports whether the passwd file has name with UID ≥ MinUID.
func (f *SystemFiles) inPasswd(name string) (bool, error) {
	line, found, err := findLine(f.PasswdFile, name)
	if err != nil || !found || len(line) < 7 {
		return false, err
	}
	uid, err := strconv.Atoi(line[2])
	return err == nil && uid >= f.MinUID, nil
}

// shadowLine returns the fields of name's line in the shadow file.
func (f *SystemFiles) shadowLine(name string) ([]string, bool, error) {
	line, found, err := findLine(f.ShadowFile, name)
	if err != nil || !found || len(line) < 2 || len(line) > 9 {
		return nil, false, err
	}
	return line, true, nil
}

// findLine returns the ":"-separated fields of the first line of path
// whose first field is name (compared in lower case, as account names
// are).
func findLine(path, name string) ([]string, bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(&limitedReader{r: fh, n: maxSystemFile})
	sc.Buffer(make([]byte, 4096), auth.MaxPasswordLine+1)
	for sc.Scan() {
		l := sc.Text()
		first, _, _ := strings.Cut(l, ":")
		if strings.ToLower(first) == name {
			return strings.Split(l, ":"), true, nil
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return nil, false, fmt.Errorf("%w: read %s: %v", auth.ErrUnavailable, path, err)
	}
	return nil, false, nil
}

// limitedReader stops after n bytes.
type limitedReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("file too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// System is the host's accounts as an account source, over a
// SystemChecker: the privileged helper in a server, SystemFiles in a
// command run by the administrator.
type System struct {
	checker     SystemChecker
	link        auth.StoreLink
	localDomain func(string) bool
}

// NewSystem returns the system source. localDomain (nil: none) lets a
// login or an address NAME@DOMAIN at one of the site's domains name the
// host account NAME.
func NewSystem(checker SystemChecker, st auth.AccountStore, localDomain func(string) bool) *System {
	return &System{checker: checker, link: auth.StoreLink{Store: st, Source: SourceSystem}, localDomain: localDomain}
}

// Name returns "system".
func (s *System) Name() string { return SourceSystem }

// CacheKey is a constant: a password change on the host applies when the
// cache entry ends (Auth-Cache-TTL).
func (s *System) CacheKey(store.Account) string { return SourceSystem }

// Lookup finds the host account of a login name.
func (s *System) Lookup(ctx context.Context, login string) (store.Account, error) {
	name, ok := s.hostName(login)
	if !ok {
		return store.Account{}, auth.ErrUnknownUser
	}
	u, found, err := s.checker.LookupUser(ctx, name)
	if err != nil {
		return store.Account{}, err
	}
	if !found {
		return store.Account{}, auth.ErrUnknownUser
	}
	return s.link.Attach(ctx, store.Account{Name: u.Name, Disabled: u.Disabled, Expires: u.Expires})
}

// hostName maps a login name to a host account name: NAME, or NAME@DOMAIN
// at one of the site's domains.
func (s *System) hostName(login string) (string, bool) {
	name, domain, at := strings.Cut(strings.ToLower(login), "@")
	if at && (s.localDomain == nil || !s.localDomain(domain)) {
		return "", false
	}
	return name, name != ""
}

// LookupAddress finds the host account of a recipient address at one of
// the site's domains.
func (s *System) LookupAddress(ctx context.Context, addr string) (store.Account, error) {
	return s.Lookup(ctx, addr)
}

// Owns reports whether the host has an account of that name.
func (s *System) Owns(ctx context.Context, name string) (bool, error) {
	_, err := s.Lookup(ctx, name)
	if errors.Is(err, auth.ErrUnknownUser) {
		return false, nil
	}
	return err == nil, err
}

// Verify asks the privileged part whether password is the account's.
func (s *System) Verify(ctx context.Context, acct store.Account, password string) (bool, error) {
	return s.checker.VerifyUser(ctx, acct.Name, password)
}

// Provision makes the store account of a host account.
func (s *System) Provision(ctx context.Context, acct store.Account) (store.Account, error) {
	return s.link.Provision(ctx, acct)
}
