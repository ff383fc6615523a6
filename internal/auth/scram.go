package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/postern/postern/internal/store"
)

// SCRAM-SHA-256 iteration counts (RFC 7677 §4: "at least 4096").
//
// The default is well above the minimum because the stored SCRAM keys sit
// next to the argon2id hash: whoever steals the account table attacks the
// cheaper of the two, so 4096 PBKDF2 rounds (under a millisecond) would
// make the argon2 cost pointless. It is capped by what real clients accept:
// Cyrus SASL (used by mbsync, mutt and others) refuses counts above 65,536
// with "iteration-count is too big", so the default is 32,768 — half that
// limit, eight times RFC 7677's minimum. It costs the server a few
// milliseconds once, when the password is set, and the client as much per
// login (clients may cache the salted password).
const (
	DefaultSCRAMIterations = 32_768
	MinSCRAMIterations     = 4096
)

// scramSaltLen is the length of the random salt of new SCRAM keys
// (RFC 5802 §5.1 sets no minimum; 16 bytes is NIST SP 800-132's).
const scramSaltLen = 16

// DeriveSCRAM computes the SCRAM-SHA-256 keys that the server stores for
// password (RFC 5802 §3), with a fresh random salt:
//
//	SaltedPassword = PBKDF2-HMAC-SHA-256(PreparePassword(password), salt, iterations)
//	StoredKey      = SHA-256(HMAC(SaltedPassword, "Client Key"))
//	ServerKey      = HMAC(SaltedPassword, "Server Key")
//
// iterations 0 means DefaultSCRAMIterations; below MinSCRAMIterations is an
// error.
func DeriveSCRAM(password string, iterations int) (store.SCRAMCredentials, error) {
	if iterations == 0 {
		iterations = DefaultSCRAMIterations
	}
	if iterations < MinSCRAMIterations {
		return store.SCRAMCredentials{}, fmt.Errorf("SCRAM iteration count %d is below the minimum of %d (RFC 7677 §4)", iterations, MinSCRAMIterations)
	}
	salt := make([]byte, scramSaltLen)
	rand.Read(salt)
	return deriveSCRAM(password, salt, iterations)
}

func deriveSCRAM(password string, salt []byte, iterations int) (store.SCRAMCredentials, error) {
	password = PreparePassword(password)
	if password == "" {
		return store.SCRAMCredentials{}, ErrEmptyPassword
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return store.SCRAMCredentials{}, fmt.Errorf("derive SCRAM keys: %w", err)
	}
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	storedKey := sha256.Sum256(clientKey)
	return store.SCRAMCredentials{
		Salt:       salt,
		Iterations: iterations,
		StoredKey:  storedKey[:],
		ServerKey:  hmacSHA256(salted, []byte("Server Key")),
	}, nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
