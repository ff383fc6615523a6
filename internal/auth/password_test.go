package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func bcryptHash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestHashRoundTrip(t *testing.T) {
	h := newTestHasher()
	for _, pw := range []string{"pencil", "correct horse battery staple", "pässwörd", "日本語のパスワード", strings.Repeat("x", 500)} {
		hash, err := h.Hash(pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("hash %q: wrong prefix", hash)
		}
		if ok, err := h.Verify(hash, pw); !ok || err != nil {
			t.Errorf("Verify(%q, right) = %v, %v", pw, ok, err)
		}
		if ok, err := VerifyPassword(hash, pw+"x"); ok || err != nil {
			t.Errorf("VerifyPassword(%q, wrong) = %v, %v", pw, ok, err)
		}
	}
	a, _ := h.Hash("same")
	b, _ := h.Hash("same")
	if a == b {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	if _, err := h.Hash(""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("Hash(\"\") err = %v", err)
	}
}

// TestDefaultHash checks the production format once (about 0.1 s).
func TestDefaultHash(t *testing.T) {
	if testing.Short() {
		t.Skip("argon2id at production cost")
	}
	hash, err := HashPassword("pencil")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash = %q", hash)
	}
	if NeedsRehash(hash) {
		t.Error("NeedsRehash of a fresh default hash")
	}
	if ok, err := VerifyPassword(hash, "pencil"); !ok || err != nil {
		t.Errorf("VerifyPassword = %v, %v", ok, err)
	}
}

// TestVerifyReferenceHash checks a hash made by the reference
// implementation's command-line tool (Debian package argon2):
//
//	echo -n password | argon2 somesalt -id -t 2 -m 10 -p 2 -l 32 -e
func TestVerifyReferenceHash(t *testing.T) {
	const ref = "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHQ$kEfNQbPvk6Q7hokW6Jrvn1Mjb9kdT/I7OXVDKsviazk"
	if ok, err := VerifyPassword(ref, "password"); !ok || err != nil {
		t.Fatalf("VerifyPassword(reference, right) = %v, %v", ok, err)
	}
	if ok, err := VerifyPassword(ref, "Password"); ok || err != nil {
		t.Fatalf("VerifyPassword(reference, wrong) = %v, %v", ok, err)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	hash := bcryptHash(t, "legacy")
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		h := prefix + hash[4:]
		if ok, err := VerifyPassword(h, "legacy"); !ok || err != nil {
			t.Errorf("VerifyPassword(%s…, right) = %v, %v", prefix, ok, err)
		}
		if ok, err := VerifyPassword(h, "Legacy"); ok || err != nil {
			t.Errorf("VerifyPassword(%s…, wrong) = %v, %v", prefix, ok, err)
		}
		if !NeedsRehash(h) {
			t.Errorf("NeedsRehash(bcrypt) = false")
		}
	}
	// A legacy system that hashed a decomposed (NFD) password unprepared.
	nfd := "cafe\u0301"
	if ok, err := VerifyPassword(bcryptHash(t, nfd), nfd); !ok || err != nil {
		t.Errorf("VerifyPassword(unprepared bcrypt) = %v, %v", ok, err)
	}
	if _, err := VerifyPassword("$2a$10$short", "x"); !errors.Is(err, ErrInvalidHash) {
		t.Errorf("truncated bcrypt: err = %v", err)
	}
}

func TestVerifyBadHashes(t *testing.T) {
	good, _ := newTestHasher().Hash("pw")
	f := strings.Split(good, "$")
	bad := []string{
		"",
		"plaintext",
		// argon2i is an imported scheme now (schemes.go): a bad one is
		// still invalid.
		"$argon2i$v=16$m=64,t=1,p=1$" + f[4] + "$" + f[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + f[4] + "$" + f[5],
		"$argon2id$v=19$t=1,m=64,p=1$" + f[4] + "$" + f[5],
		"$argon2id$v=19$m=64,t=1$" + f[4] + "$" + f[5],
		"$argon2id$v=19$m=64,t=0,p=1$" + f[4] + "$" + f[5],
		"$argon2id$v=19$m=4294967295,t=1,p=1$" + f[4] + "$" + f[5], // 4 TiB
		"$argon2id$v=19$m=64,t=1,p=1$" + f[4] + "==$" + f[5],
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + f[5], // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$" + f[4] + "$AAAA",
		"$argon2id$v=19$m=64,t=1,p=1$" + f[4] + "$" + f[5] + "$",
		"$1$md5crypt$x",
	}
	for _, h := range bad {
		if ok, err := VerifyPassword(h, "pw"); ok || !errors.Is(err, ErrInvalidHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want ErrInvalidHash", h, ok, err)
		}
		if !NeedsRehash(h) {
			t.Errorf("NeedsRehash(%q) = false", h)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	cheap := newTestHasher()
	hash, _ := cheap.Hash("pw")
	if cheap.NeedsRehash(hash) {
		t.Error("NeedsRehash with the same parameters")
	}
	if !NeedsRehash(hash) {
		t.Error("NeedsRehash of a cheap hash under the default parameters = false")
	}
	other := &Hasher{Argon2: Argon2Params{Memory: 128, Time: 1, Threads: 1}}
	if !other.NeedsRehash(hash) {
		t.Error("NeedsRehash with more memory = false")
	}
}

func TestPreparePassword(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pencil", "pencil"},
		{"I\u00ADX", "IX"},               // RFC 4013 §3 example: soft hyphen maps to nothing
		{"\u00AA", "a"},                  // NFKC
		{"\u2168", "IX"},                 // NFKC
		{"a\u00A0b", "a b"},              // non-ASCII space maps to space
		{"cafe\u0301", "caf\u00e9"},      // NFC composition
		{"bad\x07", "bad\x07"},           // prohibited: used as given
		{"\U0001F600pw", "\U0001F600pw"}, // unassigned in Unicode 3.2: used as given
		{"\xff\xfe", "\xff\xfe"},         // not UTF-8: used as given
	}
	for _, tt := range tests {
		if got := PreparePassword(tt.in); got != tt.want {
			t.Errorf("PreparePassword(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Either Unicode form of a password verifies a hash of the other.
	h := newTestHasher()
	hash, _ := h.Hash("caf\u00e9")
	if ok, _ := h.Verify(hash, "cafe\u0301"); !ok {
		t.Error("NFD password does not verify against NFC hash")
	}
}

func TestCredentials(t *testing.T) {
	u, err := newTestHasher().Credentials("pencil")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash == nil || u.SCRAM == nil || u.APOPSecret != nil || u.Disabled != nil {
		t.Fatalf("Credentials set the wrong fields: %+v", u)
	}
	if u.SCRAM.Iterations != MinSCRAMIterations || len(u.SCRAM.Salt) != scramSaltLen || len(u.SCRAM.StoredKey) != 32 || len(u.SCRAM.ServerKey) != 32 {
		t.Errorf("SCRAM = %+v", u.SCRAM)
	}
	if _, err := DeriveSCRAM("pencil", 4095); err == nil {
		t.Error("DeriveSCRAM accepted 4095 iterations")
	}
	if _, err := newTestHasher().Credentials(""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("Credentials(\"\") err = %v", err)
	}
}
