package msgauth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// Key algorithms (the k= tag of a DKIM key record, RFC 6376 §3.6.1;
// ed25519 is RFC 8463 §4).
const (
	AlgorithmRSA     = "rsa"
	AlgorithmEd25519 = "ed25519"
)

// rsaBits is the size of new RSA keys: RFC 8301 §3.2 requires at least
// 1024 bits and recommends 2048; larger keys do not fit a single TXT
// string and some DNS hosting panels.
const rsaBits = 2048

// NewKey generates a DKIM key for domain under selector.
func NewKey(domain, selector, algorithm string, now time.Time) (store.DKIMKey, error) {
	if err := checkLabelName(domain, "domain"); err != nil {
		return store.DKIMKey{}, err
	}
	if err := checkLabelName(selector, "selector"); err != nil {
		return store.DKIMKey{}, err
	}
	var priv crypto.Signer
	var err error
	switch algorithm {
	case AlgorithmRSA:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case AlgorithmEd25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return store.DKIMKey{}, fmt.Errorf("unknown DKIM algorithm %q (rsa or ed25519)", algorithm)
	}
	if err != nil {
		return store.DKIMKey{}, fmt.Errorf("generate %s key: %w", algorithm, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.DKIMKey{}, fmt.Errorf("encode key: %w", err)
	}
	return store.DKIMKey{Domain: strings.ToLower(domain), Selector: strings.ToLower(selector),
		Algorithm: algorithm, PrivateKey: der, Created: now}, nil
}

// checkLabelName accepts a DNS name of letter-digit-hyphen labels (and
// underscores, which selectors may use): RFC 6376 §3.1, §3.5 (d=, s=).
func checkLabelName(name, what string) error {
	if name == "" || len(name) > 253 {
		return fmt.Errorf("invalid DKIM %s %q", what, name)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("invalid DKIM %s %q", what, name)
		}
		for _, c := range label {
			ok := c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			if !ok {
				return fmt.Errorf("invalid DKIM %s %q", what, name)
			}
		}
	}
	return nil
}

// signer decodes a stored key.
func signer(k store.DKIMKey) (crypto.Signer, error) {
	priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("DKIM key %s._domainkey.%s: %w", k.Selector, k.Domain, err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("DKIM key %s._domainkey.%s: not a signing key", k.Selector, k.Domain)
	}
	return s, nil
}

// RecordName is where the key's public half is published (RFC 6376
// §3.6.2.1).
func RecordName(k store.DKIMKey) string { return k.Selector + "._domainkey." + k.Domain }

// Record returns the TXT record of the key's public half (RFC 6376
// §3.6.1): "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>" for RSA,
// and for ed25519 the raw 32-octet public key (RFC 8463 §4.2).
func Record(k store.DKIMKey) (string, error) {
	s, err := signer(k)
	if err != nil {
		return "", err
	}
	var p []byte
	switch pub := s.Public().(type) {
	case ed25519.PublicKey:
		p = pub
	case *rsa.PublicKey:
		if p, err = x509.MarshalPKIXPublicKey(pub); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("DKIM key %s: unsupported key type %T", RecordName(k), pub)
	}
	return "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(p), nil
}

// ZoneLine formats the record as a zone-file line, the TXT data split
// into strings of at most 255 octets (RFC 1035 §3.3.14, RFC 6376
// §3.6.2.2: the strings are concatenated).
func ZoneLine(k store.DKIMKey) (string, error) {
	rec, err := Record(k)
	if err != nil {
		return "", err
	}
	var parts []string
	for len(rec) > 255 {
		parts = append(parts, `"`+rec[:255]+`"`)
		rec = rec[255:]
	}
	parts = append(parts, `"`+rec+`"`)
	return RecordName(k) + ". IN TXT ( " + strings.Join(parts, " ") + " )", nil
}
