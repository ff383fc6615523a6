package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/postern/postern/internal/config"
)

// The part of a reload that turns protocols on and off and moves
// listeners (hp-system A6: a service starts and stops on its own). in.cfg
// stays the configuration in effect: each change applied is copied into it
// from the reloaded file, so what was not applied is reported again at the
// next reload.

// sectionOf names a protocol's configuration section.
var sectionOf = map[string]string{
	"imap": config.SectionIMAP, "pop3": config.SectionPOP, "smtp": config.SectionSMTP, "lmtp": config.SectionLMTP,
}

// applyServices brings the running services in line with cfg's Enable
// flags and ports.
func (in *instance) applyServices(ctx context.Context, cfg *config.Config, res *reloadResult) {
	for _, p := range protocols() {
		if p.build == nil {
			continue
		}
		cur := in.activeService(p.name)
		want := p.enabled(cfg)
		switch {
		case cur != nil && !want:
			in.retire(cur)
			in.updateCfg(func(c *config.Config) { c.Set(sectionOf[p.name], "Enable", "off") })
			res.applied = append(res.applied, "["+sectionOf[p.name]+"] Enable: off (listeners closed; sessions go on until they end)")
		case cur == nil && want:
			if err := in.startService(ctx, p, cfg); err != nil {
				res.failed = append(res.failed, "["+sectionOf[p.name]+"] Enable: on: "+err.Error())
				continue
			}
			res.applied = append(res.applied, "["+sectionOf[p.name]+"] Enable: on")
		case cur != nil:
			in.movePorts(ctx, cur, cfg, res)
		}
	}
}

// activeService returns the running (not retired) service of a protocol.
func (in *instance) activeService(name string) *service {
	for _, s := range in.services {
		if s.name == name {
			return s
		}
	}
	return nil
}

// retire stops a service's listeners and keeps it, with its sessions,
// until the server stops; background work (the outbound queue) stops now.
func (in *instance) retire(s *service) {
	for _, ln := range s.lns {
		in.unbind(ln)
	}
	if b, ok := s.impl.(interface{ StopBackground() }); ok {
		b.StopBackground()
	}
	for i, x := range in.services {
		if x == s {
			in.services = append(in.services[:i:i], in.services[i+1:]...)
			break
		}
	}
	in.retired = append(in.retired, s)
	in.logger.Info("service turned off by reload; its sessions go on", "service", s.name)
}

// startService turns a protocol on with its section from cfg: TLS
// material, listeners, server. On any failure nothing is left running.
func (in *instance) startService(ctx context.Context, p protocol, cfg *config.Config) (err error) {
	prev := in.cfg
	in.updateCfg(func(c *config.Config) { copySection(c, cfg, p.name) })
	var s *service
	defer func() {
		if err == nil {
			return
		}
		if s != nil {
			for _, ln := range s.lns {
				in.unbind(ln)
			}
		}
		in.setCfg(prev)
	}()
	if err = in.tls.ensure(in.cfg, p.name, in.fileReader, in.logger); err != nil {
		return err
	}
	if s, err = in.bindService(ctx, p); err != nil {
		return err
	}
	impl, err := p.build(in)
	if err != nil {
		return err
	}
	s.impl = impl
	in.services = append(in.services, s)
	s.serve(in)
	in.logger.Info("service turned on by reload", "service", p.name)
	return nil
}

// movePorts binds the listeners whose port cfg changed, then closes the
// old ones; sessions accepted on them go on. A port that cannot be bound
// (in use, or below 1024 after the switch to Run-As-User) keeps the old
// one.
func (in *instance) movePorts(ctx context.Context, s *service, cfg *config.Config, res *reloadResult) {
	old := map[string]int{}
	for _, spec := range s.proto.specs(in.cfg) {
		old[spec.label] = spec.port
	}
	for _, spec := range s.proto.specs(cfg) {
		from := old[spec.label]
		if spec.port == from {
			continue
		}
		section, field := specOption(s.name, spec.label)
		what := "[" + section + "] " + field + ": " + portText(from) + " -> " + portText(spec.port)
		if spec.port != 0 {
			if err := in.tls.ensure(in.cfg, s.name, in.fileReader, in.logger); err != nil {
				res.failed = append(res.failed, what+": "+err.Error())
				continue
			}
		}
		lns, err := in.bindSpec(ctx, s, spec)
		if err != nil {
			res.failed = append(res.failed, what+": "+err.Error())
			continue
		}
		kept := s.lns[:0:0]
		for _, ln := range s.lns {
			if ln.label == spec.label {
				in.unbind(ln)
				continue
			}
			kept = append(kept, ln)
		}
		s.lns = append(kept, lns...)
		for _, ln := range lns {
			s.serveOne(in, ln)
		}
		in.updateCfg(func(c *config.Config) { c.Set(section, field, strconv.Itoa(spec.port)) })
		res.applied = append(res.applied, what)
	}
}

// copySection copies one protocol's section from src into dst.
func copySection(dst, src *config.Config, name string) {
	switch name {
	case "imap":
		dst.IMAP = src.IMAP
	case "pop3":
		dst.POP = src.POP
	case "smtp":
		dst.SMTP = src.SMTP
	case "lmtp":
		dst.LMTP = src.LMTP
	default:
		panic(fmt.Sprintf("app: no section for protocol %q", name))
	}
}

// updateCfg replaces in.cfg by a changed copy; only the run loop calls it.
func (in *instance) updateCfg(change func(c *config.Config)) {
	c := in.cfg.Clone()
	change(c)
	in.setCfg(c)
}

func (in *instance) setCfg(c *config.Config) {
	in.mu.Lock()
	in.cfg = c
	in.mu.Unlock()
}

// config returns the configuration in effect, for goroutines other than
// the run loop.
func (in *instance) config() *config.Config {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cfg
}
