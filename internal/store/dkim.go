package store

import (
	"context"
	"errors"
	"time"
)

// DKIM signing keys (RFC 6376) live in the store, so that every node and
// every backup has them (issue 20; docs/mail-auth.md).

// Errors of [DKIMKeyKeeper].
var (
	ErrNoSuchDKIMKey = errors.New("no such DKIM key")
	ErrDKIMKeyExists = errors.New("DKIM key already exists")
)

// DKIMKey is one signing key of a domain under one selector
// (RFC 6376 §3.1: the public key is published at
// <Selector>._domainkey.<Domain>).
type DKIMKey struct {
	// Domain is the signing domain (the d= tag), lower case.
	Domain string
	// Selector is the s= tag, lower case.
	Selector string
	// Algorithm is "rsa" or "ed25519" (the k= tag of the key record).
	Algorithm string
	// PrivateKey is the private key, PKCS #8 DER.
	PrivateKey []byte
	// Created is when the key was added.
	Created time.Time
}

// DKIMKeyKeeper is implemented by stores that keep DKIM signing keys.
// Domains and selectors are compared case-insensitively and stored in
// lower case.
type DKIMKeyKeeper interface {
	// AddDKIMKey stores a new key. ErrDKIMKeyExists when the domain
	// already has a key under that selector.
	AddDKIMKey(ctx context.Context, key DKIMKey) error
	// DKIMKeys returns the keys of a domain ("" for every domain),
	// ordered by domain, then creation time (oldest first), then
	// selector.
	DKIMKeys(ctx context.Context, domain string) ([]DKIMKey, error)
	// DeleteDKIMKey removes a domain's key under a selector.
	// ErrNoSuchDKIMKey when there is none.
	DeleteDKIMKey(ctx context.Context, domain, selector string) error
}
