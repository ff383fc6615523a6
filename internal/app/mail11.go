package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mail11"
)

// buildMail11 returns the rewriting settings of the OpenVMS Mail view
// (hp-system §3) for a protocol section: the global Hostname,
// Substitute-Domain, local hosts (Hostname, Substitute-Domain,
// Local-Domains and the lines of the Local-Aliases-File, read now),
// Decnet-Node map and Decnet-Node-Lookup, and the section's
// Decnet-Rewrite, Quoted-Decnet-Rewrite and Personal-Name. A line of the
// aliases file that is not one domain name is skipped with a warning; a
// file that cannot be read stops the start, as it does for SMTP.
func buildMail11(cfg *config.Config, logger *slog.Logger, simple, quoted config.Rewrite, personalName bool) (*mail11.Options, error) {
	names := []string{cfg.Hostname, cfg.SubstituteDomain}
	names = append(names, cfg.LocalDomains...)
	if path := cfg.LocalAliasesFile; path != "" {
		aliases, err := readLocalAliases(path, logger)
		if err != nil {
			return nil, err
		}
		names = append(names, aliases...)
	}
	opts := &mail11.Options{
		Hostname:            cfg.Hostname,
		SubstituteDomain:    cfg.SubstituteDomain,
		Local:               mail11.NewLocalHosts(names...),
		DecnetRewrite:       mail11.RewriteMode(simple),
		QuotedDecnetRewrite: mail11.RewriteMode(quoted),
		PersonalName:        personalName,
	}
	if len(cfg.DecnetNodes) > 0 {
		opts.Nodes = make(map[string]string, len(cfg.DecnetNodes))
		for _, n := range cfg.DecnetNodes {
			opts.Nodes[strings.ToUpper(n.Node)] = n.Host
		}
	}
	if cfg.DecnetNodeLookup {
		opts.LookupNode = newNodeLookup(localDomains(cfg), net.DefaultResolver.LookupHost, time.Now).lookup
	}
	return opts, nil
}

// readLocalAliases reads the Local-Aliases-File with the parser the view
// shares with its documentation (mail11.ParseLocalAliases), logging each
// bad line as a warning.
func readLocalAliases(path string, logger *slog.Logger) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("local aliases file: %w", err)
	}
	defer f.Close()
	names, err := mail11.ParseLocalAliases(f)
	if err != nil {
		var lineErrs []*mail11.AliasLineError
		var other []error
		for _, e := range unjoin(err) {
			if le, ok := e.(*mail11.AliasLineError); ok {
				lineErrs = append(lineErrs, le)
			} else {
				other = append(other, e)
			}
		}
		for _, le := range lineErrs {
			logger.LogAttrs(context.Background(), slog.LevelWarn, "local aliases file: line skipped",
				slog.String("file", path), slog.Int("line", le.Line), slog.String("text", le.Text))
		}
		if len(other) > 0 {
			return nil, fmt.Errorf("local aliases file %s: %w", path, errors.Join(other...))
		}
	}
	return names, nil
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// localDomains are the domains Decnet-Node-Lookup tries a node name in,
// in order: the Substitute-Domain, then the domain of the Hostname (the
// "local domain" of the original's DNS search).
func localDomains(cfg *config.Config) []string {
	var out []string
	seen := map[string]bool{}
	add := func(d string) {
		d = strings.ToLower(strings.Trim(d, "."))
		if d != "" && strings.Contains(d, ".") && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	add(cfg.SubstituteDomain)
	if _, dom, ok := strings.Cut(cfg.Hostname, "."); ok {
		add(dom)
	}
	return out
}

// Limits of Decnet-Node-Lookup.
const (
	nodeLookupTimeout = 2 * time.Second  // one DNS query
	nodeLookupTTL     = 10 * time.Minute // an answer, found or not, is kept this long
	nodeLookupMax     = 1024             // cached nodes; the cache is emptied when full
)

// nodeLookup translates a DECnet node name that the Decnet-Node map does
// not list by asking the DNS for node.domain in each local domain, with a
// short timeout, and caches the answers, positive and negative, for a
// while. Safe for concurrent use.
type nodeLookup struct {
	domains []string
	resolve func(ctx context.Context, host string) ([]string, error)
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]nodeAnswer
}

type nodeAnswer struct {
	host    string // "" when the node did not resolve
	expires time.Time
}

func newNodeLookup(domains []string, resolve func(context.Context, string) ([]string, error), now func() time.Time) *nodeLookup {
	return &nodeLookup{domains: domains, resolve: resolve, now: now, cache: map[string]nodeAnswer{}}
}

// lookup is mail11.Options.LookupNode.
func (l *nodeLookup) lookup(node string) (string, bool) {
	key := strings.ToLower(node)
	if !validNode(key) {
		return "", false
	}
	now := l.now()
	l.mu.Lock()
	a, ok := l.cache[key]
	l.mu.Unlock()
	if ok && now.Before(a.expires) {
		return a.host, a.host != ""
	}
	a = nodeAnswer{expires: now.Add(nodeLookupTTL)}
	for _, d := range l.domains {
		host := key + "." + d
		ctx, cancel := context.WithTimeout(context.Background(), nodeLookupTimeout)
		addrs, err := l.resolve(ctx, host)
		cancel()
		if err == nil && len(addrs) > 0 {
			a.host = host
			break
		}
	}
	l.mu.Lock()
	if len(l.cache) >= nodeLookupMax {
		clear(l.cache)
	}
	l.cache[key] = a
	l.mu.Unlock()
	return a.host, a.host != ""
}

// validNode reports whether s can be a DNS label made from a node name:
// letters, digits, "-" and "_" only ("$" and the like never go to the
// DNS), at most 63 characters.
func validNode(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// loadMagic returns the magic table that types foreign messages for IMAP
// (hp-system §6.3): the records of the [IMAP] Magic-File, if any, tried
// before the built-in ones. A bad line is an error, reported as FILE:LINE
// like every other; serve refuses to start and `postern check` lists them.
func loadMagic(cfg *config.Config) (*mail11.Magic, error) {
	path := cfg.IMAP.MagicFile
	if path == "" {
		return mail11.DefaultMagic(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, cfg.Problem(config.SectionIMAP, "Magic-File", fmt.Sprintf("cannot read %s: %v", path, unwrapPathError(err)))
	}
	defer f.Close()
	site, err := mail11.ParseMagic(f, path)
	if err != nil {
		return nil, err
	}
	return site.Then(mail11.DefaultMagic()), nil
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
