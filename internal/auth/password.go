package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/postern/postern/internal/store"
)

// Default argon2id parameters for new password hashes. They are RFC 9106
// §4's second recommended option with half its lanes (64 MiB, 3 passes):
// about 125 ms for one hash on a 2-vCPU 2025 server, which is paid once per
// password login (POP3 USER/PASS, IMAP LOGIN, AUTH PLAIN/LOGIN). SCRAM and
// APOP logins do not hash. Each hash in flight holds Memory KiB, which is
// why [Hasher] bounds how many run at once.
const (
	DefaultArgon2Memory  = 64 * 1024 // KiB
	DefaultArgon2Time    = 3
	DefaultArgon2Threads = 2
)

// Lengths of the salt and the derived key of new argon2id hashes.
const (
	argon2SaltLen = 16
	argon2KeyLen  = 32
)

// Bounds on the parameters accepted from a stored hash, so that a corrupt or
// hostile hash string cannot make a login allocate gigabytes or spin.
const (
	maxArgon2Memory  = 1 << 20 // KiB: 1 GiB
	maxArgon2Time    = 64
	minArgon2SaltLen = 8
	maxArgon2SaltLen = 64
	minArgon2KeyLen  = 16
	maxArgon2KeyLen  = 128
)

// Argon2Params are the cost parameters of an argon2id hash (RFC 9106 §3.1).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// DefaultArgon2Params returns the parameters of new hashes in production.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: DefaultArgon2Memory, Time: DefaultArgon2Time, Threads: DefaultArgon2Threads}
}

// CheapArgon2Params returns parameters that hash in well under a
// millisecond. They are for tests only: a hash made with them is as weak
// as an unsalted fast hash.
func CheapArgon2Params() Argon2Params {
	return Argon2Params{Memory: 64, Time: 1, Threads: 1}
}

// Hasher makes and checks password hashes and SCRAM keys with a given cost.
// The zero value uses the production defaults. A Hasher must not be copied
// after first use. It is safe for concurrent use.
//
// Passwords are prepared with [PreparePassword] by every method, so a
// password hashes the same way whichever Unicode form the client sent.
type Hasher struct {
	// Argon2 is the cost of new hashes. The zero value means
	// DefaultArgon2Params. Verification always uses the parameters stored
	// in the hash.
	Argon2 Argon2Params

	// SCRAMIterations is the PBKDF2 iteration count of new SCRAM keys. Zero
	// means DefaultSCRAMIterations; values below MinSCRAMIterations are
	// raised to it.
	SCRAMIterations int

	// MaxConcurrent bounds the argon2 computations running at once, and so
	// the memory they hold. Zero derives it with [HashConcurrency] from
	// GOMAXPROCS and MemoryBudget. Waiting computations are served fairly by
	// source address (fairqueue.go).
	MaxConcurrent int

	// MemoryBudget is the memory, in bytes, that the derived number of
	// concurrent computations may hold. Zero means DefaultHashMemoryBudget.
	MemoryBudget int64

	mem   hashMemory
	once  sync.Once
	queue *fairQueue
	dummy struct {
		once sync.Once
		hash string
	}
}

func (h *Hasher) init() {
	h.once.Do(func() {
		h.queue = newFairQueue(h.concurrency())
	})
}

func (h *Hasher) params() Argon2Params {
	if h.Argon2 == (Argon2Params{}) {
		return DefaultArgon2Params()
	}
	return h.Argon2.normalized()
}

func (h *Hasher) scramIterations() int {
	if h.SCRAMIterations == 0 {
		return DefaultSCRAMIterations
	}
	return max(h.SCRAMIterations, MinSCRAMIterations)
}

// acquire takes a slot for one argon2 computation, in the turn of the
// attempt's ticket in ctx (fairqueue.go).
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	h.init()
	return h.queue.acquire(ctx, ticketOf(ctx))
}

// defaultHasher serves the package-level functions. It is a cache in the
// sense of STYLE B1: its only state is the lazily made queue.
var defaultHasher Hasher

// HashPassword hashes password with argon2id and the default parameters,
// in the PHC string format:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>
//
// with salt and hash in unpadded standard base64.
func HashPassword(password string) (string, error) {
	return defaultHasher.Hash(password)
}

// VerifyPassword reports whether password matches hash, which is an
// argon2id PHC string or, for accounts migrated from other systems, a
// bcrypt hash ($2a$, $2b$, $2y$) or another imported scheme (schemes.go).
// The comparison is constant-time. A hash it cannot parse gives
// ErrInvalidHash, an unsupported scheme ErrUnsupportedScheme.
func VerifyPassword(hash, password string) (bool, error) {
	return defaultHasher.Verify(hash, password)
}

// NeedsRehash reports whether hash should be replaced by a new HashPassword
// result: it is not argon2id, or not made with the default parameters.
func NeedsRehash(hash string) bool {
	return defaultHasher.NeedsRehash(hash)
}

// Hash hashes password with argon2id and h's parameters, in PHC format.
func (h *Hasher) Hash(password string) (string, error) {
	return h.hash(context.Background(), password)
}

func (h *Hasher) hash(ctx context.Context, password string) (string, error) {
	password = PreparePassword(password)
	if password == "" {
		return "", ErrEmptyPassword
	}
	salt := make([]byte, argon2SaltLen)
	rand.Read(salt) // never fails (crypto/rand documents it)
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	p := h.params()
	key := h.idKey(hashOpHash, []byte(password), salt, p, argon2KeyLen)
	return encodePHC(phc{Argon2Params: p, salt: salt, key: key}), nil
}

// Verify reports whether password matches hash. See [VerifyPassword].
func (h *Hasher) Verify(hash, password string) (bool, error) {
	return h.verify(context.Background(), hash, password)
}

func (h *Hasher) verify(ctx context.Context, hash, password string) (bool, error) {
	return h.verifyOp(ctx, hashOpVerify, hash, password)
}

// verifyOp is verify with the metric label of the computation.
func (h *Hasher) verifyOp(ctx context.Context, op, hash, password string) (bool, error) {
	ph, err := parsePHC(hash)
	if err != nil {
		return h.verifyForeign(ctx, hash, password)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	key := h.idKey(op, []byte(PreparePassword(password)), ph.salt, ph.Argon2Params, uint32(len(ph.key)))
	return subtle.ConstantTimeCompare(key, ph.key) == 1, nil
}

// verifyForeign checks a password against an imported hash (schemes.go).
// Other systems did not prepare passwords (RFC 4013), so the password is
// tried as given, then prepared when that differs. Memory-hard schemes wait
// for a slot of the hash queue as argon2id does.
func (h *Hasher) verifyForeign(ctx context.Context, hash, password string) (bool, error) {
	f, err := parseForeignHash(hash)
	if err != nil {
		return false, err
	}
	if f.memoryHard {
		release, err := h.acquire(ctx)
		if err != nil {
			return false, err
		}
		defer release()
	}
	ok, err := f.verify([]byte(password))
	if ok || err != nil {
		return ok, err
	}
	if prepared := PreparePassword(password); prepared != password && prepared != "" {
		return f.verify([]byte(prepared))
	}
	return false, nil
}

// verifyDummy spends the time of one verification against a hash of h's
// parameters, so that a login for an unknown user, or for an account
// without a password, takes as long as a wrong password.
func (h *Hasher) verifyDummy(ctx context.Context, password string) {
	h.dummy.once.Do(func() {
		h.dummy.hash, _ = h.hash(context.Background(), "postern dummy password")
	})
	h.verifyOp(ctx, hashOpDummy, h.dummy.hash, password)
}

// NeedsRehash reports whether hash is not an argon2id hash with h's
// parameters, salt and key lengths.
func (h *Hasher) NeedsRehash(hash string) bool {
	ph, err := parsePHC(hash)
	if err != nil {
		return true
	}
	return ph.Argon2Params != h.params() || len(ph.salt) != argon2SaltLen || len(ph.key) != argon2KeyLen
}

// Credentials prepares password and computes everything an account stores
// for it: the argon2id hash and the SCRAM-SHA-256 keys. It is what
// "postern user add" and "user passwd" store. The APOP secret is separate
// and left alone.
func (h *Hasher) Credentials(password string) (store.AccountUpdate, error) {
	hash, err := h.Hash(password)
	if err != nil {
		return store.AccountUpdate{}, err
	}
	scram, err := DeriveSCRAM(password, h.scramIterations())
	if err != nil {
		return store.AccountUpdate{}, err
	}
	return store.AccountUpdate{PasswordHash: &hash, SCRAM: &scram}, nil
}

// Credentials computes the argon2id hash and SCRAM keys of password with the
// default costs. See [Hasher.Credentials].
func Credentials(password string) (store.AccountUpdate, error) {
	return defaultHasher.Credentials(password)
}

func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// verifyBcrypt checks a bcrypt hash, which bcrypt compares in constant time.
// The hash may come from a system that did not prepare passwords, so a
// non-ASCII password is also tried as given.
func verifyBcrypt(hash, password string) (bool, error) {
	try := func(pw string) (bool, error) {
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: %v", ErrInvalidHash, err)
		}
	}
	prepared := PreparePassword(password)
	ok, err := try(prepared)
	if ok || err != nil || prepared == password {
		return ok, err
	}
	return try(password)
}

// phc is a parsed argon2id PHC string.
type phc struct {
	Argon2Params
	salt, key []byte
}

var phcBase64 = base64.RawStdEncoding

func encodePHC(p phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Time, p.Threads, phcBase64.EncodeToString(p.salt), phcBase64.EncodeToString(p.key))
}

// parsePHC parses an argon2id hash in the PHC string format. The
// parameters must be m, t and p in that order, as every argon2 library
// writes them.
func parsePHC(s string) (phc, error) {
	bad := func(why string) (phc, error) { return phc{}, fmt.Errorf("%w: %s", ErrInvalidHash, why) }
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("not a PHC string")
	}
	if f[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported argon2 version")
	}
	var p phc
	var m, t, th uint64
	if err := parseArgon2Params(f[3], &m, &t, &th); err != nil {
		return bad(err.Error())
	}
	if m < 8*th || m > maxArgon2Memory || t < 1 || t > maxArgon2Time || th < 1 || th > 255 {
		return bad("parameters out of range")
	}
	p.Argon2Params = Argon2Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}
	var err error
	if p.salt, err = phcBase64.DecodeString(f[4]); err != nil || len(p.salt) < minArgon2SaltLen || len(p.salt) > maxArgon2SaltLen {
		return bad("bad salt")
	}
	if p.key, err = phcBase64.DecodeString(f[5]); err != nil || len(p.key) < minArgon2KeyLen || len(p.key) > maxArgon2KeyLen {
		return bad("bad key")
	}
	return p, nil
}

func parseArgon2Params(s string, m, t, p *uint64) error {
	parts := strings.Split(s, ",")
	want := []struct {
		name string
		v    *uint64
	}{{"m", m}, {"t", t}, {"p", p}}
	if len(parts) != len(want) {
		return errors.New("want parameters m, t and p")
	}
	for i, w := range want {
		k, v, ok := strings.Cut(parts[i], "=")
		if !ok || k != w.name {
			return errors.New("want parameters m, t and p")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("parameter %s: not a number", k)
		}
		*w.v = n
	}
	return nil
}
