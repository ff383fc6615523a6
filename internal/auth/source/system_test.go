package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

const systemPassword = "correct horse" // of every hash in testdata/shadow

// startTestHelper serves files on one end of a socketpair, as the helper
// process does, and returns the client of the other end.
func startTestHelper(t *testing.T, files *SystemFiles) *SystemHelper {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.SetNonblock(fds[0], true)
	ours, theirs := os.NewFile(uintptr(fds[0]), "client"), os.NewFile(uintptr(fds[1]), "helper")
	done := make(chan error, 1)
	go func() { done <- ServeSystemHelper(theirs, files) }()
	h := NewSystemHelper(ours)
	t.Cleanup(func() {
		h.Close()
		if err := <-done; err != nil {
			t.Errorf("helper: %v", err)
		}
		theirs.Close()
	})
	return h
}

// copySystemFiles copies testdata/passwd and testdata/shadow into a
// temporary directory, so a test may change them.
func copySystemFiles(t *testing.T) *SystemFiles {
	t.Helper()
	dir := t.TempDir()
	f := &SystemFiles{PasswdFile: filepath.Join(dir, "passwd"), ShadowFile: filepath.Join(dir, "shadow"), MinUID: DefaultMinUID,
		Hasher: &auth.Hasher{Argon2: auth.CheapArgon2Params()}}
	for src, dst := range map[string]string{"testdata/passwd": f.PasswdFile, "testdata/shadow": f.ShadowFile} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestSystemSource: logins of host accounts through the privileged
// helper's protocol: every crypt(3) form of Debian's mkpasswd (yescrypt at
// two costs), a locked account (DISUSER, told only with the right
// password), an expired one, "*", an empty hash, DES and a broken hash,
// a low UID and a user without a shadow line; the store account records
// the source; a password changed in the shadow file applies at the next
// login.
func TestSystemSource(t *testing.T) {
	files := copySystemFiles(t)
	st := newMemStore()
	src := NewSystem(startTestHelper(t, files), st, func(d string) bool { return d == "example.org" })
	a := auth.New(auth.Options{Store: st, Sources: []auth.Source{src}, Hasher: files.Hasher,
		Throttle: auth.ThrottleOptions{Off: true}})
	ctx := context.Background()
	tests := []struct {
		user, pw string
		want     error
	}{
		{"yes5", systemPassword, nil},
		{"yes3", systemPassword, nil},
		{"sha512", systemPassword, nil},
		{"sha512r", systemPassword, nil},
		{"sha256", systemPassword, nil},
		{"bcrypt", systemPassword, nil},
		{"bcrypty", systemPassword, nil},
		{"md5", systemPassword, nil},
		{"MD5@example.org", systemPassword, nil},
		{"md5@example.net", systemPassword, auth.ErrUnknownUser},
		{"yes5", "correct horsE", auth.ErrBadCredentials},
		{"md5", "", auth.ErrBadCredentials},
		{"locked", systemPassword, auth.ErrDisabled},
		{"locked", "wrong", auth.ErrBadCredentials},
		{"expired", systemPassword, auth.ErrExpired},
		{"nopass", systemPassword, auth.ErrBadCredentials},
		{"empty", "", auth.ErrBadCredentials},
		{"empty", "anything", auth.ErrBadCredentials},
		{"des", systemPassword, auth.ErrBadCredentials},
		{"broken", systemPassword, auth.ErrBadCredentials},
		{"noshadow", systemPassword, auth.ErrBadCredentials},
		{"lowuid", systemPassword, auth.ErrUnknownUser},
		{"root", systemPassword, auth.ErrUnknownUser},
		{"nobody", systemPassword, auth.ErrUnknownUser},
		{"yes5 V", systemPassword, auth.ErrUnknownUser},
		{"yes5\nL", systemPassword, auth.ErrUnknownUser},
	}
	for _, tt := range tests {
		acct, err := a.Login(ctx, tt.user, tt.pw, auth.ConnInfo{})
		if tt.want == nil && (err != nil || acct.Source != SourceSystem || acct.ID == 0) {
			t.Errorf("Login(%q) = %+v, %v; want a system account", tt.user, acct, err)
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Login(%q, %q) = %v, want %v", tt.user, tt.pw, err, tt.want)
		}
	}
	if got, _ := st.Account(ctx, "yes5"); got.Source != SourceSystem {
		t.Errorf("store account yes5: %+v", got)
	}
	u, found, err := files.LookupUser(ctx, "expired")
	if err != nil || !found || !u.Expires.Equal(time.Unix(19000*86400, 0)) {
		t.Errorf("expired: %+v %v %v; want expiry day 19000", u, found, err)
	}

	b, _ := os.ReadFile(files.ShadowFile)
	sha256 := strings.Split(strings.Split(string(b), "\nsha256:")[1], ":")[0]
	md5 := strings.Split(strings.Split(string(b), "\nmd5:")[1], ":")[0]
	os.WriteFile(files.ShadowFile, []byte(strings.Replace(string(b), sha256, "!"+md5, 1)), 0o600)
	if _, err := a.Login(ctx, "sha256", systemPassword, auth.ConnInfo{}); !errors.Is(err, auth.ErrDisabled) {
		t.Errorf("sha256 locked in the shadow file: %v, want ErrDisabled", err)
	}
	os.Remove(files.ShadowFile)
	if _, err := a.Login(ctx, "md5", systemPassword, auth.ConnInfo{}); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("shadow file gone: %v, want a temporary failure", err)
	}
}

// TestSystemOwnership: a host account named like a local account is not
// taken over: with Accounts: system, local, the local admin keeps its
// name, mail and rights.
func TestSystemOwnership(t *testing.T) {
	files := copySystemFiles(t)
	st := newMemStore()
	yes := true
	st.CreateAccount(t.Context(), "md5", store.AccountUpdate{Admin: &yes})
	src := NewSystem(files, st, nil)
	a := auth.New(auth.Options{Store: st, Sources: []auth.Source{src}, Hasher: files.Hasher, Throttle: auth.ThrottleOptions{Off: true}})
	if _, err := a.Login(t.Context(), "md5", systemPassword, auth.ConnInfo{}); !errors.Is(err, auth.ErrUnknownUser) {
		t.Errorf("host md5 over local md5: %v, want unknown", err)
	}
	if owns, err := src.Owns(t.Context(), "md5"); owns || err != nil {
		t.Errorf("Owns(md5) = %v, %v; the name is local's", owns, err)
	}
	if owns, err := src.Owns(t.Context(), "sha512"); !owns || err != nil {
		t.Errorf("Owns(sha512) = %v, %v", owns, err)
	}
}

// FuzzSystemHelperRequest: any request line gets one answer line, never
// a hash, never a panic.
func FuzzSystemHelperRequest(f *testing.F) {
	for _, s := range []string{"L yes5", "V yes5 636f727265637420686f727365", "V md5 zz", "L", "X y", "L " + strings.Repeat("a", 300), "V a b c"} {
		f.Add(s)
	}
	files := &SystemFiles{PasswdFile: "testdata/passwd", ShadowFile: "testdata/shadow", MinUID: DefaultMinUID,
		Hasher: &auth.Hasher{Argon2: auth.CheapArgon2Params()}}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.HasPrefix(line, "V y") {
			return // yescrypt at cost j9T is slow; "V" is covered by the seeds
		}
		got := answer(files, line)
		if strings.ContainsAny(got, "\n$") {
			t.Fatalf("answer(%q) = %q", line, got)
		}
	})
}
