package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/server"
)

// Service is a protocol server as app sees it: it serves the listeners
// handed to it (already wrapped in TLS for implicit-TLS ports) and stops
// gracefully on Shutdown. The POP3, IMAP, SMTP and LMTP servers plug in
// through the protocol table below.
type Service interface {
	Serve(ctx context.Context, ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// listenSpec is one listener a protocol wants.
type listenSpec struct {
	label       string // e.g. "IMAP", "IMAPS"
	port        int
	implicitTLS bool
}

// protocol is an entry of the protocol table.
type protocol struct {
	name    string
	enabled func(*config.Config) bool
	specs   func(*config.Config) []listenSpec
	// build makes the server; nil while the protocol is not implemented
	// in this build, in which case its ports stay closed and the banner
	// says so.
	build func(in *instance) (Service, error)
	// extra binds listeners that are not TCP ports (the LMTP Unix
	// socket); nil when there are none.
	extra func(in *instance) ([]net.Listener, error)
}

// protocols lists every protocol Postern serves.
func protocols() []protocol {
	return []protocol{
		{
			name:    "imap",
			enabled: func(c *config.Config) bool { return c.IMAP.Enable },
			specs: func(c *config.Config) []listenSpec {
				return []listenSpec{{"IMAP", c.IMAP.ServerPort, false}, {"IMAPS", c.IMAP.SecurePort, true}}
			},
			build: buildIMAP,
		},
		{
			name:    "pop3",
			enabled: func(c *config.Config) bool { return c.POP.Enable },
			specs: func(c *config.Config) []listenSpec {
				return []listenSpec{{"POP3", c.POP.ServerPort, false}, {"POP3S", c.POP.SecurePort, true}}
			},
			build: buildPOP3,
		},
		{
			name:    "smtp",
			enabled: func(c *config.Config) bool { return c.SMTP.Enable },
			specs: func(c *config.Config) []listenSpec {
				return []listenSpec{
					{"Submission", c.SMTP.SubmissionPort, false},
					{"Submissions", c.SMTP.SubmissionsPort, true},
					{"SMTP", c.SMTP.ServerPort, false},
				}
			},
			build: buildSMTP,
		},
		{
			name:    "lmtp",
			enabled: func(c *config.Config) bool { return c.LMTP.Enable },
			specs: func(c *config.Config) []listenSpec {
				return []listenSpec{{"LMTP", c.LMTP.ServerPort, false}}
			},
			build: buildLMTP,
			extra: listenLMTPSocket,
		},
	}
}

// service is one protocol's listeners and, once built, its server.
type service struct {
	proto protocol
	name  string
	impl  Service
	lns   []net.Listener
	wg    sync.WaitGroup
}

// bind binds every listener of every enabled, implemented protocol before
// any is served, so that a port clash refuses the start, and before the
// privilege drop, so that ports below 1024 work.
func (in *instance) bind(ctx context.Context) error {
	for _, p := range protocols() {
		if !p.enabled(in.cfg) || p.build == nil {
			continue
		}
		s := &service{proto: p, name: p.name}
		in.services = append(in.services, s)
		for _, spec := range p.specs(in.cfg) {
			if spec.port == 0 {
				continue
			}
			lns, err := server.Listen(ctx, in.cfg.ListenAddress, spec.port)
			if err != nil {
				return fmt.Errorf("%s: %w", spec.label, err)
			}
			for _, ln := range lns {
				if spec.implicitTLS {
					ln = tls.NewListener(ln, in.tls.config(p.name))
				}
				s.lns = append(s.lns, ln)
			}
		}
		if p.extra != nil {
			lns, err := p.extra(in)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			s.lns = append(s.lns, lns...)
		}
	}
	return nil
}

// startServices builds each bound protocol's server (the store is open by
// now) and starts serving its listeners.
func (in *instance) startServices() error {
	for _, s := range in.services {
		impl, err := s.proto.build(in)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		s.impl = impl
	}
	for _, s := range in.services {
		s.serve(in)
	}
	return nil
}

func (s *service) serve(in *instance) {
	for _, ln := range s.lns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.impl.Serve(context.Background(), ln); err != nil {
				in.logger.Error("listener stopped", "service", s.name, "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
}

func (s *service) shutdown(ctx context.Context) error {
	var err error
	if s.impl != nil {
		err = s.impl.Shutdown(ctx)
	}
	s.closeListeners()
	s.wg.Wait()
	return err
}

func (s *service) closeListeners() {
	for _, ln := range s.lns {
		ln.Close()
	}
}

// listenAddrs formats where a port listens, for the banner.
func listenAddrs(cfg *config.Config, port int) []string {
	addrs := cfg.ListenAddress
	if len(addrs) == 0 {
		addrs = []string{"*"}
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = net.JoinHostPort(a, strconv.Itoa(port))
	}
	return out
}
