package tlsconf

import (
	"errors"
	"testing"
)

func TestDecryptPKCS8(t *testing.T) {
	plain := pkcs8DER(t, newECKey(t))
	enc := encryptPKCS8(t, plain, "secret", 1000)

	got, err := decryptPKCS8(enc, []byte("secret"), defaultKDFLimits)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(plain) {
		t.Error("decrypted key differs")
	}

	// A wrong passphrase fails the padding check nearly always; otherwise
	// the PKCS#8 parse in Load catches it.
	if got, err := decryptPKCS8(enc, []byte("wrong"), defaultKDFLimits); err == nil && string(got) == string(plain) {
		t.Error("wrong passphrase decrypted the key")
	} else if err != nil && !errors.Is(err, errDecrypt) {
		t.Errorf("wrong passphrase: err = %v, want errDecrypt", err)
	}

	// Work limits are enforced.
	if _, err := decryptPKCS8(enc, []byte("secret"), kdfLimits{maxIterations: 999, maxScryptMem: 1 << 20}); err == nil {
		t.Error("iteration limit not enforced")
	}
}

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = kdfLimits{maxIterations: 64, maxScryptMem: 1 << 16}

// FuzzDecryptPKCS8 feeds garbage and mutated encrypted keys to the PBES2
// decoder: it must never panic.
func FuzzDecryptPKCS8(f *testing.F) {
	f.Add(encryptPKCS8(f, []byte("0123456789abcdef0123"), "pw", 8), "pw")
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, "")
	f.Add([]byte{}, "x")
	f.Fuzz(func(t *testing.T, der []byte, pass string) {
		decryptPKCS8(der, []byte(pass), fuzzLimits)
	})
}

// FuzzParseKey runs whole key files (PEM, possibly encrypted) through the
// parser Load uses: it must never panic, whatever the bytes.
func FuzzParseKey(f *testing.F) {
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &Material{keyPath: "k", passPath: "p", kdf: fuzzLimits}
		m.parseKey(data, []byte("pw"))
	})
}
