package msgauth

import (
	"context"
	"net"
	"strings"
)

// NewResolver returns the resolver of the [SMTP] Resolver option: the
// system's for "", else a Go resolver that sends every query to server
// (host or host:port, port 53 by default).
func NewResolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// txtLookup adapts r to go-msgauth's LookupTXT, under ctx (its deadline
// bounds every query). Names are made absolute so that no search domain
// of resolv.conf is tried.
func txtLookup(ctx context.Context, r *net.Resolver) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		if !strings.HasSuffix(name, ".") {
			name += "."
		}
		txts, err := r.LookupTXT(ctx, name)
		if err != nil && ctx.Err() != nil {
			// A query cut by the deadline is a temporary failure
			// (go-msgauth asks net.Error.Temporary).
			return nil, &net.DNSError{Err: "lookup deadline exceeded", Name: name, IsTimeout: true, IsTemporary: true}
		}
		return txts, err
	}
}
