package auth

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/GehirnInc/crypt"
	_ "github.com/GehirnInc/crypt/apr1_crypt"   // $apr1$, Apache's htpasswd -m
	_ "github.com/GehirnInc/crypt/md5_crypt"    // $1$
	_ "github.com/GehirnInc/crypt/sha256_crypt" // $5$
	_ "github.com/GehirnInc/crypt/sha512_crypt" // $6$
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Imported password hashes (issue 22). An account moved from another
// system keeps its hash as that system wrote it: a Dovecot scheme with its
// "{SCHEME}" prefix (https://doc.dovecot.org/configuration_manual/
// authentication/password_schemes/), a crypt(3) string from a shadow file
// ("$y$", "$6$", "$5$", "$2b$", "$1$") or an htpasswd entry ("$apr1$",
// "{SHA}"). The first successful login replaces it with Postern's argon2id
// and derives the SCRAM keys (Options.Upgrade). A hash in none of these
// forms is refused at import ([CheckHash]), never stored.

// ErrUnsupportedScheme means a hash's scheme is recognised but not
// supported, or not recognised at all. It wraps ErrInvalidHash: such a
// hash can never be verified here.
var ErrUnsupportedScheme = fmt.Errorf("%w: unsupported password scheme", ErrInvalidHash)

// Bounds on imported hashes, so that a hostile file cannot make a login
// spin: PBKDF2 and sha-crypt rounds, salts.
const (
	maxPBKDF2Rounds   = 1_000_000
	maxCryptRounds    = 1_000_000
	maxImportedSalt   = 1024
	maxImportedLength = 4096
)

// foreignHash is a parsed imported hash: how to check a password.
type foreignHash struct {
	scheme string
	// cost is the computation to run outside the hash queue or under it:
	// memoryHard hashes (argon2, yescrypt) take a queue slot.
	memoryHard bool
	verify     func(password []byte) (bool, error)
}

// CheckHash reports whether hash can be stored for an account: an argon2id
// hash of Postern's own, or an imported hash whose scheme this package
// verifies, well formed. It computes no hash.
func CheckHash(hash string) (scheme string, err error) {
	if _, err := parsePHC(hash); err == nil {
		return "ARGON2ID", nil
	}
	f, err := parseForeignHash(hash)
	if err != nil {
		return "", err
	}
	return f.scheme, nil
}

// parseForeignHash recognises an imported hash.
func parseForeignHash(hash string) (foreignHash, error) {
	if len(hash) > maxImportedLength {
		return foreignHash{}, fmt.Errorf("%w: hash longer than %d characters", ErrInvalidHash, maxImportedLength)
	}
	if strings.HasPrefix(hash, "{") {
		end := strings.IndexByte(hash, '}')
		if end < 0 {
			return foreignHash{}, fmt.Errorf("%w: \"{\" without \"}\"", ErrInvalidHash)
		}
		return parseDovecotHash(strings.ToUpper(hash[1:end]), hash[end+1:])
	}
	return parseCryptHash(hash)
}

// parseDovecotHash handles "{SCHEME}rest".
func parseDovecotHash(scheme, rest string) (foreignHash, error) {
	want := func(prefix string) (foreignHash, error) {
		if !strings.HasPrefix(rest, prefix) {
			return foreignHash{}, fmt.Errorf("%w: {%s} hash does not start with %s", ErrInvalidHash, scheme, prefix)
		}
		f, err := parseCryptHash(rest)
		f.scheme = scheme
		return f, err
	}
	switch scheme {
	case "SHA512-CRYPT":
		return want("$6$")
	case "SHA256-CRYPT":
		return want("$5$")
	case "MD5-CRYPT":
		return want("$1$")
	case "BLF-CRYPT":
		return want("$2")
	case "ARGON2ID":
		return want("$argon2id$")
	case "ARGON2I":
		return want("$argon2i$")
	case "CRYPT":
		// Dovecot's CRYPT is crypt(3): whatever form the string has.
		f, err := parseCryptHash(rest)
		f.scheme = scheme
		return f, err
	case "SSHA512":
		return parseSaltedDigest(scheme, rest, sha512.New)
	case "SSHA256":
		return parseSaltedDigest(scheme, rest, sha256.New)
	case "SSHA":
		return parseSaltedDigest(scheme, rest, sha1.New)
	case "SHA":
		// Unsalted SHA-1 in base64: Dovecot's {SHA} and htpasswd -s.
		return parseDigest(scheme, rest, sha1.New)
	case "SHA256":
		return parseDigest(scheme, rest, sha256.New)
	case "SHA512":
		return parseDigest(scheme, rest, sha512.New)
	case "PBKDF2":
		return parsePBKDF2(rest)
	case "PLAIN", "CLEAR", "CLEARTEXT":
		if rest == "" {
			return foreignHash{}, fmt.Errorf("%w: empty {PLAIN} password", ErrInvalidHash)
		}
		return foreignHash{scheme: "PLAIN", verify: func(pw []byte) (bool, error) {
			return subtle.ConstantTimeCompare(pw, []byte(rest)) == 1, nil
		}}, nil
	}
	return foreignHash{}, fmt.Errorf("%w: {%s}", ErrUnsupportedScheme, scheme)
}

// parseCryptHash handles the crypt(3) forms.
func parseCryptHash(h string) (foreignHash, error) {
	switch {
	case strings.HasPrefix(h, "$y$"):
		y, err := parseYescrypt(h)
		if err != nil {
			return foreignHash{}, err
		}
		return foreignHash{scheme: "YESCRYPT", memoryHard: true, verify: func(pw []byte) (bool, error) {
			return verifyYescrypt(y, pw), nil
		}}, nil
	case isBcrypt(h):
		if _, err := bcrypt.Cost([]byte(h)); err != nil {
			return foreignHash{}, fmt.Errorf("%w: bcrypt: %v", ErrInvalidHash, err)
		}
		return foreignHash{scheme: "BLF-CRYPT", verify: func(pw []byte) (bool, error) {
			return verifyBcrypt(h, string(pw))
		}}, nil
	case strings.HasPrefix(h, "$argon2id$"), strings.HasPrefix(h, "$argon2i$"):
		return parseArgon2(h)
	case strings.HasPrefix(h, "$6$"), strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$1$"), strings.HasPrefix(h, "$apr1$"):
		return parseShaCrypt(h)
	case strings.HasPrefix(h, "$"):
		id, _, _ := strings.Cut(h[1:], "$")
		return foreignHash{}, fmt.Errorf("%w: crypt $%s$", ErrUnsupportedScheme, id)
	case h == "":
		return foreignHash{}, fmt.Errorf("%w: empty", ErrInvalidHash)
	}
	// 13 characters of [./0-9A-Za-z] is the traditional DES crypt.
	return foreignHash{}, fmt.Errorf("%w: DES crypt or unknown form", ErrUnsupportedScheme)
}

// shaCryptLengths are the lengths of the encoded checksum of each crypt
// form GehirnInc/crypt verifies.
var shaCryptLengths = map[string]int{"6": 86, "5": 43, "1": 22, "apr1": 22}

// parseShaCrypt handles sha512-crypt, sha256-crypt, md5-crypt and apr1
// through GehirnInc/crypt. The string is checked here, without hashing:
// $ID$[rounds=N$]SALT$CHECKSUM, the salt at most 16 characters and the
// rounds bounded, so that a hostile hash cannot make a login spin.
func parseShaCrypt(h string) (foreignHash, error) {
	bad := func(why string) (foreignHash, error) {
		return foreignHash{}, fmt.Errorf("%w: crypt: %s", ErrInvalidHash, why)
	}
	f := strings.Split(h, "$")
	if len(f) < 4 || f[0] != "" {
		return bad("want $ID$SALT$CHECKSUM")
	}
	id := f[1]
	rest := f[2:]
	if (id == "5" || id == "6") && strings.HasPrefix(rest[0], "rounds=") {
		r, err := strconv.Atoi(strings.TrimPrefix(rest[0], "rounds="))
		if err != nil || r < 1000 || r > maxCryptRounds {
			return bad("rounds out of range")
		}
		rest = rest[1:]
	}
	if len(rest) != 2 || len(rest[0]) > 16 || len(rest[1]) != shaCryptLengths[id] || !isCrypt64(rest[0]) || !isCrypt64(rest[1]) {
		return bad("bad salt or checksum")
	}
	c := crypt.NewFromHash(h)
	if c == nil {
		return foreignHash{}, fmt.Errorf("%w: crypt $%s$", ErrUnsupportedScheme, id)
	}
	scheme := map[string]string{"6": "SHA512-CRYPT", "5": "SHA256-CRYPT", "1": "MD5-CRYPT", "apr1": "APR1"}[id]
	return foreignHash{scheme: scheme, verify: func(pw []byte) (bool, error) {
		err := c.Verify(h, pw)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, crypt.ErrKeyMismatch):
			return false, nil
		}
		return false, fmt.Errorf("%w: %v", ErrInvalidHash, err)
	}}, nil
}

func isCrypt64(s string) bool {
	for i := range len(s) {
		if atoi64(s[i]) > 63 {
			return false
		}
	}
	return true
}

// parseArgon2 handles "$argon2id$" and "$argon2i$" PHC strings as Dovecot
// (libsodium) writes them.
func parseArgon2(h string) (foreignHash, error) {
	variant := "argon2id"
	if strings.HasPrefix(h, "$argon2i$") {
		variant = "argon2i"
		h = "$argon2id$" + h[len("$argon2i$"):]
	}
	p, err := parsePHC(h)
	if err != nil {
		return foreignHash{}, err
	}
	return foreignHash{scheme: strings.ToUpper(variant), memoryHard: true, verify: func(pw []byte) (bool, error) {
		var key []byte
		if variant == "argon2i" {
			key = argon2.Key(pw, p.salt, p.Time, p.Memory, p.Threads, uint32(len(p.key)))
		} else {
			key = argon2.IDKey(pw, p.salt, p.Time, p.Memory, p.Threads, uint32(len(p.key)))
		}
		return subtle.ConstantTimeCompare(key, p.key) == 1, nil
	}}, nil
}

// parseSaltedDigest handles {SSHA*}: base64 of the digest of password and
// salt, followed by the salt.
func parseSaltedDigest(scheme, rest string, h func() hash.Hash) (foreignHash, error) {
	raw, err := base64.StdEncoding.DecodeString(rest)
	size := h().Size()
	if err != nil || len(raw) <= size || len(raw) > size+maxImportedSalt {
		return foreignHash{}, fmt.Errorf("%w: {%s}: bad base64 or salt", ErrInvalidHash, scheme)
	}
	sum, salt := raw[:size], raw[size:]
	return foreignHash{scheme: scheme, verify: func(pw []byte) (bool, error) {
		d := h()
		d.Write(pw)
		d.Write(salt)
		return subtle.ConstantTimeCompare(d.Sum(nil), sum) == 1, nil
	}}, nil
}

// parseDigest handles unsalted digests in base64.
func parseDigest(scheme, rest string, h func() hash.Hash) (foreignHash, error) {
	sum, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(sum) != h().Size() {
		return foreignHash{}, fmt.Errorf("%w: {%s}: bad base64 or length", ErrInvalidHash, scheme)
	}
	return foreignHash{scheme: scheme, verify: func(pw []byte) (bool, error) {
		d := h()
		d.Write(pw)
		return subtle.ConstantTimeCompare(d.Sum(nil), sum) == 1, nil
	}}, nil
}

// parsePBKDF2 handles Dovecot's {PBKDF2}$1$SALT$ROUNDS$HEX: PBKDF2 with
// HMAC-SHA1 (RFC 8018 §5.2), the salt taken as the characters written.
func parsePBKDF2(rest string) (foreignHash, error) {
	f := strings.Split(rest, "$")
	bad := func(why string) (foreignHash, error) {
		return foreignHash{}, fmt.Errorf("%w: {PBKDF2}: %s", ErrInvalidHash, why)
	}
	if len(f) != 5 || f[0] != "" || f[1] != "1" {
		return bad("want $1$SALT$ROUNDS$HEX")
	}
	salt := f[2]
	rounds, err := strconv.Atoi(f[3])
	if err != nil || rounds < 1 || rounds > maxPBKDF2Rounds {
		return bad("bad rounds")
	}
	sum, err := hex.DecodeString(f[4])
	if err != nil || len(sum) < 16 || len(sum) > 64 || salt == "" || len(salt) > maxImportedSalt {
		return bad("bad salt or key")
	}
	return foreignHash{scheme: "PBKDF2", verify: func(pw []byte) (bool, error) {
		key, err := pbkdf2.Key(sha1.New, string(pw), []byte(salt), rounds, len(sum))
		if err != nil {
			return false, err
		}
		return subtle.ConstantTimeCompare(key, sum) == 1, nil
	}}, nil
}
