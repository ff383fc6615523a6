package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Bounds of the token verifiers.
const (
	maxJWKSBody       = 1 << 20          // a key set or introspection answer
	jwksRefetchPeriod = 30 * time.Second // at most one fetch per period for unknown kids
	oauthHTTPTimeout  = 10 * time.Second
	jwtLeeway         = time.Minute // clock skew allowed on exp/nbf/iat
)

// jwtAlgorithms are the signature algorithms accepted: asymmetric only, so
// "none" and HMAC tokens (which anyone holding the shared secret, or no one
// at all, could make) are refused before any key is looked at.
var jwtAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// OAuthOptions configure the bearer-token verifiers (the [OAuth] section).
type OAuthOptions struct {
	Issuer   string // the "iss" every token must carry
	Audience string // a value of "aud" every token must carry
	// JWKSURL is where the issuer's public keys are (RFC 7517 key set):
	// tokens are JWTs checked locally.
	JWKSURL string
	// IntrospectionURL, with ClientID and ClientSecret, asks the issuer
	// about opaque tokens instead (RFC 7662).
	IntrospectionURL       string
	ClientID, ClientSecret string
	// UsernameClaim names the claim whose value is the login name;
	// "email" (the default) also requires email_verified not false.
	UsernameClaim string
	// HTTP fetches keys and asks the introspection endpoint; nil: a client
	// with a 10-second timeout.
	HTTP  *http.Client
	Clock func() time.Time
}

// NewTokenVerifier returns the verifier the options describe: JWTs against
// JWKSURL, or introspection when IntrospectionURL is set.
func NewTokenVerifier(o OAuthOptions) TokenVerifier {
	if o.UsernameClaim == "" {
		o.UsernameClaim = "email"
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: oauthHTTPTimeout}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.IntrospectionURL != "" {
		return &introspector{o: o}
	}
	return &jwtVerifier{o: o}
}

// jwtVerifier checks signed JWTs (RFC 7519) with keys from a JWKS URL,
// fetched on first use and again when a token names an unknown key id.
type jwtVerifier struct {
	o OAuthOptions

	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

func (v *jwtVerifier) VerifyToken(ctx context.Context, token string) (string, error) {
	if len(token) > MaxBearerToken {
		return "", fmt.Errorf("%w: longer than %d octets", ErrInvalidToken, MaxBearerToken)
	}
	tok, err := jwt.ParseSigned(token, jwtAlgorithms)
	if err != nil || len(tok.Headers) != 1 {
		return "", fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	key, err := v.key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return "", err
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(key, &std, &all); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if std.Expiry == nil {
		return "", fmt.Errorf("%w: no exp claim", ErrInvalidToken)
	}
	exp := jwt.Expected{Issuer: v.o.Issuer, AnyAudience: jwt.Audience{v.o.Audience}, Time: v.o.Clock()}
	if err := std.ValidateWithLeeway(exp, jwtLeeway); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return claimUser(all, v.o.UsernameClaim)
}

// claimUser returns the login name from the claims.
func claimUser(claims map[string]any, name string) (string, error) {
	user, _ := claims[name].(string)
	if user == "" {
		return "", fmt.Errorf("%w: no %s claim", ErrInvalidToken, name)
	}
	if name == "email" {
		if verified, ok := claims["email_verified"].(bool); ok && !verified {
			return "", fmt.Errorf("%w: email not verified", ErrInvalidToken)
		}
	}
	return user, nil
}

// key returns the public key of kid, fetching the key set when it is not
// known yet (at most once per jwksRefetchPeriod once a set is held). A key
// set that cannot be fetched is a temporary failure.
func (v *jwtVerifier) key(ctx context.Context, kid string) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k := v.lookup(kid); k != nil {
		return k, nil
	}
	if v.keys != nil && v.o.Clock().Sub(v.fetched) < jwksRefetchPeriod {
		return nil, fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, kid)
	}
	set, err := v.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch the OAuth key set: %w", err)
	}
	v.keys, v.fetched = set, v.o.Clock()
	if k := v.lookup(kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, kid)
}

func (v *jwtVerifier) lookup(kid string) any {
	if v.keys == nil {
		return nil
	}
	for _, k := range v.keys.Keys {
		if k.KeyID == kid && k.IsPublic() && k.Valid() && (k.Use == "" || k.Use == "sig") {
			return k.Key
		}
	}
	return nil
}

func (v *jwtVerifier) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, oauthHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.o.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := doJSON(v.o.HTTP, req, &set); err != nil {
		return nil, err
	}
	return &set, nil
}

// doJSON sends req and decodes a 200 answer of at most maxJWKSBody.
func doJSON(c *http.Client, req *http.Request, dst any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", req.URL.Redacted(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSBody {
		return errors.New("answer larger than 1 MiB")
	}
	return json.Unmarshal(body, dst)
}

// introspector asks the issuer whether an opaque token is active (RFC
// 7662 §2), authenticating with the client id and secret (§2.1, HTTP Basic).
type introspector struct{ o OAuthOptions }

func (v *introspector) VerifyToken(ctx context.Context, token string) (string, error) {
	if len(token) > MaxBearerToken {
		return "", fmt.Errorf("%w: longer than %d octets", ErrInvalidToken, MaxBearerToken)
	}
	ctx, cancel := context.WithTimeout(ctx, oauthHTTPTimeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.o.IntrospectionURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(v.o.ClientID), url.QueryEscape(v.o.ClientSecret))
	var claims map[string]any
	if err := doJSON(v.o.HTTP, req, &claims); err != nil {
		return "", fmt.Errorf("token introspection: %w", err)
	}
	if active, _ := claims["active"].(bool); !active {
		return "", fmt.Errorf("%w: not active", ErrInvalidToken)
	}
	if iss, ok := claims["iss"].(string); ok && v.o.Issuer != "" && iss != v.o.Issuer {
		return "", fmt.Errorf("%w: issuer %q", ErrInvalidToken, iss)
	}
	if !audienceHas(claims["aud"], v.o.Audience) {
		return "", fmt.Errorf("%w: not for audience %q", ErrInvalidToken, v.o.Audience)
	}
	if exp, ok := claims["exp"].(float64); ok && v.o.Clock().After(time.Unix(int64(exp), 0).Add(jwtLeeway)) {
		return "", fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	return claimUser(claims, v.o.UsernameClaim)
}

// audienceHas reports whether an "aud" value (a string or a list) holds
// want; an absent aud passes only when no audience is configured.
func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, _ := x.(string); s == want {
				return true
			}
		}
	case nil:
		return want == ""
	}
	return false
}
