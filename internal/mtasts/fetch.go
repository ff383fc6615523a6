package mtasts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits of a policy fetch (§3.3: no redirects; a policy over 64 KB is
// not one).
const (
	maxPolicySize = 64 << 10
	fetchTimeout  = time.Minute
)

// Fetcher finds the policy of a domain, with a cache: a cached policy is
// used until its max_age runs out, and refreshed when the domain's TXT
// record announces another id (§5.1).
type Fetcher struct {
	// LookupTXT resolves TXT records (the [SMTP] Resolver).
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	// Client fetches over HTTPS; nil is a client with the system's roots
	// that follows no redirect.
	Client *http.Client
	// Clock gives the time; nil is time.Now.
	Clock  func() time.Time
	Logger *slog.Logger

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	id      string
	policy  *Policy
	expires time.Time
}

// Get returns the policy in force for domain, or nil when it has none
// (no record, or no policy could be fetched and none is cached: §5.1
// says to deliver as without MTA-STS then).
func (f *Fetcher) Get(ctx context.Context, domain string) *Policy {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	now := f.now()
	f.mu.Lock()
	c, ok := f.cache[domain]
	f.mu.Unlock()
	if ok && now.After(c.expires) {
		ok = false
	}
	id, hasRecord := f.recordID(ctx, domain)
	if ok && (!hasRecord || id == c.id) {
		return c.policy // a lost record does not end a cached policy (§5.1)
	}
	if !hasRecord {
		return nil
	}
	p, err := f.fetch(ctx, domain)
	if err != nil {
		f.logger().Warn("mta-sts policy fetch failed", "domain", domain, "err", err)
		if ok {
			return c.policy
		}
		return nil
	}
	f.mu.Lock()
	if f.cache == nil {
		f.cache = map[string]cached{}
	}
	f.cache[domain] = cached{id: id, policy: p, expires: now.Add(p.MaxAge)}
	f.mu.Unlock()
	return p
}

// recordID returns the id of the domain's _mta-sts TXT record; more than
// one STSv1 record is none (§3.1).
func (f *Fetcher) recordID(ctx context.Context, domain string) (string, bool) {
	txts, err := f.LookupTXT(ctx, "_mta-sts."+domain+".")
	if err != nil {
		return "", false
	}
	id, n := "", 0
	for _, t := range txts {
		if v, ok := parseRecord(t); ok {
			id, n = v, n+1
		}
	}
	return id, n == 1
}

// fetch gets https://mta-sts.<domain>/.well-known/mta-sts.txt (§3.3).
func (f *Fetcher) fetch(ctx context.Context, domain string) (*Policy, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://mta-sts."+domain+"/.well-known/mta-sts.txt", nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("policy fetch: HTTP %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return nil, fmt.Errorf("policy fetch: content type %q, want text/plain", resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicySize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxPolicySize {
		return nil, errors.New("policy fetch: policy over 64 KB")
	}
	return Parse(body)
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return &http.Client{
		Timeout:       fetchTimeout,
		Transport:     &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (f *Fetcher) now() time.Time {
	if f.Clock == nil {
		return time.Now()
	}
	return f.Clock()
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}
