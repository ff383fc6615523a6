package tlsconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/scrypt"
)

// Object identifiers of RFC 8018 (PKCS #5 v2.1), RFC 7914 (scrypt) and
// NIST (AES modes).
var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8} // SHA-224
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC     = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// errDecrypt means the decryption produced garbage: almost always a wrong
// passphrase.
var errDecrypt = errors.New("decryption failed")

// kdfLimits bound the work an encrypted key may ask for, so a hostile or
// corrupt file cannot stall startup (and the fuzz test stays fast).
type kdfLimits struct {
	maxIterations int // PBKDF2 iteration count
	maxScryptMem  int // 128·N·r bytes
}

// defaultKDFLimits are far above what openssl writes (PBKDF2 2048 or
// 600000 iterations, scrypt N=16384 r=8) and far below a denial of service.
var defaultKDFLimits = kdfLimits{maxIterations: 10_000_000, maxScryptMem: 1 << 30}

// RFC 5958 §3 EncryptedPrivateKeyInfo.
type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// RFC 8018 §A.4 PBES2-params.
type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

// RFC 8018 §A.2 PBKDF2-params; the salt is always the "specified" choice in
// practice (otherSource is reserved).
type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                 `asn1:"optional"`
	PRF            algorithmIdentifier `asn1:"optional"`
}

// RFC 7914 §7.1 scrypt-params.
type scryptParams struct {
	Salt                     []byte
	CostParameter            int
	BlockSize                int
	ParallelizationParameter int
	KeyLength                int `asn1:"optional"`
}

// decryptPKCS8 decrypts the DER of an "ENCRYPTED PRIVATE KEY" block and
// returns the DER of the PKCS #8 PrivateKeyInfo inside. A wrong passphrase
// gives an error wrapping errDecrypt; an unsupported algorithm says which.
func decryptPKCS8(der, passphrase []byte, lim kdfLimits) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("parse encrypted private key: %w", err)
	} else if len(rest) != 0 {
		return nil, errors.New("parse encrypted private key: trailing data")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("unsupported key encryption %v (only PBES2 is supported; re-encrypt with: openssl pkcs8 -topk8 -v2 aes256)", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("parse PBES2 parameters: %w", err)
	}
	newCipher, keyLen, iv, err := encryptionScheme(params.EncryptionScheme)
	if err != nil {
		return nil, err
	}
	key, err := deriveKey(params.KeyDerivationFunc, passphrase, keyLen, lim)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, fmt.Errorf("key encryption cipher: %w", err)
	}
	return decryptCBC(block, iv, info.EncryptedData)
}

// encryptionScheme maps the PBES2 encryption scheme to a block cipher
// constructor, its key length and the IV.
func encryptionScheme(alg algorithmIdentifier) (func([]byte) (cipher.Block, error), int, []byte, error) {
	var newCipher func([]byte) (cipher.Block, error)
	var keyLen int
	switch {
	case alg.Algorithm.Equal(oidAES128CBC):
		newCipher, keyLen = aes.NewCipher, 16
	case alg.Algorithm.Equal(oidAES192CBC):
		newCipher, keyLen = aes.NewCipher, 24
	case alg.Algorithm.Equal(oidAES256CBC):
		newCipher, keyLen = aes.NewCipher, 32
	case alg.Algorithm.Equal(oidDESEDE3CBC):
		newCipher, keyLen = des.NewTripleDESCipher, 24
	default:
		return nil, 0, nil, fmt.Errorf("unsupported key encryption scheme %v (supported: AES-CBC, 3DES-CBC)", alg.Algorithm)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &iv); err != nil {
		return nil, 0, nil, fmt.Errorf("parse cipher IV: %w", err)
	}
	return newCipher, keyLen, iv, nil
}

// deriveKey runs the PBES2 key derivation function.
func deriveKey(kdf algorithmIdentifier, passphrase []byte, keyLen int, lim kdfLimits) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("parse PBKDF2 parameters: %w", err)
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, fmt.Errorf("PBKDF2 key length %d does not match the cipher's %d", p.KeyLength, keyLen)
		}
		if p.IterationCount < 1 || p.IterationCount > lim.maxIterations {
			return nil, fmt.Errorf("PBKDF2 iteration count %d out of range 1..%d", p.IterationCount, lim.maxIterations)
		}
		h, err := prfHash(p.PRF)
		if err != nil {
			return nil, err
		}
		return pbkdf2.Key(h, string(passphrase), p.Salt, p.IterationCount, keyLen)
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("parse scrypt parameters: %w", err)
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, fmt.Errorf("scrypt key length %d does not match the cipher's %d", p.KeyLength, keyLen)
		}
		n, r, par := p.CostParameter, p.BlockSize, p.ParallelizationParameter
		if n < 2 || r < 1 || par < 1 || r > lim.maxScryptMem/128/n || par > 16 {
			return nil, fmt.Errorf("scrypt parameters N=%d r=%d p=%d out of range", n, r, par)
		}
		return scrypt.Key(passphrase, p.Salt, n, r, par, keyLen)
	}
	return nil, fmt.Errorf("unsupported key derivation function %v (supported: PBKDF2, scrypt)", kdf.Algorithm)
}

// prfHash maps the PBKDF2 pseudo-random function to a hash. RFC 8018 §A.2:
// the default is hmacWithSHA1.
func prfHash(prf algorithmIdentifier) (func() hash.Hash, error) {
	switch {
	case len(prf.Algorithm) == 0, prf.Algorithm.Equal(oidHMACWithSHA1):
		return sha1.New, nil
	case prf.Algorithm.Equal(oidHMACWithSHA224):
		return sha256.New224, nil
	case prf.Algorithm.Equal(oidHMACWithSHA256):
		return sha256.New, nil
	case prf.Algorithm.Equal(oidHMACWithSHA384):
		return sha512.New384, nil
	case prf.Algorithm.Equal(oidHMACWithSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unsupported PBKDF2 PRF %v", prf.Algorithm)
}

// decryptCBC decrypts and removes the RFC 8018 §6.1.1 (PKCS #7) padding.
func decryptCBC(block cipher.Block, iv, data []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("cipher IV is %d bytes, want %d", len(iv), bs)
	}
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, fmt.Errorf("encrypted key is %d bytes, not a multiple of the block size %d", len(data), bs)
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs {
		return nil, errDecrypt
	}
	want := make([]byte, pad)
	for i := range want {
		want[i] = byte(pad)
	}
	if subtle.ConstantTimeCompare(out[len(out)-pad:], want) != 1 {
		return nil, errDecrypt
	}
	return out[:len(out)-pad], nil
}
