package config

import (
	"strings"
	"sync"
	"time"
)

// Section names, as written between brackets in the file. The global
// options have the section "".
const (
	SectionGlobal = ""
	SectionIMAP   = "IMAP"
	SectionPOP    = "POP"
	SectionSMTP   = "SMTP"
	SectionLMTP   = "LMTP"
	// SectionManageSieve is [ManageSieve] (RFC 5804, docs/sieve.md).
	SectionManageSieve = "ManageSieve"
	// SectionOAuth is [OAuth]: bearer-token logins (docs/accounts.md).
	SectionOAuth = "OAuth"
	// SectionLDAP is [LDAP]: the ldap account source (docs/accounts.md).
	SectionLDAP = "LDAP"
)

// sections lists the sections in the order the file and the docs use.
var sections = []string{SectionGlobal, SectionIMAP, SectionPOP, SectionSMTP, SectionLMTP, SectionManageSieve, SectionOAuth, SectionLDAP}

// kind is the type of an option's value, which selects its parser, its
// checks and how the reference describes it.
type kind int

const (
	kBool     kind = iota // ON/OFF, TRUE/FALSE, YES/NO, 1/0
	kInt                  // a count within min..max
	kPort                 // a TCP port, 0 = off
	kSize                 // a byte size: 50M, 1G, 512K or bytes
	kDuration             // delta time, Go duration or seconds
	kString               // free text
	kHost                 // a DNS host name
	kHostPort             // host[:port]
	kPath                 // a file or directory path
	kFileSpec             // a full or partial file specification (certificate, key)
	kEnum                 // one of enum
	kList                 // a list of elem
	kNodes                // a list of NODE=host.name
)

// option describes one configuration option. The table of options drives
// parsing, environment overrides, defaults, validation, suggestions, Format
// and the generated reference, so that none of them can drift.
type option struct {
	name    string   // canonical field name, e.g. "Leave-In-Newmail"
	aliases []string // other accepted names, e.g. "Cert-File"
	section string   // SectionGlobal, SectionIMAP, …
	kind    kind
	elem    kind     // element kind of a kList
	enum    []string // canonical values of a kEnum
	// enumAlias maps an accepted spelling to its canonical value.
	enumAlias map[string]string
	min, max  int64 // range of a kInt (and kSize, where max > 0)
	// minNonzero is the smallest allowed non-zero kDuration.
	minNonzero time.Duration
	// ptr returns a pointer to the field of c this option sets.
	ptr func(c *Config) any

	def     string        // the default, in file syntax; applied by Defaults
	dynamic func() string // computes the default when it depends on the host
	defDoc  string        // the default as the reference shows it, when def is not enough
	inherit string        // global option whose value this one takes when unset
	derive  string        // path under Data-Directory used when unset
	specExt string        // default extension of a kFileSpec (".crt", ".key")
	offOK   bool          // "" or OFF switches the option off (kept empty, never derived)
	// modern is the default under `Defaults: modern`, when it differs from
	// def (the OpenVMS default); applied by Resolve to options left unset.
	modern string
	// modernUnless, if set, keeps def under `Defaults: modern` when it
	// reports true (an explicit option the modern default would clash with).
	modernUnless func(c *Config) bool

	values string // the reference's "values" text, when the kind's is not enough
	doc    string // what the option does
	orig   string // the original's name and any difference; "" = new in Postern
	// check reports a problem with the option's (resolved) value, or "".
	check func(c *Config) string
}

// key identifies the option in maps: "POP/Leave-In-Newmail".
func (o *option) key() string { return o.section + "/" + o.name }

// label names the option in messages: "[POP] Leave-In-Newmail" or "Hostname".
func (o *option) label() string {
	if o.section == SectionGlobal {
		return o.name
	}
	return "[" + o.section + "] " + o.name
}

// envName is the environment variable that overrides the option.
func (o *option) envName() string { return envNameFor(o.section, o.name) }

func envNameFor(section, name string) string {
	n := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if section == SectionGlobal {
		return "POSTERN_" + n
	}
	return "POSTERN_" + strings.ToUpper(section) + "_" + n
}

func (o *option) isList() bool { return o.kind == kList || o.kind == kNodes }

// isString reports whether the option's value is a plain string.
func (o *option) isString() bool {
	switch o.kind {
	case kString, kHost, kHostPort, kPath, kFileSpec:
		return true
	}
	return false
}

// optionTable is built once; it is immutable after that.
var optionTable = sync.OnceValue(buildOptions)

// options returns every option, globals first, then section by section.
func options() []*option { return optionTable().all }

type table struct {
	all []*option
	// byName maps section → lower-case name or alias → option.
	byName map[string]map[string]*option // keyed by upper-cased section
	// byEnv maps an environment variable name to its option.
	byEnv map[string]*option
}

func buildOptions() *table {
	t := &table{byName: map[string]map[string]*option{}, byEnv: map[string]*option{}}
	for _, sec := range sections {
		t.byName[strings.ToUpper(sec)] = map[string]*option{}
	}
	var all []*option
	all = append(all, globalOptions()...)
	all = append(all, imapOptions()...)
	all = append(all, popOptions()...)
	all = append(all, smtpOptions()...)
	all = append(all, lmtpOptions()...)
	all = append(all, manageSieveOptions()...)
	all = append(all, oauthOptions()...)
	all = append(all, ldapOptions()...)
	for _, o := range all {
		for _, n := range append([]string{o.name}, o.aliases...) {
			if _, dup := t.byName[strings.ToUpper(o.section)][strings.ToLower(n)]; dup {
				panic("config: option defined twice: " + o.section + "/" + n)
			}
			t.byName[strings.ToUpper(o.section)][strings.ToLower(n)] = o
			t.byEnv[envNameFor(o.section, n)] = o
		}
	}
	t.all = all
	return t
}

// lookup finds an option by section and case-insensitive name or alias.
func lookup(section, name string) *option {
	m := optionTable().byName[strings.ToUpper(section)]
	if m == nil {
		return nil
	}
	return m[strings.ToLower(name)]
}

// sectionOf returns the sections other than section that have an option
// of this name.
func sectionsWith(name, except string) []string {
	var out []string
	for _, sec := range sections {
		if sec != except && lookup(sec, name) != nil {
			out = append(out, sec)
		}
	}
	return out
}
