package server

import (
	"context"
	"fmt"
	"net"
	"strconv"
)

// Listen binds port on every address of addrs (all addresses when addrs is
// empty). On any failure it closes what it bound and names the address.
func Listen(ctx context.Context, addrs []string, port int) ([]net.Listener, error) {
	if len(addrs) == 0 {
		addrs = []string{""}
	}
	var lc net.ListenConfig
	var lns []net.Listener
	for _, a := range addrs {
		hp := net.JoinHostPort(a, strconv.Itoa(port))
		ln, err := lc.Listen(ctx, "tcp", hp)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", hp, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}
