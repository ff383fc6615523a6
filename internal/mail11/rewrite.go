package mail11

import "strings"

// RewriteMode is how a DECnet address is rebuilt (Decnet-Rewrite,
// Quoted-Decnet-Rewrite; TCPIP$POP_DECNET_REWRITE and
// TCPIP$POP_QUOTED_DECNET_REWRITE in the original).
type RewriteMode string

// The rewrite modes of hp-system §3.3 R2 and R4. The zero value means
// RewriteTransform, the original's default.
const (
	// RewriteGeneric quotes the whole address as the local part of an
	// address at this host.
	RewriteGeneric RewriteMode = "GENERIC"
	// RewriteNone passes the address through unchanged. Such an address
	// cannot be replied to through SMTP.
	RewriteNone RewriteMode = "NONE"
	// RewriteTransform translates the DECnet node to an Internet host
	// (R2), or takes the quoted address (R4).
	RewriteTransform RewriteMode = "TRANSFORM"
)

// Options are the settings the address rewriting rules depend on. The
// zero value is usable: TRANSFORM for both DECnet classes, no substitute
// domain, no node translations, and "localhost" as the host name.
type Options struct {
	// Hostname is the server's own fully qualified host name (Hostname).
	Hostname string
	// SubstituteDomain replaces the host name in rebuilt addresses and is
	// always local (Substitute-Domain); empty means none.
	SubstituteDomain string
	// Local is the local-host test (hp-system §3.2). Hostname and
	// SubstituteDomain are local whether or not it lists them; nil means
	// only they are.
	Local *LocalHosts

	// DecnetRewrite is the rule for simple DECnet addresses (R2).
	DecnetRewrite RewriteMode
	// QuotedDecnetRewrite is the rule for quoted DECnet addresses (R4).
	QuotedDecnetRewrite RewriteMode

	// Nodes maps DECnet node names to Internet host names, from the
	// Decnet-Node entries of the configuration. Node names compare
	// case-insensitively.
	Nodes map[string]string
	// LookupNode, if not nil, translates a node that Nodes does not
	// list, for Decnet-Node-Lookup (the caller does the DNS query and
	// any caching; this package does no I/O). It is called with the node
	// as written in the address.
	LookupNode func(node string) (host string, ok bool)

	// PersonalName puts the sender's personal name into the rebuilt From
	// (R8, Personal-Name).
	PersonalName bool

	// GatewayNode is IMAP's Gateway-Node: when set, it takes the place of
	// the local host name in every address that routes from SMTP back into
	// DECnet (R2 GENERIC and its fallback, R3, R4 GENERIC, R6). POP has no
	// such option: POPHeader ignores it.
	GatewayNode string
}

// Rewrite rebuilds one OpenVMS Mail address into RFC 5322 form by the rule
// of its class (hp-system §3.3 R1–R6), without a personal name. The result
// is always a valid RFC 5322 addr-spec, except when RewriteNone applies to
// a DECnet address, which is then returned unchanged (trimmed of
// surrounding white space). It never contains CR, LF or other control
// characters.
func (o Options) Rewrite(vms string) string {
	return o.rewrite(Classify(vms))
}

// RewriteRecipient rebuilds a To or CC address for IMAP (hp-system §3.3
// R3): when the recipient is a user name alone and the sender (the VMS
// From) is a DECnet address, the recipient first takes the sender's
// DECnet route ("BROWN" from "ORDERS::J_SMITH" becomes "ORDERS::BROWN")
// and is then rewritten as a DECnet address. Any other recipient is
// rewritten like Rewrite.
func (o Options) RewriteRecipient(vms, from string) string {
	a := Classify(vms)
	if a.Class == ClassUser {
		if route := routePrefix(Classify(from)); route != "" {
			a = Classify(route + a.User)
		}
	}
	return o.rewrite(a)
}

// FromAddress returns the rebuilt From of a message: Rewrite of the VMS
// From, with the personal name added by FormatAddress when o.PersonalName
// is set (R8). A From that RewriteNone left unchanged gets no personal
// name: it is not an address that "<…>" could hold.
func (o Options) FromAddress(from, personalName string) string {
	addr := o.Rewrite(from)
	if !o.PersonalName || !isAddrSpec(addr) {
		return addr
	}
	return FormatAddress(personalName, addr)
}

func (o Options) rewrite(a Address) string {
	switch a.Class {
	case ClassSMTP, ClassCluster:
		return o.smtp(a) // R1, R5
	case ClassDECnet:
		return o.decnet(a) // R2
	case ClassQuotedDECnet:
		return o.quotedDecnet(a) // R4
	case ClassUser:
		return strings.ToLower(a.User) + "@" + o.returnHost() // R3
	}
	return o.generic(a.Raw) // R6
}

// smtp is rules R1 and R5: the address inside the quotes. [INF] When that
// is not a valid addr-spec (the quotes held "Name <addr>", or garbage), the
// addr-spec in angle brackets is taken if there is one; otherwise the whole
// VMS address is rebuilt by R6, which the VMS SMTP server at the return
// host can route, rather than put an invalid address into the header.
func (o Options) smtp(a Address) string {
	if isAddrSpec(a.Quoted) {
		return a.Quoted
	}
	if i, j := strings.LastIndexByte(a.Quoted, '<'), strings.LastIndexByte(a.Quoted, '>'); i >= 0 && j > i {
		if inner := a.Quoted[i+1 : j]; isAddrSpec(inner) {
			return inner
		}
	}
	return o.generic(a.Raw)
}

// decnet is rule R2 for node::user.
func (o Options) decnet(a Address) string {
	switch mode(o.DecnetRewrite) {
	case RewriteNone:
		return a.Raw
	case RewriteGeneric:
		return o.generic(a.Raw)
	}
	host, ok := o.translate(a.Node)
	if !ok {
		// The node cannot be translated: the GENERIC form.
		return o.generic(a.Raw)
	}
	if o.isLocal(host) && o.SubstituteDomain != "" && isHostName(o.SubstituteDomain) {
		host = o.SubstituteDomain
	}
	return strings.ToLower(a.User) + "@" + host
}

// quotedDecnet is rule R4 for node::"user@host".
func (o Options) quotedDecnet(a Address) string {
	switch mode(o.QuotedDecnetRewrite) {
	case RewriteNone:
		return a.Raw
	case RewriteGeneric:
		return o.generic(a.Raw)
	}
	if isAddrSpec(a.Quoted) {
		return a.Quoted
	}
	// [INF] The quoted text is not an address SMTP can use: GENERIC.
	return o.generic(a.Raw)
}

// generic is the form shared by GENERIC (R2, R4), the R2 fallback and R6:
// the whole address, its quotes escaped, as a quoted local part at the
// return host.
func (o Options) generic(raw string) string {
	return quoteLocal(raw) + "@" + o.returnHost()
}

// returnHost is the host of an address that routes back into DECnet: the
// Gateway-Node (IMAP), else the substitute domain, else the host's own
// name (R2, R3, R6). [INF] A setting that is not a host name is skipped,
// and "localhost" is the last resort, so the result is always a valid
// domain.
func (o Options) returnHost() string {
	for _, h := range []string{o.GatewayNode, o.SubstituteDomain, o.Hostname} {
		if h = strings.TrimSuffix(strings.TrimSpace(h), "."); isHostName(h) {
			return h
		}
	}
	return "localhost"
}

// translate maps a DECnet node name to an Internet host name: Nodes
// first, then LookupNode. A result that is not a host name counts as no
// translation.
func (o Options) translate(node string) (string, bool) {
	if h, ok := lookupFold(o.Nodes, node); ok {
		if h = strings.TrimSuffix(strings.TrimSpace(h), "."); isHostName(h) {
			return h, true
		}
	}
	if o.LookupNode != nil {
		if h, ok := o.LookupNode(node); ok {
			if h = strings.TrimSuffix(strings.TrimSpace(h), "."); isHostName(h) {
				return h, true
			}
		}
	}
	return "", false
}

func lookupFold(m map[string]string, key string) (string, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	if v, ok := m[strings.ToUpper(key)]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// isLocal is the local-host test of hp-system §3.2.
func (o Options) isLocal(host string) bool {
	h := normHost(host)
	return h != "" && (h == normHost(o.Hostname) || h == normHost(o.SubstituteDomain) || o.Local.IsLocal(h))
}

// mode applies the default TRANSFORM to an unset or unknown mode.
func mode(m RewriteMode) RewriteMode {
	switch RewriteMode(strings.ToUpper(string(m))) {
	case RewriteGeneric:
		return RewriteGeneric
	case RewriteNone:
		return RewriteNone
	}
	return RewriteTransform
}

// FormatAddress returns addr with a display name in the form R8 recommends
// (hp-system §3.3 R8, [INF]): `"Personal Name" <addr>`. The name is cleaned
// of control characters; an ASCII name is a quoted string with "\" and `"`
// escaped, so commas and other specials are safe; a name with non-ASCII
// characters is RFC 2047 B-encoded (encoded words are not allowed inside a
// quoted string, RFC 2047 §5). An empty name gives addr alone.
func FormatAddress(name, addr string) string {
	name = clean(name)
	if name == "" {
		return addr
	}
	if !isASCII(name) {
		return encodeWordsAs(name, true) + " <" + addr + ">"
	}
	return quoteLocal(name) + " <" + addr + ">"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
