package config

import (
	"strconv"
	"strings"
)

// Markers around the generated part of docs/configuration.md.
const (
	referenceBegin = "<!-- BEGIN GENERATED: go test ./internal/config -run TestReferenceDoc -update -->"
	referenceEnd   = "<!-- END GENERATED -->"
)

// Reference returns the option reference in Markdown: for each section a
// summary table, then one entry per option with its values, default,
// environment variable, meaning and difference from the original. It is
// generated from the option table and kept in docs/configuration.md.
func Reference() string {
	var b strings.Builder
	for _, sec := range sections {
		writeSectionReference(&b, sec)
	}
	return b.String()
}

var sectionIntro = map[string]string{
	SectionGlobal: "Written before any section header. Where a section has an option of the same name, " +
		"the section's value wins for that protocol; a section that leaves it unset inherits the global value.",
	SectionIMAP: "The IMAP4rev2/IMAP4rev1 server (hp-system §6–§8; Table 20-1 of the original).",
	SectionPOP: "The POP3 server. Its fields are the `TCPIP$POP_*` logical names of the original " +
		"(hp-system §2) without the prefix.",
	SectionSMTP: "Message submission, inbound SMTP and the outbound queue. New in Postern: the original's " +
		"SMTP server was configured elsewhere (`SET CONFIGURATION SMTP`).",
	SectionLMTP: "Local delivery from another MTA (RFC 2033). New in Postern.",
	SectionOAuth: "OAuth 2.0 bearer-token logins: SASL OAUTHBEARER (RFC 7628) and XOAUTH2 on IMAP, POP3 and " +
		"submission, offered only over TLS or on loopback, and only when Issuer and Audience are set with " +
		"JWKS-URL or Introspection-URL (docs/accounts.md). New in Postern.",
	SectionLDAP: "The directory of the `ldap` account source (RFC 4511, 4513, 4515), asked when the global " +
		"Accounts option lists `ldap` (docs/accounts.md). New in Postern.",
	SectionManageSieve: "Users' Sieve scripts over ManageSieve (RFC 5804; docs/sieve.md). New in Postern. " +
		"STARTTLS uses the [IMAP] certificate and key, and PLAIN follows [IMAP] Allow-Plaintext-Auth.",
}

func writeSectionReference(b *strings.Builder, sec string) {
	title := "Global options"
	if sec != SectionGlobal {
		title = "[" + sec + "]"
	}
	b.WriteString("## " + title + "\n\n" + sectionIntro[sec] + "\n\n")
	b.WriteString("| Field | Values | Default |\n|---|---|---|\n")
	var opts []*option
	for _, o := range options() {
		if o.section == sec {
			opts = append(opts, o)
		}
	}
	for _, o := range opts {
		b.WriteString("| [`" + o.name + "`](#" + o.anchor() + ") | " + o.valuesText() + " | " + o.defaultText() + " |\n")
	}
	b.WriteString("\n")
	for _, o := range opts {
		b.WriteString("### " + o.heading() + "\n\n")
		b.WriteString("- Values: " + o.valuesText() + "\n")
		b.WriteString("- Default: " + o.defaultText() + "\n")
		envs := []string{"`" + o.envName() + "`"}
		for _, a := range o.aliases {
			envs = append(envs, "`"+envNameFor(o.section, a)+"`")
		}
		b.WriteString("- Environment: " + strings.Join(envs, ", ") + "\n")
		if len(o.aliases) > 0 {
			b.WriteString("- Also spelt: `" + strings.Join(o.aliases, "`, `") + "`\n")
		}
		orig := o.orig
		if orig == "" {
			orig = "New in Postern."
		}
		b.WriteString("- Original: " + orig + "\n\n")
		b.WriteString(o.doc + "\n\n")
	}
}

func (o *option) heading() string {
	if o.section == SectionGlobal {
		return o.name
	}
	return "[" + o.section + "] " + o.name
}

// anchor is the GitHub anchor of the option's heading.
func (o *option) anchor() string {
	h := strings.ToLower(o.heading())
	h = strings.NewReplacer("[", "", "]", "", " ", "-").Replace(h)
	return h
}

func (o *option) valuesText() string {
	if o.values != "" {
		return o.values
	}
	switch o.kind {
	case kBool:
		return "ON/OFF"
	case kInt:
		return strconv.FormatInt(o.min, 10) + "–" + strconv.FormatInt(o.max, 10)
	case kPort:
		return "port 0–65535"
	case kSize:
		return "size: bytes, or `512K`, `50M`, `1G`"
	case kDuration:
		s := "duration"
		if o.minNonzero > 0 {
			s += ": 0, or at least " + formatDuration(o.minNonzero)
		}
		return s
	case kString:
		return "text"
	case kHost:
		return "host name"
	case kHostPort:
		return "`host[:port]`"
	case kPath:
		return "path"
	case kFileSpec:
		return "full or partial file specification"
	case kEnum:
		return "`" + strings.Join(o.enum, "`, `") + "`"
	}
	return "list"
}

func (o *option) defaultText() string {
	switch {
	case o.defDoc != "":
		return o.defDoc
	case o.modern != "":
		return "`" + o.def + "` (`" + o.modern + "` with `Defaults: modern`)"
	case o.derive != "":
		return "`<Data-Directory>/" + o.derive + "`"
	case o.inherit != "":
		return "the global " + o.inherit
	case o.kind == kPort && o.def == "0":
		return "0 (off)"
	case o.isList() && o.def == "":
		return "none"
	case o.def == "":
		return "none"
	}
	return "`" + o.def + "`"
}
