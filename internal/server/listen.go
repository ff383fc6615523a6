package server

import (
	"context"
	"net"
)

// Listen binds port on every address of addrs (all addresses when addrs is
// empty). On any failure it closes what it bound and names the address.
func Listen(ctx context.Context, addrs []string, port int) ([]net.Listener, error) {
	return ListenInherited(ctx, nil, addrs, port)
}

// ListenInherited is Listen that first looks for each address among the
// sockets inherited by socket activation (h may be nil).
func ListenInherited(ctx context.Context, h *Inherited, addrs []string, port int) ([]net.Listener, error) {
	var lc net.ListenConfig
	return ListenFrom(h, addrs, port, func(hp string) (net.Listener, error) { return lc.Listen(ctx, "tcp", hp) })
}
