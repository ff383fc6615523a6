package server

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
)

// TestListenFromInherited: an address that was inherited is taken, not
// bound again; the others are bound; a Unix socket is found by path; what
// nothing took is listed.
func TestListenFromInherited(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	un, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	h := &Inherited{lns: []net.Listener{ln, other, un}}
	defer h.Close()

	var bound []string
	lns, err := ListenFrom(h, []string{"127.0.0.1", "127.0.0.2"}, port, func(hp string) (net.Listener, error) {
		bound = append(bound, hp)
		return net.Listen("tcp", hp)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	if lns[0] != ln {
		t.Error("the inherited 127.0.0.1 listener was not taken")
	}
	if len(bound) != 1 || bound[0] != net.JoinHostPort("127.0.0.2", strconv.Itoa(port)) {
		t.Errorf("bound %v, want only 127.0.0.2:%d", bound, port)
	}
	if got := h.TakeUnix(sock); got != un {
		t.Error("the inherited Unix socket was not found by its path")
	}
	if rest := h.Rest(); len(rest) != 1 || rest[0] != "tcp:"+other.Addr().String() {
		t.Errorf("rest %v", rest)
	}
	if h.takeTCP("", port) != nil {
		t.Error("a listener on 127.0.0.1 taken for all addresses")
	}
	// Listen without inherited sockets binds.
	l2, err := ListenInherited(context.Background(), nil, []string{"127.0.0.1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	l2[0].Close()
}
