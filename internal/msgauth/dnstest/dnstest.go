// Package dnstest is a DNS server for tests (miekg/dns): it listens on
// 127.0.0.1, UDP and TCP on one port chosen by the system, and answers
// from records the test sets. Names can also be made to fail (SERVFAIL)
// or to answer late.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a running test DNS server.
type Server struct {
	// Addr is host:port for UDP and TCP.
	Addr string

	mu      sync.Mutex
	txt     map[string][]string
	a       map[string][]net.IP
	mx      map[string][]string
	fail    map[string]bool
	delay   map[string]time.Duration
	queries int
}

// Start starts a server, stopped at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{txt: map[string][]string{}, a: map[string][]net.IP{}, mx: map[string][]string{},
		fail: map[string]bool{}, delay: map[string]time.Duration{}}
	pc, ln := listen(t)
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return s
}

// listen binds UDP on a free port of 127.0.0.1 and TCP on the same
// port, trying again when TCP's is taken.
func listen(t testing.TB) (net.PacketConn, net.Listener) {
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("dnstest: no port free for both UDP and TCP")
	return nil, nil
}

func key(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// TXT sets the TXT records of name; each record is one string, split into
// 255-octet character-strings on the wire.
func (s *Server) TXT(name string, records ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = records
}

// A sets the A or AAAA records of name.
func (s *Server) A(name string, ips ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ip := range ips {
		s.a[key(name)] = append(s.a[key(name)], net.ParseIP(ip))
	}
}

// MX sets the MX hosts of name (preference 10 each).
func (s *Server) MX(name string, hosts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mx[key(name)] = hosts
}

// Fail makes every query for name answer SERVFAIL.
func (s *Server) Fail(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[key(name)] = true
}

// Delay makes every answer for name wait d.
func (s *Server) Delay(name string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay[key(name)] = d
}

// Queries returns how many queries the server answered.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	s.queries++
	delay, fail := s.delay[name], s.fail[name]
	found := s.answer(m, q, name)
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	switch {
	case fail:
		m.Answer = nil
		m.Rcode = dns.RcodeServerFailure
	case !found:
		m.Rcode = dns.RcodeNameError
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := 512
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// answer fills m for q; it reports whether the name exists at all (for
// NXDOMAIN against an empty answer).
func (s *Server) answer(m *dns.Msg, q dns.Question, name string) bool {
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	txt, okT := s.txt[name]
	ips, okA := s.a[name]
	mx, okM := s.mx[name]
	switch q.Qtype {
	case dns.TypeTXT:
		for _, r := range txt {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: split255(r)})
		}
	case dns.TypeA, dns.TypeAAAA:
		for _, ip := range ips {
			if ip4 := ip.To4(); ip4 != nil && q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: ip4})
			} else if ip4 == nil && q.Qtype == dns.TypeAAAA {
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip})
			}
		}
	case dns.TypeMX:
		for _, h := range mx {
			m.Answer = append(m.Answer, &dns.MX{Hdr: hdr(dns.TypeMX), Preference: 10, Mx: dns.Fqdn(h)})
		}
	}
	return okT || okA || okM
}

func split255(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}
