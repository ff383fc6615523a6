package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/imap/imapserver"
	"github.com/postern/postern/internal/managesieve"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/pop3/pop3server"
	"github.com/postern/postern/internal/server"
	"github.com/postern/postern/internal/smtp/smtpserver"
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
	// gate is how admission treats the listener's connections.
	gate gate
}

// gate is the admission side of a listener: which caps it counts against
// and how a refused client is told.
type gate struct {
	// table names the admission Table the listener shares with the
	// protocol's other listeners ("" is the protocol's own).
	table string
	// preauth is the total time a connection may stay unauthenticated.
	preauth time.Duration
	// perMinute caps new connections per address per minute; 0 is none.
	perMinute int
}

// protocol is an entry of the protocol table.
type protocol struct {
	name    string
	enabled func(*config.Config) bool
	specs   func(*config.Config) []listenSpec
	// limits are the section's admission caps; reply words a refusal on
	// a plaintext port (implicit-TLS ports close refused clients).
	limits func(*config.Config) config.ConnLimits
	reply  func(*config.Config) func(admission.Reason) string
	// build makes the server; nil while the protocol is not implemented
	// in this build, in which case its ports stay closed and the banner
	// says so.
	build func(in *instance) (Service, error)
	// extra binds listeners that are not TCP ports (the LMTP Unix
	// socket); nil when there are none.
	extra func(in *instance, s *service) ([]net.Listener, error)
}

// protocols lists every protocol Postern serves.
func protocols() []protocol {
	return []protocol{
		{
			name:    "imap",
			enabled: func(c *config.Config) bool { return c.IMAP.Enable },
			specs: func(c *config.Config) []listenSpec {
				g := gate{preauth: c.IMAP.PreauthTimeout}
				return []listenSpec{{"IMAP", c.IMAP.ServerPort, false, g}, {"IMAPS", c.IMAP.SecurePort, true, g}}
			},
			limits: func(c *config.Config) config.ConnLimits { return c.IMAP.ConnLimits },
			reply:  func(*config.Config) func(admission.Reason) string { return imapserver.Refusal },
			build:  buildIMAP,
		},
		{
			name:    "pop3",
			enabled: func(c *config.Config) bool { return c.POP.Enable },
			specs: func(c *config.Config) []listenSpec {
				g := gate{preauth: c.POP.PreauthTimeout}
				return []listenSpec{{"POP3", c.POP.ServerPort, false, g}, {"POP3S", c.POP.SecurePort, true, g}}
			},
			limits: func(c *config.Config) config.ConnLimits { return c.POP.ConnLimits },
			reply:  func(*config.Config) func(admission.Reason) string { return pop3server.Refusal },
			build:  buildPOP3,
		},
		{
			name:    "smtp",
			enabled: func(c *config.Config) bool { return c.SMTP.Enable },
			specs: func(c *config.Config) []listenSpec {
				sub := gate{table: "submission", preauth: c.SMTP.PreauthTimeout}
				inb := gate{table: "inbound", preauth: smtpserver.InboundPreauthLimit,
					perMinute: inboundConnectionsPerMinute}
				return []listenSpec{
					{"Submission", c.SMTP.SubmissionPort, false, sub},
					{"Submissions", c.SMTP.SubmissionsPort, true, sub},
					{"SMTP", c.SMTP.ServerPort, false, inb},
				}
			},
			limits: func(c *config.Config) config.ConnLimits { return c.SMTP.ConnLimits },
			reply:  func(c *config.Config) func(admission.Reason) string { return smtpserver.Refusal(c.Hostname) },
			build:  buildSMTP,
		},
		{
			name:    "lmtp",
			enabled: func(c *config.Config) bool { return c.LMTP.Enable },
			specs: func(c *config.Config) []listenSpec {
				return []listenSpec{{"LMTP", c.LMTP.ServerPort, false, gate{preauth: smtpserver.InboundPreauthLimit}}}
			},
			limits: func(c *config.Config) config.ConnLimits { return c.LMTP.ConnLimits },
			reply:  func(c *config.Config) func(admission.Reason) string { return smtpserver.Refusal(c.Hostname) },
			build:  buildLMTP,
			extra:  listenLMTPSocket,
		},
		{
			name:    "managesieve",
			enabled: func(c *config.Config) bool { return c.ManageSieve.Enable },
			specs: func(c *config.Config) []listenSpec {
				g := gate{preauth: c.ManageSieve.PreauthTimeout}
				return []listenSpec{{"ManageSieve", c.ManageSieve.ServerPort, false, g}}
			},
			limits: func(c *config.Config) config.ConnLimits { return c.ManageSieve.ConnLimits },
			reply:  func(*config.Config) func(admission.Reason) string { return managesieve.Refusal },
			build:  buildManageSieve,
		},
	}
}

// service is one protocol's listeners and, once built, its server.
type service struct {
	proto    protocol
	name     string
	impl     Service
	lns      []*boundListener
	tables   map[string]*admission.Table
	wg       sync.WaitGroup
	stopping atomic.Bool
}

// boundListener is one listening socket of a service. A reload may close
// one (a port changed, a protocol turned off) while the service and its
// sessions go on.
type boundListener struct {
	net.Listener
	label  string // the spec's label ("IMAP", "IMAPS", …); "" for extra ones (the LMTP socket)
	closed atomic.Bool
}

// close stops serving this listener; sessions it accepted go on.
func (bl *boundListener) close() {
	bl.closed.Store(true)
	bl.Close()
}

// bind binds every listener of every enabled, implemented protocol before
// any is served, so that a port clash refuses the start, and before the
// privilege drop, so that ports below 1024 work. Every listener goes
// through admission (docs/architecture.md); implicit-TLS ones are wrapped
// in TLS above it.
func (in *instance) bind(ctx context.Context) error {
	in.reserve = admission.NewReserve(descriptorReserve)
	for _, p := range protocols() {
		if !p.enabled(in.cfg) || p.build == nil {
			continue
		}
		s, err := in.bindService(ctx, p)
		if s != nil {
			in.services = append(in.services, s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// bindService binds the listeners of one protocol as in.cfg says. On an
// error it returns the service with what it bound, for the caller to close.
func (in *instance) bindService(ctx context.Context, p protocol) (*service, error) {
	s := &service{proto: p, name: p.name, tables: map[string]*admission.Table{}}
	for _, spec := range p.specs(in.cfg) {
		lns, err := in.bindSpec(ctx, s, spec)
		s.lns = append(s.lns, lns...)
		if err != nil {
			return s, err
		}
	}
	if p.extra != nil {
		lns, err := p.extra(in, s)
		if err != nil {
			return s, fmt.Errorf("%s: %w", p.name, err)
		}
		for _, ln := range lns {
			s.lns = append(s.lns, &boundListener{Listener: ln})
		}
	}
	return s, nil
}

// bindSpec binds one listener spec on every Listen-Address; nothing for
// port 0.
func (in *instance) bindSpec(ctx context.Context, s *service, spec listenSpec) ([]*boundListener, error) {
	if spec.port == 0 {
		return nil, nil
	}
	var lc net.ListenConfig
	lns, err := server.ListenFrom(in.inherited, in.cfg.ListenAddress, spec.port, func(hp string) (net.Listener, error) {
		ln, err := lc.Listen(ctx, "tcp", hp)
		if err == nil {
			in.keep(ln) // bound here, not inherited: later workers need it too
		}
		return ln, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.label, err)
	}
	var out []*boundListener
	for _, ln := range lns {
		ln = in.admit(s, ln, spec.label, spec.gate, !spec.implicitTLS)
		if spec.implicitTLS {
			ln = tls.NewListener(ln, in.tls.config(s.name))
		}
		out = append(out, &boundListener{Listener: ln, label: spec.label})
	}
	return out, nil
}

// descriptorReserve is how many spare descriptors the process keeps to
// refuse clients politely at its descriptor limit (admission.Reserve).
const descriptorReserve = 4

// admit wraps a bound listener in admission, with the caps of its
// protocol section (one Table per gate.table) and Trusted-Networks.
func (in *instance) admit(s *service, ln net.Listener, label string, g gate, plaintext bool) *admission.Listener {
	t := s.tables[g.table]
	if t == nil {
		cl := s.proto.limits(in.cfg)
		l := admission.Limits{
			PerIP: cl.MaxConnectionsPerIP, PreauthPerIP: cl.MaxPreauthPerIP, Service: cl.ServiceLimit,
			PerMinute: g.perMinute, Trusted: in.trusted,
		}
		t = admission.NewTable(l, nil)
		in.shareTable(t, s.name+"/"+g.table, l)
		s.tables[g.table] = t
	}
	label = strings.ToLower(label)
	opts := admission.Options{
		Label: label, Table: t, Reserve: in.reserve, PreauthLimit: g.preauth, Memory: in.memory,
		Logger: in.logger.With("proto", s.name),
		OnRefuse: func(remote netip.Addr, why admission.Reason) {
			in.events.Reject(s.name, remote.String(), "connection limit: "+string(why))
		},
		OnFailure: func(err error) {
			in.events.Event(observe.EventListener, slog.String("proto", s.name), slog.String("listener", label),
				slog.String("addr", ln.Addr().String()), slog.String("err", err.Error()))
		},
	}
	if plaintext {
		opts.Reply = s.proto.reply(in.cfg)
	}
	if ln.Addr().Network() == "unix" {
		opts.Rebind = func() (net.Listener, error) { return listenUnix(ln.Addr().String(), lmtpSocketMode) }
	}
	return admission.NewListener(ln, opts)
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
		s.serveOne(in, ln)
	}
}

// serveOne starts serving one listener.
func (s *service) serveOne(in *instance, ln *boundListener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveListener(in, ln)
	}()
}

// serveListener serves ln until the service stops or ln is closed.
// Admission absorbs accept errors, so Serve returning early is a failure:
// it is counted, logged and reported like a failed listener, and serving
// starts again after a back-off.
func (s *service) serveListener(in *instance, ln *boundListener) {
	b := admission.Backoff{Min: 100 * time.Millisecond, Max: 30 * time.Second}
	for {
		err := s.impl.Serve(context.Background(), ln)
		if s.stopping.Load() || ln.closed.Load() {
			return
		}
		if err == nil {
			err = errors.New("Serve returned while the service runs")
		}
		admission.CountFailure(s.name)
		in.logger.Error("listener stopped; serving it again", "service", s.name, "addr", ln.Addr().String(), "err", err)
		in.events.Event(observe.EventListener, slog.String("proto", s.name), slog.String("addr", ln.Addr().String()),
			slog.String("err", err.Error()))
		time.Sleep(b.Next())
	}
}

func (s *service) shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	var err error
	if s.impl != nil {
		err = s.impl.Shutdown(ctx)
	}
	s.closeListeners()
	s.wg.Wait()
	return err
}

func (s *service) closeListeners() {
	s.stopping.Store(true)
	for _, ln := range s.lns {
		ln.close()
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
