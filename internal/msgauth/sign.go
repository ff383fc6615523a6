package msgauth

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/postern/postern/internal/store"
)

// KeySource gives the DKIM keys of a domain (store.DKIMKeyKeeper).
type KeySource interface {
	DKIMKeys(ctx context.Context, domain string) ([]store.DKIMKey, error)
}

// signedHeaders are the fields signed (RFC 6376 §5.4.1's list, without
// the trace and rarely used ones). From, Subject, To, Cc, Date,
// Reply-To and Message-ID are listed twice: once for the field, once
// for its absence (§5.4.2), so that a second one added on the way
// breaks the signature ("oversigning", §8.15).
var signedHeaders = []string{
	"From", "From", "Reply-To", "Reply-To", "Subject", "Subject", "Date", "Date",
	"To", "To", "Cc", "Cc", "Message-ID", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-Disposition", "Content-ID", "Content-Description",
	"Resent-Date", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Message-ID",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe", "List-Post",
	"List-Owner", "List-Archive", "Sender",
}

// Signer signs submitted mail with the keys of its From domain.
type Signer struct {
	Keys   KeySource
	Logger *slog.Logger
}

// Sign returns the DKIM-Signature fields to prepend to the message read
// from open (called twice: once for the From field, once to sign), one
// per key of the From domain or, when it has none, of its nearest parent
// domain with keys (a d= of a parent domain is aligned for DMARC in
// relaxed mode, RFC 7489 §3.1.1). Several keys give several signatures:
// that is how a key is rotated (docs/mail-auth.md). No key: "".
func (s *Signer) Sign(ctx context.Context, open func() io.Reader) (string, error) {
	sig, err := s.sign(ctx, open)
	switch {
	case err != nil:
		dkimSigned.WithLabelValues("error").Inc()
	case sig == "":
		dkimSigned.WithLabelValues("nokey").Inc()
	default:
		dkimSigned.WithLabelValues("signed").Inc()
	}
	return sig, err
}

func (s *Signer) sign(ctx context.Context, open func() io.Reader) (string, error) {
	from, err := fromDomain(open())
	if err != nil {
		return "", nil // nothing to sign for: RFC 6376 §5.4 requires From
	}
	keys, err := s.keysFor(ctx, from)
	if err != nil || len(keys) == 0 {
		return "", err
	}
	var signers []*dkim.Signer
	var writers []io.Writer
	for _, k := range keys {
		priv, err := signer(k)
		if err != nil {
			s.logger().Error("dkim key unusable", "domain", k.Domain, "selector", k.Selector, "err", err)
			continue
		}
		ds, err := dkim.NewSigner(signOptions(k, priv))
		if err != nil {
			return "", fmt.Errorf("dkim signer %s: %w", RecordName(k), err)
		}
		signers, writers = append(signers, ds), append(writers, ds)
	}
	_, copyErr := io.Copy(io.MultiWriter(writers...), open())
	var b strings.Builder
	for _, ds := range signers {
		if err := ds.Close(); err != nil && copyErr == nil {
			copyErr = err
		}
		b.WriteString(ds.Signature())
	}
	if copyErr != nil {
		return "", fmt.Errorf("dkim sign: %w", copyErr)
	}
	return b.String(), nil
}

// signOptions: relaxed/relaxed (RFC 6376 §3.4.2, §3.4.4), SHA-256
// (RFC 8301 forbids SHA-1).
func signOptions(k store.DKIMKey, priv crypto.Signer) *dkim.SignOptions {
	return &dkim.SignOptions{
		Domain: k.Domain, Selector: k.Selector, Signer: priv, Hash: crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: signedHeaders,
	}
}

// keysFor returns the keys of domain or of its nearest parent with keys.
func (s *Signer) keysFor(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	for d := domain; strings.Contains(d, "."); {
		keys, err := s.Keys.DKIMKeys(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("dkim keys of %s: %w", d, err)
		}
		if len(keys) > 0 {
			return keys, nil
		}
		_, d, _ = strings.Cut(d, ".")
	}
	return nil, nil
}

func (s *Signer) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
