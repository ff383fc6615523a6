package config

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks a resolved configuration and returns every problem it
// finds: values out of range, malformed names and addresses, and
// impossible combinations (two listeners on one port, contradictory POP
// folder options, relay credentials without a relay, …). A problem with a
// combination is reported at the option that was set later. Each problem
// is a *FieldError. Validate is what `postern check` and startup both run.
func (c *Config) Validate() []error {
	v := &validator{c: c}
	for _, o := range options() {
		if msg := v.checkValue(o); msg != "" {
			v.errorAt(o, o.label()+": "+msg)
		}
		if o.check != nil {
			if msg := o.check(c); msg != "" {
				v.errorAt(o, o.label()+": "+msg)
			}
		}
	}
	v.checkListeners()
	v.checkSockets()
	v.checkPOP()
	v.checkSMTP()
	return v.errs
}

type validator struct {
	c    *Config
	errs []error
}

// errorAt records a problem at the place o was set.
func (v *validator) errorAt(o *option, msg string) {
	from := v.c.origins[o.key()]
	v.errs = append(v.errs, &FieldError{File: v.c.file, Line: from.line, Env: from.env,
		Field: o.name, Section: o.section, Msg: msg})
}

// pos orders options by where they were set: defaults first, then file
// lines in order, then the environment.
func (v *validator) pos(o *option) int {
	from, ok := v.c.origins[o.key()]
	switch {
	case !ok:
		return 0
	case from.env != "":
		return 1 << 30
	}
	return from.line
}

// later returns whichever of a and b was set later (b on a tie).
func (v *validator) later(a, b *option) (late, early *option) {
	if v.pos(a) > v.pos(b) {
		return a, b
	}
	return b, a
}

// where describes where o was set, for messages about another option.
func (v *validator) where(o *option) string {
	from, ok := v.c.origins[o.key()]
	switch {
	case !ok:
		return "(the default)"
	case from.env != "":
		return "(env " + from.env + ")"
	case from.line > 0:
		return "(line " + itoa(from.line) + ")"
	}
	return "(set by the program)"
}

func (v *validator) value(o *option) reflect.Value { return reflect.ValueOf(o.ptr(v.c)).Elem() }

// checkValue checks one option's value against its kind.
func (v *validator) checkValue(o *option) string {
	f := v.value(o)
	switch o.kind {
	case kPort:
		if n := f.Int(); n < 0 || n > 65535 {
			return fmt.Sprintf("%d is not a port; use 0 (off) to 65535", n)
		}
	case kInt:
		if n := f.Int(); n < o.min || n > o.max {
			return fmt.Sprintf("%d is out of range; use %d to %d", n, o.min, o.max)
		}
	case kSize:
		if n := f.Int(); n < o.min {
			return fmt.Sprintf("%d is too small; use at least %d byte(s)", n, o.min)
		}
	case kDuration:
		return checkDuration(o, time.Duration(f.Int()))
	case kEnum:
		if s := f.String(); !slices.Contains(o.enum, s) {
			return quote(s) + " is not a valid value; use " + orList(o.enum)
		}
	case kHost:
		if s := f.String(); s != "" && !validHost(s) {
			return quote(s) + " is not a valid host name"
		}
	case kHostPort:
		if s := f.String(); s != "" {
			return checkHostPort(s)
		}
	case kList:
		return v.checkList(o, f.Interface().([]string))
	case kNodes:
		return checkNodes(f.Interface().([]DecnetNode))
	}
	return ""
}

func checkDuration(o *option, d time.Duration) string {
	switch {
	case d < 0:
		return "a duration cannot be negative"
	case d == 0 && o.min > 0:
		return "must be longer than 0"
	case d > 0 && d < o.minNonzero:
		return fmt.Sprintf("%s is shorter than the minimum of %s; use 0 for no timeout",
			formatDuration(d), formatDuration(o.minNonzero))
	}
	return ""
}

func (v *validator) checkList(o *option, items []string) string {
	var bad []string
	for _, it := range items {
		switch {
		case o.name == "Listen-Address":
			if _, err := netip.ParseAddr(it); err != nil {
				bad = append(bad, quote(it)+" is not an IP address")
			}
		case o.elem == kHost:
			if !validHost(it) {
				bad = append(bad, quote(it)+" is not a valid domain name")
			}
		}
	}
	return strings.Join(bad, "; ")
}

func checkNodes(nodes []DecnetNode) string {
	var bad []string
	seen := map[string]bool{}
	for _, n := range nodes {
		switch {
		case !validNodeName(n.Node):
			bad = append(bad, quote(n.Node)+" is not a DECnet node name (1 to 6 letters and digits, at least one letter)")
		case !validHost(n.Host):
			bad = append(bad, quote(n.Host)+" is not a valid host name")
		case seen[n.Node]:
			bad = append(bad, "node "+n.Node+" is mapped twice")
		}
		seen[n.Node] = true
	}
	return strings.Join(bad, "; ")
}

func validNodeName(s string) bool {
	if len(s) < 1 || len(s) > 6 {
		return false
	}
	letter := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
			letter = true
		case r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return letter
}

// validHost reports whether s is a syntactically valid DNS host name:
// dot-separated labels of letters, digits, '-' and '_', 1 to 63
// characters, not starting or ending with '-'; at most 253 in all.
func validHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// checkHostPort checks host[:port], where host is a name or an IP address
// (IPv6 in brackets when a port follows).
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), ""
	} else if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return quote(s) + " has a bad port; use host:port with a port from 1 to 65535"
		}
	}
	if host == "" && port != "" {
		return "" // ":port": all addresses
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHost(host) {
		return quote(s) + " is not host[:port]"
	}
	return ""
}

// listener is one TCP port the configuration opens.
type listener struct {
	opt  *option
	port int
}

// listeners returns the TCP listeners of the enabled protocols.
func (v *validator) listeners() []listener {
	c := v.c
	var out []listener
	add := func(enabled bool, sec, name string, port int) {
		if enabled && port > 0 {
			out = append(out, listener{lookup(sec, name), port})
		}
	}
	add(c.IMAP.Enable, SectionIMAP, "Server-Port", c.IMAP.ServerPort)
	add(c.IMAP.Enable, SectionIMAP, "Secure-Port", c.IMAP.SecurePort)
	add(c.POP.Enable, SectionPOP, "Server-Port", c.POP.ServerPort)
	add(c.POP.Enable, SectionPOP, "Secure-Port", c.POP.SecurePort)
	add(c.SMTP.Enable, SectionSMTP, "Submission-Port", c.SMTP.SubmissionPort)
	add(c.SMTP.Enable, SectionSMTP, "Submissions-Port", c.SMTP.SubmissionsPort)
	add(c.SMTP.Enable, SectionSMTP, "Server-Port", c.SMTP.ServerPort)
	add(c.LMTP.Enable, SectionLMTP, "Server-Port", c.LMTP.ServerPort)
	add(c.ManageSieve.Enable, SectionManageSieve, "Server-Port", c.ManageSieve.ServerPort)
	if p, ok := v.metricsPort(); ok {
		add(true, SectionGlobal, "Metrics-Address", p)
	}
	return out
}

// metricsPort returns the metrics listener's port if it can collide with
// the mail listeners: it binds all addresses, or one of Listen-Address, or
// Listen-Address is all addresses.
func (v *validator) metricsPort() (int, bool) {
	host, port, err := net.SplitHostPort(v.c.MetricsAddress)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return 0, false
	}
	overlap := host == "" || len(v.c.ListenAddress) == 0 || slices.Contains(v.c.ListenAddress, host)
	if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
		overlap = true
	}
	return n, overlap
}

// checkListeners reports two listeners on one port, at the later one, and
// an explicitly enabled protocol with nothing to listen on.
func (v *validator) checkListeners() {
	ls := v.listeners()
	slices.SortStableFunc(ls, func(a, b listener) int { return v.pos(a.opt) - v.pos(b.opt) })
	for j, b := range ls {
		for _, a := range ls[:j] {
			if a.port == b.port {
				// Report each listener once, against the first that has its port.
				v.errorAt(b.opt, fmt.Sprintf("%s: port %d is already used by %s %s; each listener needs its own port",
					b.opt.label(), b.port, a.opt.label(), v.where(a.opt)))
				break
			}
		}
	}
	c := v.c
	v.checkEnabled(SectionIMAP, c.IMAP.Enable, c.IMAP.ServerPort == 0 && c.IMAP.SecurePort == 0, "Server-Port and Secure-Port are both 0")
	v.checkEnabled(SectionPOP, c.POP.Enable, c.POP.ServerPort == 0 && c.POP.SecurePort == 0, "Server-Port and Secure-Port are both 0")
	v.checkEnabled(SectionSMTP, c.SMTP.Enable, c.SMTP.SubmissionPort == 0 && c.SMTP.SubmissionsPort == 0 && c.SMTP.ServerPort == 0,
		"Submission-Port, Submissions-Port and Server-Port are all 0")
	v.checkEnabled(SectionLMTP, c.LMTP.Enable, c.LMTP.Socket == "" && c.LMTP.ServerPort == 0, "Socket is off and Server-Port is 0")
}

func (v *validator) checkEnabled(sec string, enabled, nothing bool, why string) {
	o := lookup(sec, "Enable")
	if _, explicit := v.c.origins[o.key()]; explicit && enabled && nothing {
		v.errorAt(o, o.label()+": ON, but "+why+", so nothing would listen; set a port or Enable: OFF")
	}
}

// checkSockets reports two Unix sockets at one path.
func (v *validator) checkSockets() {
	ctl, lmtp := lookup(SectionGlobal, "Control-Socket"), lookup(SectionLMTP, "Socket")
	if v.c.LMTP.Enable && v.c.LMTP.Socket != "" && v.c.LMTP.Socket == v.c.ControlSocket {
		late, early := v.later(ctl, lmtp)
		v.errorAt(late, fmt.Sprintf("%s: %s is already %s %s", late.label(), quote(v.c.LMTP.Socket), early.label(), v.where(early)))
	}
}

// checkPOP: Use-Mail-Folder serves MAIL, so keeping read mail in NEWMAIL
// (Leave-In-Newmail) has no folder to apply to. Rather than guess which
// the administrator meant, refuse the pair.
func (v *validator) checkPOP() {
	if v.c.POP.UseMailFolder && v.c.POP.LeaveInNewmail {
		late, early := v.later(lookup(SectionPOP, "Leave-In-Newmail"), lookup(SectionPOP, "Use-Mail-Folder"))
		v.errorAt(late, fmt.Sprintf("%s: cannot be ON together with %s %s: Use-Mail-Folder serves the MAIL folder, not the inbox",
			late.label(), early.name, v.where(early)))
	}
}

func (v *validator) checkSMTP() {
	s := &v.c.SMTP
	user, pass := lookup(SectionSMTP, "Relay-Username"), lookup(SectionSMTP, "Relay-Password-File")
	switch {
	case s.RelayUsername != "" && s.RelayHost == "":
		v.errorAt(user, user.label()+": set, but Relay-Host is not; credentials need a relay")
	case s.RelayUsername != "" && s.RelayPasswordFile == "":
		v.errorAt(user, user.label()+": set, but Relay-Password-File is not")
	case s.RelayUsername == "" && s.RelayPasswordFile != "":
		v.errorAt(pass, pass.label()+": set, but Relay-Username is not")
	case s.RelayUsername != "" && s.RelayTLS == RelayTLSNone:
		late, early := v.later(user, lookup(SectionSMTP, "Relay-TLS"))
		v.errorAt(late, fmt.Sprintf("%s: a password would cross the network in clear text with Relay-TLS NONE %s",
			late.label(), v.where(early)))
	}
	if s.DelayWarning > 0 && s.QueueLifetime > 0 && s.DelayWarning >= s.QueueLifetime {
		late, early := v.later(lookup(SectionSMTP, "Delay-Warning"), lookup(SectionSMTP, "Queue-Lifetime"))
		v.errorAt(late, fmt.Sprintf("%s: Delay-Warning %s must be shorter than Queue-Lifetime %s %s",
			late.label(), formatDuration(s.DelayWarning), formatDuration(s.QueueLifetime), v.where(early)))
	}
}

// Warnings returns what is valid but probably not meant, located like
// Validate's problems; `postern check` prints them and `postern serve`
// logs them, and neither refuses to run for them.
func (c *Config) Warnings() []error {
	var out []error
	sections := []struct {
		name string
		on   bool
		l    ConnLimits
	}{
		{SectionIMAP, c.IMAP.Enable, c.IMAP.ConnLimits}, {SectionPOP, c.POP.Enable, c.POP.ConnLimits},
		{SectionSMTP, c.SMTP.Enable, c.SMTP.ConnLimits}, {SectionLMTP, c.LMTP.Enable, c.LMTP.ConnLimits},
		{SectionManageSieve, c.ManageSieve.Enable, c.ManageSieve.ConnLimits},
	}
	for _, s := range sections {
		limit := s.l.ServiceLimit
		if !s.on || limit == 0 {
			continue
		}
		// hp-system A4: the service limit must be at least Max-Connections.
		if s.name == SectionIMAP && c.IMAP.MaxConnections > limit {
			out = append(out, c.Problem(s.name, "Service-Limit", "warning: "+itoa(limit)+
				" is below Max-Connections ("+itoa(c.IMAP.MaxConnections)+"); the original's manual asks for at least as many"))
		}
		if s.l.MaxConnectionsPerIP > limit {
			out = append(out, c.Problem(s.name, "Service-Limit", "warning: "+itoa(limit)+
				" is below Max-Connections-Per-IP ("+itoa(s.l.MaxConnectionsPerIP)+"), so one address can take the whole service"))
		}
	}
	sortErrors(out)
	return out
}
