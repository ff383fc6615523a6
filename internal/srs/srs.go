// Package srs rewrites envelope senders with the Sender Rewriting Scheme,
// SRS0 form, so that mail forwarded off-site passes SPF at the far end,
// and reverses the rewrite for a bounce, checking its hash and age.
//
// An address local@domain forwarded by forwarder.example becomes
//
//	SRS0=HHHH=TT=domain=local@forwarder.example
//
// TT is the day of the rewrite (days since the Unix epoch, modulo 1024)
// in two base32 characters; HHHH is the first four base32 characters of
// an HMAC-SHA256, under the site secret, of TT, the domain and the local
// part, lower-cased, so that a relay that changes the case of the address
// does not break it. Secrets rotate: the first signs, every one verifies.
package srs

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"
)

// Errors of Reverse.
var (
	ErrNotSRS   = errors.New("srs: not an SRS0 address")
	ErrBadHash  = errors.New("srs: hash does not verify")
	ErrTooOld   = errors.New("srs: timestamp out of range")
	ErrNoSecret = errors.New("srs: no secret")
)

const (
	prefix    = "SRS0="
	hashLen   = 4
	stampMod  = 1024 // two base32 characters
	stampChar = "abcdefghijklmnopqrstuvwxyz234567"
)

var b32 = base32.NewEncoding(stampChar).WithPadding(base32.NoPadding)

// Rewriter rewrites and reverses addresses for one forwarding domain.
type Rewriter struct {
	// Domain is the forwarder's domain, where bounces come back.
	Domain string
	// Secrets are the HMAC keys: the first signs, all verify.
	Secrets [][]byte
	// MaxAge is how long a rewritten address stays valid; zero means 21 days.
	MaxAge time.Duration
}

func (r *Rewriter) maxAgeDays() int {
	if r.MaxAge <= 0 {
		return 21
	}
	return int(r.MaxAge / (24 * time.Hour))
}

func stamp(now time.Time) int { return int(now.Unix()/86400) % stampMod }

func encodeStamp(n int) string {
	return string([]byte{stampChar[n>>5&31], stampChar[n&31]})
}

func decodeStamp(s string) (int, bool) {
	if len(s) != 2 {
		return 0, false
	}
	a, b := strings.IndexByte(stampChar, lower(s[0])), strings.IndexByte(stampChar, lower(s[1]))
	if a < 0 || b < 0 {
		return 0, false
	}
	return a<<5 | b, true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hash(secret []byte, tt, domain, local string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.ToLower(tt + "=" + domain + "=" + local)))
	return b32.EncodeToString(m.Sum(nil))[:hashLen]
}

// Forward rewrites the sender local@domain into an SRS0 address at
// r.Domain. The null sender and addresses without a domain are not
// rewritten: the caller keeps them.
func (r *Rewriter) Forward(sender string, now time.Time) (string, error) {
	if len(r.Secrets) == 0 {
		return "", ErrNoSecret
	}
	at := strings.LastIndexByte(sender, '@')
	if at <= 0 || at == len(sender)-1 {
		return "", ErrNotSRS
	}
	local, domain := sender[:at], sender[at+1:]
	tt := encodeStamp(stamp(now))
	return prefix + hash(r.Secrets[0], tt, domain, local) + "=" + tt + "=" + domain + "=" + local + "@" + r.Domain, nil
}

// Reverse returns the original sender of an SRS0 local part (the part
// before the @ of a bounce's recipient), after checking its hash under
// every secret and that its timestamp is no older than MaxAge (and not
// in the future).
func (r *Rewriter) Reverse(local string, now time.Time) (string, error) {
	if len(local) < len(prefix) || !strings.EqualFold(local[:len(prefix)], prefix) {
		return "", ErrNotSRS
	}
	fields := strings.SplitN(local[len(prefix):], "=", 4)
	if len(fields) != 4 || len(fields[0]) != hashLen || fields[2] == "" || fields[3] == "" {
		return "", ErrNotSRS
	}
	h, tt, domain, orig := fields[0], fields[1], fields[2], fields[3]
	n, ok := decodeStamp(tt)
	if !ok {
		return "", ErrNotSRS
	}
	if len(r.Secrets) == 0 {
		return "", ErrNoSecret
	}
	verified := false
	for _, s := range r.Secrets {
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(h)), []byte(hash(s, tt, domain, orig))) == 1 {
			verified = true
		}
	}
	if !verified {
		return "", ErrBadHash
	}
	age := (stamp(now) - n + stampMod) % stampMod
	if age > r.maxAgeDays() {
		return "", ErrTooOld
	}
	return orig + "@" + domain, nil
}
