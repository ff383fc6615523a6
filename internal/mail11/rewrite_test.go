package mail11

import (
	"strings"
	"testing"
)

// The hosts of the manual's examples (hp-system §3.3).
const (
	widgets = "widgets.xyzcorp.com"     // R2 GENERIC, R4 GENERIC, Gateway-Node
	orders  = "orders.acme.widgets.com" // R2 TRANSFORM: the local host
	acme    = "acme.widgets.com"        // the substitute domain of R2 and R3
)

// manualNodes is the node table of the R2 TRANSFORM examples: ORDERS is
// the local host, HOST12 a remote one, HOST13 is not translatable.
var manualNodes = map[string]string{
	"ORDERS": orders,
	"HOST12": "host12.acme.widgets.com",
}

// manualExamples holds every input → output example of hp-system §3.3, one
// row each, with the manual's typos resolved in the comments. from, when
// set, makes the row an IMAP recipient (RewriteRecipient).
var manualExamples = []struct {
	name string
	opts Options
	from string
	in   string
	want string
}{
	// R1. SMTP address.
	{
		name: "R1 SMTP address",
		in:   `SMTP%"james.jones@federation.gov"`,
		want: `james.jones@federation.gov`,
	},
	{
		// The manual prints `"ABCMTS::MRGATE::\"ABCDEF::VIVALDI\""@xyz.org"`.
		// Two typesetting errors (hp-system §3.3 R1 [INF]): the space
		// before the second \" is lost, and a stray " follows the domain.
		// Plain ¢ → " substitution keeps the space and adds no quote, and
		// the result is a valid quoted local part.
		name: "R1 cent-sign unquoting, manual example with its typos resolved",
		opts: Options{Hostname: widgets},
		in:   `SMTP%"¢ABCMTS::MRGATE::\¢ABCDEF::VIVALDI \¢¢@xyz.org"`,
		want: `"ABCMTS::MRGATE::\"ABCDEF::VIVALDI \""@xyz.org`,
	},

	// R2. Simple DECnet.
	{
		name: "R2 GENERIC on widgets.xyzcorp.com",
		opts: Options{Hostname: widgets, DecnetRewrite: RewriteGeneric},
		in:   `ORDERS::J_SMITH`,
		want: `"ORDERS::J_SMITH"@widgets.xyzcorp.com`,
	},
	{
		name: "R2 NONE passes the address through",
		opts: Options{Hostname: widgets, DecnetRewrite: RewriteNone},
		in:   `ORDERS::J_SMITH`,
		want: `ORDERS::J_SMITH`,
	},
	{
		name: "R2 TRANSFORM, local node, no substitute domain",
		opts: Options{Hostname: orders, Nodes: manualNodes},
		in:   `ORDERS::J_SMITH`,
		want: `j_smith@orders.acme.widgets.com`,
	},
	{
		name: "R2 TRANSFORM, local node, substitute domain",
		opts: Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes},
		in:   `ORDERS::J_SMITH`,
		want: `j_smith@acme.widgets.com`,
	},
	{
		name: "R2 TRANSFORM, remote node HOST12",
		opts: Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes},
		in:   `HOST12::J_JONES`,
		want: `j_jones@host12.acme.widgets.com`,
	},
	{
		name: "R2 TRANSFORM, HOST13 untranslatable, no substitute domain",
		opts: Options{Hostname: orders, Nodes: manualNodes},
		in:   `HOST13::J_JONES`,
		want: `"HOST13::J_JONES"@orders.acme.widgets.com`,
	},
	{
		// [INF] hp-system §3.3 R2: the fallback uses the substitute domain
		// when one is defined.
		name: "R2 TRANSFORM, HOST13 untranslatable, substitute domain",
		opts: Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes},
		in:   `HOST13::J_JONES`,
		want: `"HOST13::J_JONES"@acme.widgets.com`,
	},
	{
		name: "R2 IMAP Gateway-Node, ORDERS cannot be mapped",
		opts: Options{Hostname: orders, SubstituteDomain: acme, GatewayNode: widgets},
		in:   `ORDERS::J_SMITH`,
		want: `"ORDERS::J_SMITH"@widgets.xyzcorp.com`,
	},

	// R3. User name only.
	{
		name: "R3 POP user name, substitute domain",
		opts: Options{Hostname: orders, SubstituteDomain: acme},
		in:   `Smith`,
		want: `smith@acme.widgets.com`,
	},
	{
		name: "R3 IMAP user name, substitute domain, no Gateway-Node",
		opts: Options{Hostname: orders, SubstituteDomain: acme},
		from: `SMTP%"someone@example.org"`,
		in:   `Smith`,
		want: `smith@acme.widgets.com`,
	},
	{
		// hp-system §3.3 R3 [INF] illustration: From ORDERS::J_SMITH, To
		// BROWN is handled as ORDERS::BROWN under TRANSFORM.
		name: "R3 IMAP recipient inherits the sender's DECnet route",
		opts: Options{Hostname: orders, Nodes: manualNodes},
		from: `ORDERS::J_SMITH`,
		in:   `BROWN`,
		want: `brown@orders.acme.widgets.com`,
	},

	// R4. Quoted DECnet.
	{
		// The POP manual prints ORDER:: on the input side, a typo; the
		// IMAP release notes print ORDERS::, used here.
		name: "R4 GENERIC on widgets.xyzcorp.com",
		opts: Options{Hostname: widgets, QuotedDecnetRewrite: RewriteGeneric},
		in:   `ORDERS::"j_smith@acme.com"`,
		want: `"ORDERS::\"j_smith@acme.com\""@widgets.xyzcorp.com`,
	},
	{
		name: "R4 NONE passes the address through",
		opts: Options{Hostname: widgets, QuotedDecnetRewrite: RewriteNone},
		in:   `ORDERS::"j_smith@acme.com"`,
		want: `ORDERS::"j_smith@acme.com"`,
	},
	{
		name: "R4 TRANSFORM takes the quoted address",
		opts: Options{Hostname: widgets},
		in:   `ORDERS::"j_smith@acme.com"`,
		want: `j_smith@acme.com`,
	},
	{
		// The POP manual writes j.smith on both sides: the same rule.
		name: "R4 TRANSFORM, POP manual's j.smith variant",
		opts: Options{Hostname: widgets},
		in:   `ORDERS::"j.smith@acme.com"`,
		want: `j.smith@acme.com`,
	},

	// R5. Cluster-forwarding SMTP.
	{
		name: "R5 cluster forwarding",
		in:   `ABCDEF::SMTP%"james.jones@federation.gov"`,
		want: `james.jones@federation.gov`,
	},
	{
		// The IMAP release notes use james.smith: the same rule.
		name: "R5 cluster forwarding, IMAP manual's james.smith variant",
		in:   `ABCDEF::SMTP%"james.smith@federation.gov"`,
		want: `james.smith@federation.gov`,
	},

	// R6. All others.
	{
		name: "R6 MRGATE route, substitute domain xyz.org",
		opts: Options{Hostname: widgets, SubstituteDomain: "xyz.org"},
		in:   `ABCMTS::MRGATE::"ORDERS::SPECIAL"`,
		want: `"ABCMTS::MRGATE::\"ORDERS::SPECIAL\""@xyz.org`,
	},
}

func TestManualExamples(t *testing.T) {
	for _, tc := range manualExamples {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			if tc.from != "" {
				got = tc.opts.RewriteRecipient(tc.in, tc.from)
			} else {
				got = tc.opts.Rewrite(tc.in)
			}
			if got != tc.want {
				t.Errorf("rewrite %q\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// optionTests cover the option combinations the manual does not show.
var optionTests = []struct {
	name string
	opts Options
	from string // IMAP recipient when set
	in   string
	want string
}{
	{"zero options: localhost", Options{}, "", "JONES", "jones@localhost"},
	{"R2 GENERIC uses the substitute domain", Options{Hostname: orders, SubstituteDomain: acme, DecnetRewrite: RewriteGeneric},
		"", "ORDERS::J_SMITH", `"ORDERS::J_SMITH"@acme.widgets.com`},
	{"R2 GENERIC IMAP uses Gateway-Node first", Options{Hostname: orders, SubstituteDomain: acme, GatewayNode: widgets, DecnetRewrite: RewriteGeneric},
		"", "ORDERS::J_SMITH", `"ORDERS::J_SMITH"@widgets.xyzcorp.com`},
	{"R2 mode names are case-insensitive", Options{Hostname: widgets, DecnetRewrite: "none"}, "", "ORDERS::J_SMITH", "ORDERS::J_SMITH"},
	{"R2 unknown mode is TRANSFORM", Options{Hostname: orders, Nodes: manualNodes, DecnetRewrite: "BOGUS"}, "", "ORDERS::J_SMITH", "j_smith@orders.acme.widgets.com"},
	{"R2 node map is case-insensitive", Options{Hostname: orders, Nodes: map[string]string{"Orders": orders}}, "", "orders::J_Smith", "j_smith@orders.acme.widgets.com"},
	{"R2 local through the aliases", Options{Hostname: "vms1.example", SubstituteDomain: acme, Local: NewLocalHosts("ORDERS.ACME.WIDGETS.COM."), Nodes: manualNodes},
		"", "ORDERS::J_SMITH", "j_smith@acme.widgets.com"},
	{"R2 remote translation keeps the host even with a substitute domain", Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes},
		"", "HOST12::J_JONES", "j_jones@host12.acme.widgets.com"},
	{"R2 LookupNode after the table", Options{Hostname: orders, LookupNode: func(n string) (string, bool) {
		return strings.ToLower(n) + ".dns.example.", true
	}}, "", "HOST14::X", "x@host14.dns.example"},
	{"R2 LookupNode failure falls back", Options{Hostname: orders, LookupNode: func(string) (string, bool) { return "", false }},
		"", "HOST14::X", `"HOST14::X"@orders.acme.widgets.com`},
	{"R2 a bad translation counts as none", Options{Hostname: orders, Nodes: map[string]string{"BAD": "not a host"}},
		"", "BAD::X", `"BAD::X"@orders.acme.widgets.com`},
	{"R3 IMAP Gateway-Node before the substitute domain", Options{Hostname: orders, SubstituteDomain: acme, GatewayNode: widgets},
		"SMTP%\"a@b.example\"", "Smith", "smith@widgets.xyzcorp.com"},
	{"R3 no substitute domain: the host name", Options{Hostname: orders}, "", "SMITH", "smith@orders.acme.widgets.com"},
	{"R3 IMAP recipient with route, NONE", Options{Hostname: orders, DecnetRewrite: RewriteNone},
		"ORDERS::J_SMITH", "BROWN", "ORDERS::BROWN"},
	{"R3 IMAP recipient with a multi-hop route", Options{Hostname: orders, SubstituteDomain: acme},
		"A::B::J_SMITH", "BROWN", `"A::B::BROWN"@acme.widgets.com`},
	{"R3 IMAP recipient of a quoted DECnet sender", Options{Hostname: orders, Nodes: manualNodes},
		`ORDERS::"j@x.example"`, "BROWN", "brown@orders.acme.widgets.com"},
	{"R3 IMAP recipient of a cluster-forwarding sender gets no route", Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes},
		`ABCDEF::SMTP%"j@x.example"`, "BROWN", "brown@acme.widgets.com"},
	{"R3 IMAP recipient that is not a user name keeps its own form", Options{Hostname: orders, Nodes: manualNodes},
		"ORDERS::J_SMITH", "HOST12::BROWN", "brown@host12.acme.widgets.com"},
	{"R4 TRANSFORM of a non-address falls back to GENERIC", Options{Hostname: widgets},
		"", `ORDERS::"j smith@acme.com"`, `"ORDERS::\"j smith@acme.com\""@widgets.xyzcorp.com`},
	{"R1 name-addr inside the quotes", Options{Hostname: widgets}, "", `SMTP%"John <john@x.example>"`, "john@x.example"},
	{"R1 invalid address is quoted whole (R6)", Options{Hostname: widgets}, "", `SMTP%"john smith"`, `"SMTP%\"john smith\""@widgets.xyzcorp.com`},
	{"R1 lower-case prefix", Options{}, "", `smtp%"a@b.example"`, "a@b.example"},
	{"R1 unterminated quote", Options{}, "", `SMTP%"a@b.example`, "a@b.example"},
	{"R1 cent sign as an ISO 8859-1 byte", Options{}, "", "SMTP%\"\xa2a b\xa2@x.example\"", `"a b"@x.example`},
	{"R1 a UTF-8 character ending in A2 is not a cent sign", Options{}, "", `SMTP%"mâx@x.example"`, "mâx@x.example"},
	{"R5 with a cent sign", Options{}, "", `N::SMTP%"¢a b¢@x.example"`, `"a b"@x.example`},
	{"R6 backslashes are escaped", Options{SubstituteDomain: "xyz.org"}, "", `A::B::C\D`, `"A::B::C\\D"@xyz.org`},
	{"R6 foreign-protocol prefix", Options{SubstituteDomain: "xyz.org"}, "", `MX%"a@b.example"`, `"MX%\"a@b.example\""@xyz.org`},
	{"R6 bare user@host is not a user name", Options{SubstituteDomain: "xyz.org"}, "", `a@b.example`, `"a@b.example"@xyz.org`},
	{"R6 control characters become spaces", Options{SubstituteDomain: "xyz.org"}, "", "A::B::C\r\nBcc: x", `"A::B::C  Bcc: x"@xyz.org`},
	{"R6 empty address", Options{SubstituteDomain: "xyz.org"}, "", "", `""@xyz.org`},
	{"bad host settings fall back to localhost", Options{Hostname: "bad host", SubstituteDomain: "a b"}, "", "X", "x@localhost"},
}

func TestOptionCombinations(t *testing.T) {
	for _, tc := range optionTests {
		t.Run(tc.name, func(t *testing.T) {
			in, from := tc.in, tc.from
			var got string
			if from != "" {
				got = tc.opts.RewriteRecipient(in, from)
			} else {
				got = tc.opts.Rewrite(in)
			}
			if got != tc.want {
				t.Errorf("rewrite %q (from %q)\n got %s\nwant %s", in, from, got, tc.want)
			}
		})
	}
}

func TestFromAddressPersonalName(t *testing.T) {
	opts := Options{Hostname: orders, Nodes: manualNodes, PersonalName: true}
	tests := []struct {
		name, from, personal, want string
	}{
		{"plain", "ORDERS::J_SMITH", "John Smith", `"John Smith" <j_smith@orders.acme.widgets.com>`},
		{"comma and quotes", `SMTP%"a@b.example"`, `Smith, "JJ" \x`, `"Smith, \"JJ\" \\x" <a@b.example>`},
		{"encoded-word lookalike stays quoted", `SMTP%"a@b.example"`, `=?utf-8?q?x?=`, `"=?utf-8?q?x?=" <a@b.example>`},
		{"non-ASCII is B-encoded", `SMTP%"a@b.example"`, "Jörg Müller", "=?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <a@b.example>"},
		{"ISO 8859-1 name", `SMTP%"a@b.example"`, "J\xf6rg", "=?utf-8?b?SsO2cmc=?= <a@b.example>"},
		{"control characters", `SMTP%"a@b.example"`, "a\r\nBcc: x", `"a  Bcc: x" <a@b.example>`},
		{"no name", `SMTP%"a@b.example"`, "", "a@b.example"},
		{"blank name", `SMTP%"a@b.example"`, " \t", "a@b.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := opts.FromAddress(tc.from, tc.personal); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	t.Run("option off", func(t *testing.T) {
		o := opts
		o.PersonalName = false
		if got := o.FromAddress("ORDERS::J_SMITH", "John Smith"); got != "j_smith@orders.acme.widgets.com" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("NONE gets no personal name", func(t *testing.T) {
		o := opts
		o.DecnetRewrite = RewriteNone
		if got := o.FromAddress("ORDERS::J_SMITH", "John Smith"); got != "ORDERS::J_SMITH" {
			t.Errorf("got %s", got)
		}
	})
}
