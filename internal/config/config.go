package config

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a Postern server: the global options
// (those written before any [section] of the file) and one struct per
// protocol section.
//
// A Config from Load, Parse, LoadQuickstart or Quickstart is resolved: the
// fields that inherit a global value and the paths under Data-Directory
// hold their effective values (see Resolve), and it has passed Validate.
type Config struct {
	// Defaults is the profile the defaults of a few options come from
	// (Defaults): OPENVMS, the original's behaviour, or MODERN.
	Defaults Profile
	// Hostname is the server's fully qualified host name (Hostname).
	Hostname string
	// ListenAddress lists the IP addresses every listener binds
	// (Listen-Address); empty means all addresses.
	ListenAddress []string
	// DataDirectory holds the store, message files and sockets (Data-Directory).
	DataDirectory string
	// StoreURL selects the store (Store-URL): empty or sqlite: the
	// embedded store in DataDirectory; postgres://… a PostgreSQL database
	// that several nodes share (docs/scale-out.md).
	StoreURL string
	// StorePasswordFile names a file whose first line is the database
	// password (Store-Password-File); empty: the URL's or PGPASSWORD.
	StorePasswordFile string
	// ContentStore says where a PostgreSQL store keeps message bodies
	// (Content-Store): DATABASE or FILES (under DataDirectory).
	ContentStore string
	// LogDirectory holds the run, event and trace logs (Log-Directory).
	LogDirectory string
	// RunAsUser is the account the server switches to after binding its
	// listeners (Run-As-User); empty means it keeps running as it started.
	RunAsUser string
	// SubstituteDomain replaces the local host name in rewritten addresses
	// and counts as local (Substitute-Domain); empty means none.
	SubstituteDomain string
	// LocalAliasesFile names a file of further local domains, one a line
	// (Local-Aliases-File); empty means none.
	LocalAliasesFile string
	// LocalDomains lists further domains that are local (Local-Domains).
	LocalDomains []string
	// TLS holds the default certificate, key and passphrase files for
	// every protocol (Certificate-File, Key-File, Key-Passphrase-File).
	TLS TLSFiles
	// LogLevel is the default logging level (Log-Level).
	LogLevel LogLevel
	// LogFormat is how run log lines are written: TEXT (key=value) or
	// JSON, one object per line (Log-Format).
	LogFormat string
	// PersonalName puts the sender's personal name into rebuilt From
	// headers by default (Personal-Name).
	PersonalName bool
	// DecnetNodes maps DECnet node names to Internet host names for the
	// TRANSFORM address rewrite (Decnet-Node).
	DecnetNodes []DecnetNode
	// DecnetNodeLookup lets the TRANSFORM rewrite try a node name that is
	// not in DecnetNodes in the DNS (Decnet-Node-Lookup).
	DecnetNodeLookup bool
	// AllowPlaintextAuth permits password authentication on connections that
	// are neither TLS nor loopback, by default (Allow-Plaintext-Auth).
	AllowPlaintextAuth bool
	// ShutdownTimeout is how long a graceful shutdown waits for sessions
	// before closing them (Shutdown-Timeout).
	ShutdownTimeout time.Duration
	// MetricsAddress is the host:port of the Prometheus metrics listener
	// (Metrics-Address); empty means off.
	MetricsAddress string
	// ControlSocket is the Unix socket `postern ctl` talks to (Control-Socket).
	ControlSocket string
	// MaxMessageSize is the largest message, in bytes, that submission,
	// inbound SMTP, LMTP and deliver accept (Max-Message-Size).
	MaxMessageSize int64
	// TrustedNetworks lists IP addresses and networks (CIDR) exempt from the
	// failed-login throttle and the per-address connection caps
	// (Trusted-Networks); empty by default, loopback included.
	TrustedNetworks []string
	// Accounts lists the account sources in the order they are asked
	// (Accounts); "local" is the store's own accounts.
	Accounts []string
	// AdminImpersonation lets an administrator log in as another account
	// with SASL PLAIN's authorization identity (Admin-Impersonation).
	AdminImpersonation bool
	// SCRAMChannelBinding offers SCRAM-SHA-256-PLUS with tls-exporter
	// channel binding on TLS 1.3 connections (SCRAM-Channel-Binding).
	SCRAMChannelBinding bool
	// SystemMinUID, SystemPasswdFile and SystemShadowFile are the system
	// account source's host accounts (System-Min-UID, System-Passwd-File,
	// System-Shadow-File).
	SystemMinUID     int
	SystemPasswdFile string
	SystemShadowFile string
	// AuthCacheTTL is how long a verified password is remembered
	// (Auth-Cache-TTL); 0 turns the cache off.
	AuthCacheTTL time.Duration
	// AuthHashConcurrency is how many argon2id verifications run at once
	// (Auth-Hash-Concurrency); 0 derives it from GOMAXPROCS and memory.
	AuthHashConcurrency int
	// MemoryLimit is the Go runtime's soft memory limit in bytes
	// (Memory-Limit); 0 leaves the runtime's default.
	MemoryLimit int64
	// Postmaster lists the accounts and addresses sent a notice when the
	// server starts again after an abnormal exit (Postmaster).
	Postmaster []string
	// StartupCommand and ShutdownCommand are shell commands run when the
	// server has started and when it begins to stop (Startup-Command,
	// Shutdown-Command); empty means none.
	StartupCommand  string
	ShutdownCommand string
	// QuotaStorage and QuotaMessages are the site's default quota limits
	// (Quota-Storage, in bytes, and Quota-Messages) for accounts without
	// their own (RFC 9208); 0 means no limit.
	QuotaStorage  int64
	QuotaMessages int

	// IMAP is the [IMAP] section.
	IMAP IMAPConfig
	// POP is the [POP] section.
	POP POPConfig
	// SMTP is the [SMTP] section.
	SMTP SMTPConfig
	// LMTP is the [LMTP] section.
	LMTP LMTPConfig
	// ManageSieve is the [ManageSieve] section.
	ManageSieve ManageSieveConfig
	// OAuth is the [OAuth] section.
	OAuth OAuthConfig
	// LDAP is the [LDAP] section: the ldap account source.
	LDAP LDAPConfig

	// file is the name of the file the config came from, for messages.
	file string
	// origins records where each explicitly set option was set, keyed by
	// option key; options that only hold defaults are absent.
	origins map[string]origin
}

// TLSFiles names the files a TLS listener needs. In a protocol section an
// empty field inherits the global one (see Resolve).
type TLSFiles struct {
	// CertificateFile is the PEM certificate chain (Certificate-File, alias Cert-File).
	CertificateFile string
	// KeyFile is the PEM private key (Key-File).
	KeyFile string
	// KeyPassphraseFile holds the passphrase of an encrypted KeyFile
	// (Key-Passphrase-File); empty means the key is not encrypted.
	KeyPassphraseFile string
}

// IMAPConfig is the [IMAP] section.
type IMAPConfig struct {
	// Enable turns the IMAP server on or off (Enable).
	Enable bool
	// ConnLimits are the admission caps of the section.
	ConnLimits
	// ServerPort is the IMAP port with STARTTLS; 0 is off (Server-Port).
	ServerPort int
	// SecurePort is the IMAP port with implicit TLS; 0 is off (Secure-Port).
	SecurePort int
	// IgnoreMail11Headers hides the rebuilt OpenVMS headers of mail that
	// came through SMTP and shows the real ones (Ignore-Mail11-Headers).
	IgnoreMail11Headers bool
	// SendIDHeaders adds X-IMAP4-Server and X-IMAP4-ID headers (Send-ID-Headers).
	SendIDHeaders bool
	// DecnetRewrite is the rewrite of simple DECnet addresses (Decnet-Rewrite).
	DecnetRewrite Rewrite
	// QuotedDecnetRewrite is the rewrite of quoted DECnet addresses
	// (Quoted-Decnet-Rewrite).
	QuotedDecnetRewrite Rewrite
	// PersonalName puts the sender's personal name into rebuilt headers
	// (Personal-Name; inherits the global value).
	PersonalName bool
	// GatewayNode replaces the local node name in routes from SMTP into
	// DECnet (Gateway-Node); empty means none.
	GatewayNode string
	// MaxConnections is the number of connections one server process takes
	// before a new process takes over (Max-Connections); 0 is no rollover.
	MaxConnections int
	// MessageCap is the largest number of messages listed per mailbox
	// (Message-Cap); 0 is no cap.
	MessageCap int
	// VMSFolderNames passes mailbox names through the OpenVMS folder-name
	// codec of hp-system §6.2 (Vms-Folder-Names): store names are shown
	// encoded, and names from the client are decoded.
	VMSFolderNames bool
	// MagicFile is a file of magic records that type foreign messages
	// before the built-in ones (Magic-File); empty means none.
	MagicFile string
	// ServerTrace writes a trace file of all traffic except passwords
	// (Server-Trace).
	ServerTrace bool
	// TraceSynch is the number of trace writes between flushes to disk
	// (Trace-Synch); 0 flushes only at exit.
	TraceSynch int
	// IdleTimeout is the autologout timer (Idle-Timeout); 0 is none.
	IdleTimeout time.Duration
	// TLS holds the certificate and key files for IMAP (inherit the global ones).
	TLS TLSFiles
	// LogLevel is the IMAP logging level (Log-Level; inherits the global value).
	LogLevel LogLevel
	// AppendLimit is the largest message APPEND accepts, in bytes
	// (Append-Limit; inherits Max-Message-Size).
	AppendLimit int64
	// AllowPlaintextAuth permits LOGIN and AUTHENTICATE PLAIN without TLS
	// on non-loopback connections (Allow-Plaintext-Auth; inherits the global value).
	AllowPlaintextAuth bool
	// MaxAuthAttempts is the number of failed logins after which the
	// connection is closed (Max-Auth-Attempts).
	MaxAuthAttempts int
	// PreauthTimeout is how long a connection may stay not logged in
	// (Preauth-Timeout); 0 is no limit.
	PreauthTimeout time.Duration
}

// POPConfig is the [POP] section. Its fields are the TCPIP$POP_* logical
// names of the original server, without the prefix.
type POPConfig struct {
	// Enable turns the POP3 server on or off (Enable).
	Enable bool
	// ConnLimits are the admission caps of the section.
	ConnLimits
	// ServerPort is the POP3 port with STLS; 0 is off (Server-Port).
	ServerPort int
	// SecurePort is the POP3 port with implicit TLS; 0 is off (Secure-Port).
	SecurePort int
	// Security selects how authorization failures are reported (Security).
	Security Security
	// Trace writes a trace file of all traffic except passwords (Trace).
	Trace bool
	// TraceSynch is the number of trace writes between flushes to disk
	// (Trace-Synch); 0 flushes only at exit.
	TraceSynch int
	// LogLevel is the POP logging level (Log-Level; inherits the global value).
	LogLevel LogLevel
	// Postmaster is the original's spelling of the global Postmaster
	// ([POP] Postmaster), which it inherits; both are told.
	Postmaster []string
	// MessageMaximum is the largest number of messages one session may
	// download (Message-Maximum); 0 is no maximum.
	MessageMaximum int
	// LinkIdleTimeout is the autologout timer (Link-Idle-Timeout); 0 is none.
	LinkIdleTimeout time.Duration
	// PersonalName puts the sender's personal name into the rebuilt From
	// (Personal-Name; inherits the global value).
	PersonalName bool
	// LeaveInNewmail keeps read, undeleted mail in the inbox instead of
	// moving it to the MAIL folder (Leave-In-Newmail).
	LeaveInNewmail bool
	// UseMailFolder moves all mail into the MAIL folder and serves that
	// folder (Use-Mail-Folder).
	UseMailFolder bool
	// FastScan reports estimated instead of exact message sizes (Fast-Scan).
	FastScan bool
	// MaximumThreads caps the concurrent POP3 sessions (Maximum-Threads);
	// 0 is no cap.
	MaximumThreads int
	// Expire is the retention of retrieved mail announced as EXPIRE and
	// enforced (Expire): "NEVER" or a number of days; see ExpireDays.
	Expire string
	// LoginDelay is the least time between two logins of an account,
	// announced as LOGIN-DELAY and enforced (Login-Delay); 0 is none.
	LoginDelay time.Duration
	// IgnoreMail11Headers hides the rebuilt OpenVMS headers of mail that
	// came through SMTP and shows the real ones (Ignore-Mail11-Headers).
	IgnoreMail11Headers bool
	// SendIDHeaders adds X-POP3-Server and X-POP3-ID headers (Send-ID-Headers).
	SendIDHeaders bool
	// DecnetRewrite is the rewrite of simple DECnet addresses (Decnet-Rewrite).
	DecnetRewrite Rewrite
	// QuotedDecnetRewrite is the rewrite of quoted DECnet addresses
	// (Quoted-Decnet-Rewrite).
	QuotedDecnetRewrite Rewrite
	// Sndbuf is the SO_SNDBUF size of POP3 connections (Sndbuf); 0 is the
	// system default.
	Sndbuf int
	// Disuserpass turns USER/PASS off so that only APOP works (Disuserpass).
	Disuserpass bool
	// PurgeReclaim empties the deleted-messages area and reclaims its space
	// after a session deletes messages (Purge-Reclaim).
	PurgeReclaim bool
	// TLS holds the certificate and key files for POP3 (inherit the global ones).
	TLS TLSFiles
	// MaxAuthAttempts is the number of failed logins after which the
	// connection is closed (Max-Auth-Attempts).
	MaxAuthAttempts int
	// LogReject logs every login rejected for authorization reasons (Log-Reject).
	LogReject bool
	// AllowPlaintextAuth permits USER/PASS and AUTH PLAIN without TLS on
	// non-loopback connections (Allow-Plaintext-Auth; inherits the global value).
	AllowPlaintextAuth bool
	// PreauthTimeout is how long a connection may stay not logged in
	// (Preauth-Timeout); 0 is no limit.
	PreauthTimeout time.Duration
}

// SMTPConfig is the [SMTP] section: submission, inbound SMTP and the
// outbound queue.
type SMTPConfig struct {
	// Enable turns submission, inbound SMTP and the queue on or off (Enable).
	Enable bool
	// SubmissionPort is the submission port with STARTTLS; 0 is off
	// (Submission-Port).
	SubmissionPort int
	// SubmissionsPort is the submission port with implicit TLS; 0 is off
	// (Submissions-Port).
	SubmissionsPort int
	// ServerPort is the inbound SMTP port; 0 is off (Server-Port).
	ServerPort int
	// SaveSent stores a copy of each submitted message in the sender's Sent
	// mailbox (Save-Sent).
	SaveSent bool
	// RelayHost is the smarthost, host[:port], all outbound mail goes
	// through (Relay-Host); empty means direct delivery to MX hosts.
	RelayHost string
	// RelayUsername is the account used to authenticate to RelayHost
	// (Relay-Username); empty means no authentication.
	RelayUsername string
	// RelayPasswordFile holds the password for RelayUsername (Relay-Password-File).
	RelayPasswordFile string
	// RelayTLS is how the connection to RelayHost is secured (Relay-TLS).
	RelayTLS RelayTLS
	// QueueLifetime is how long an undeliverable message is retried before
	// it bounces (Queue-Lifetime).
	QueueLifetime time.Duration
	// QueueLease is how long a node holds a queued message it is
	// delivering without renewing the lease (docs/scale-out.md).
	QueueLease time.Duration
	// DelayWarning is when the sender is told a message is still queued
	// (Delay-Warning); 0 is never.
	DelayWarning time.Duration
	// DMARCReject refuses inbound mail failing DMARC under p=reject
	// (Dmarc-Reject).
	DMARCReject bool
	// Milter is the mail filter of inbound SMTP, inet:HOST:PORT or
	// unix:/PATH (Milter); empty means none.
	Milter string
	// MilterDefaultAction is what a message gets when the Milter cannot
	// be asked (Milter-Default-Action): TEMPFAIL or ACCEPT.
	MilterDefaultAction string
	// Resolver is the DNS server, host[:port], for MX lookups and the
	// SPF, DKIM and DMARC checks (Resolver); empty means the system
	// resolver.
	Resolver string
	// AliasesFile names the file of address aliases (Aliases-File); empty
	// means none.
	AliasesFile string
	// MaxRecipients is the largest number of recipients of one message
	// (Max-Recipients).
	MaxRecipients int
	// ConnLimits are the admission caps of the section, applied to
	// submission and to inbound SMTP each.
	ConnLimits
	// PreauthTimeout is how long a submission connection may stay not
	// authenticated (Preauth-Timeout); 0 is no limit.
	PreauthTimeout time.Duration
	// TLS holds the certificate and key files for SMTP (inherit the global ones).
	TLS TLSFiles
	// LogLevel is the SMTP logging level (Log-Level; inherits the global value).
	LogLevel LogLevel
	// Trace writes a trace file of all traffic except passwords and
	// message data (Trace).
	Trace bool
	// TraceSynch is the number of trace writes between flushes to disk
	// (Trace-Synch); 0 flushes only at exit.
	TraceSynch int
	// AllowPlaintextAuth permits AUTH without TLS on non-loopback
	// connections (Allow-Plaintext-Auth; inherits the global value).
	AllowPlaintextAuth bool
	// AcceptBareLF takes a bare LF in a message submitted by an
	// authenticated user as a line end and stores it as CRLF
	// (Accept-Bare-LF).
	AcceptBareLF bool
}

// LMTPConfig is the [LMTP] section: local delivery from an MTA.
type LMTPConfig struct {
	// Enable turns the LMTP server on or off (Enable).
	Enable bool
	// ConnLimits are the admission caps of the section.
	ConnLimits
	// Socket is the Unix socket LMTP listens on (Socket); empty is off.
	Socket string
	// ServerPort is the TCP port LMTP listens on; 0 is off (Server-Port).
	ServerPort int
	// LogLevel is the LMTP logging level (Log-Level; inherits the global value).
	LogLevel LogLevel
	// Trace writes a trace file of all traffic except message data (Trace).
	Trace bool
	// TraceSynch is the number of trace writes between flushes to disk
	// (Trace-Synch); 0 flushes only at exit.
	TraceSynch int
}

// OAuthConfig is the [OAuth] section: bearer-token logins (issue 22).
// Configured means Issuer, Audience and one of JWKSURL and
// IntrospectionURL are set.
type OAuthConfig struct {
	// Issuer and Audience are what every token must name (Issuer, Audience).
	Issuer   string
	Audience string
	// JWKSURL is the issuer's key set, for JWTs (JWKS-URL).
	JWKSURL string
	// UsernameClaim is the claim holding the login name (Username-Claim).
	UsernameClaim string
	// IntrospectionURL, ClientID and ClientSecretFile ask the issuer about
	// opaque tokens (RFC 7662; Introspection-URL, Client-ID,
	// Client-Secret-File).
	IntrospectionURL string
	ClientID         string
	ClientSecretFile string
}

// Configured reports whether bearer-token logins are on.
func (o OAuthConfig) Configured() bool {
	return o.Issuer != "" && o.Audience != "" && (o.JWKSURL != "" || o.IntrospectionURL != "")
}

// LDAPConfig is the [LDAP] section: the directory of the ldap account
// source (issue 22, docs/accounts.md), used when Accounts lists ldap.
type LDAPConfig struct {
	// ServerURLs are ldap:// or ldaps:// URLs, tried in order (Server-URL).
	ServerURLs []string
	// StartTLS upgrades ldap:// connections with StartTLS (Start-TLS).
	StartTLS bool
	// CAFile holds the CAs trusted for the directory's certificate (CA-File).
	CAFile string
	// BindDN and BindPasswordFile are the service identity that searches
	// (Bind-DN, Bind-Password-File); none searches anonymously.
	BindDN           string
	BindPasswordFile string
	// BaseDN is where users are searched (Base-DN).
	BaseDN string
	// UserFilter and MailFilter find a user by login name and by
	// recipient address (User-Filter, Mail-Filter).
	UserFilter string
	MailFilter string
	// NameAttribute names the store account, MailAttribute holds the
	// user's addresses (Name-Attribute, Mail-Attribute).
	NameAttribute string
	MailAttribute string
	// BindAsUser verifies passwords by binding as the user (Bind-As-User).
	BindAsUser bool
	// Timeout bounds each directory operation (Timeout).
	Timeout time.Duration
}

// ManageSieveConfig is the [ManageSieve] section (RFC 5804).
type ManageSieveConfig struct {
	// Enable turns the ManageSieve server on (Enable; default off).
	Enable bool
	// ConnLimits are the admission caps of the section.
	ConnLimits
	// ServerPort is the TCP port, 4190 by default (Server-Port).
	ServerPort int
	// PreauthTimeout bounds a connection that has not logged in.
	PreauthTimeout time.Duration
	// MaxScriptSize bounds one script in octets (Max-Script-Size).
	MaxScriptSize int64
	// MaxScripts bounds the scripts of one account (Max-Scripts).
	MaxScripts int
}

// ConnLimits are the connection caps every protocol section has, enforced
// by package admission. Zero means no cap.
type ConnLimits struct {
	// MaxConnectionsPerIP caps the concurrent connections from one IPv4
	// address or IPv6 /64 (Max-Connections-Per-IP).
	MaxConnectionsPerIP int
	// MaxPreauthPerIP caps the connections from one address that have not
	// authenticated yet (Max-Preauth-Per-IP).
	MaxPreauthPerIP int
	// ServiceLimit caps the concurrent connections of the whole section
	// (Service-Limit).
	ServiceLimit int
	// DrainTimeout is how long a draining worker lets the section's
	// sessions go on before closing them (Drain-Timeout).
	DrainTimeout time.Duration
}

// DecnetNode is one entry of the DECnet node map: mail from Node::user is
// rewritten to user@Host under the TRANSFORM rule.
type DecnetNode struct {
	// Node is the DECnet node name, upper-case (e.g. ORDERS).
	Node string
	// Host is the Internet host name the node translates to.
	Host string
}

// LogLevel is a logging level. The four levels of the original server are
// kept, in order of increasing detail, with the modern levels around them:
// ERROR < WARN < INFORMATIONAL < THREAD < DEBUG < TRACE < TRACEAUTH < TRACEDATA.
// INFO and WARNING are accepted as aliases.
type LogLevel string

// The logging levels.
const (
	LogError         LogLevel = "ERROR"
	LogWarn          LogLevel = "WARN"
	LogInformational LogLevel = "INFORMATIONAL"
	LogThread        LogLevel = "THREAD"
	LogDebug         LogLevel = "DEBUG"
	LogTrace         LogLevel = "TRACE"
	LogTraceAuth     LogLevel = "TRACEAUTH"
	LogTraceData     LogLevel = "TRACEDATA"
)

// Rewrite is how the OpenVMS address rewriting rebuilds a DECnet address.
type Rewrite string

// The DECnet rewrite modes (hp-system §3.3 R2 and R4).
const (
	// RewriteGeneric quotes the whole address at the local host.
	RewriteGeneric Rewrite = "GENERIC"
	// RewriteNone passes the address through unchanged.
	RewriteNone Rewrite = "NONE"
	// RewriteTransform translates the node name to a host name.
	RewriteTransform Rewrite = "TRANSFORM"
)

// Profile is a set of defaults, chosen by the global option Defaults.
type Profile string

// The profiles.
const (
	// ProfileOpenVMS keeps the original's behaviour: POP3 moves read mail
	// out of the inbox, FRIENDLY login errors, bare LF refused everywhere.
	ProfileOpenVMS Profile = "OPENVMS"
	// ProfileModern is what users of other servers expect: read mail stays
	// in the inbox, SECURE login errors, bare LF accepted on submission.
	ProfileModern Profile = "MODERN"
)

// Security is how the POP server reports authorization failures.
type Security string

// The POP security modes (hp-system §2, TCPIP$POP_SECURITY).
const (
	// SecurityFriendly sends a specific message for each failure.
	SecurityFriendly Security = "FRIENDLY"
	// SecuritySecure never reveals whether the name or the password was wrong.
	SecuritySecure Security = "SECURE"
)

// RelayTLS is how the outbound queue secures its connection to Relay-Host.
type RelayTLS string

// The relay TLS modes.
const (
	// RelayTLSStartTLS requires STARTTLS.
	RelayTLSStartTLS RelayTLS = "STARTTLS"
	// RelayTLSImplicit connects with TLS from the start.
	RelayTLSImplicit RelayTLS = "IMPLICIT"
	// RelayTLSNone sends in clear text (only for a relay on a trusted network).
	RelayTLSNone RelayTLS = "NONE"
)

// RelayAddress returns RelayHost with its port filled in: 465 with
// Relay-TLS IMPLICIT, otherwise 587. It returns "" when there is no relay.
// ExpireDays returns [POP] Expire as a number of days, with never true
// for NEVER (in any case). A value that is neither (which Validate
// reports) is taken as NEVER: it never deletes mail.
func (p *POPConfig) ExpireDays() (days int, never bool) {
	n, err := strconv.Atoi(strings.TrimSpace(p.Expire))
	if err != nil || n < 0 || n > maxExpireDays {
		return 0, true
	}
	return n, false
}

// maxExpireDays is the longest [POP] Expire, a century.
const maxExpireDays = 36500

func (s *SMTPConfig) RelayAddress() string {
	if s.RelayHost == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(s.RelayHost); err == nil {
		return s.RelayHost
	}
	port := 587
	if s.RelayTLS == RelayTLSImplicit {
		port = 465
	}
	host := s.RelayHost
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Defaults returns a configuration holding every documented default. It is
// the only place defaults live: each comes from the option table. The
// result is not resolved; call Resolve before use.
func Defaults() *Config {
	c := &Config{origins: map[string]origin{}}
	for _, o := range options() {
		if o.dynamic != nil {
			if msg := o.set(c, o.dynamic(), false); msg != "" {
				panic("config: bad dynamic default for " + o.label() + ": " + msg)
			}
			continue
		}
		if o.def == "" && (o.inherit != "" || o.derive != "") {
			continue // filled by Resolve
		}
		if msg := o.set(c, o.def, false); msg != "" {
			panic("config: bad default for " + o.label() + ": " + msg)
		}
	}
	return c
}

// systemHostname is the default of Hostname.
func systemHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" || !validHost(h) {
		return "localhost"
	}
	return h
}

// Quickstart ports (docs/configuration.md, "Quickstart mode").
const (
	QuickstartIMAPPort        = 1143
	QuickstartIMAPSPort       = 1993
	QuickstartPOP3Port        = 1110
	QuickstartPOP3SPort       = 1995
	QuickstartSubmissionPort  = 1587
	QuickstartSubmissionsPort = 1465
	QuickstartLMTPPort        = 2424
)

// Quickstart returns the configuration of quickstart mode (`postern serve`
// without a config file): the defaults, listening on 127.0.0.1 only, on the
// unprivileged ports IMAP 1143, IMAPS 1993, POP3 1110, POP3S 1995,
// submission 1587, submissions 1465 and LMTP 2424 (plus the LMTP socket),
// with its data in dataDir, localhost a local domain besides the Hostname,
// and the modern Defaults. The result is resolved.
func Quickstart(dataDir string) *Config {
	c := quickstartUnresolved(dataDir)
	c.Resolve()
	return c
}

func quickstartUnresolved(dataDir string) *Config {
	c := Defaults()
	c.file = "quickstart"
	c.ListenAddress = []string{"127.0.0.1"}
	c.DataDirectory = dataDir
	c.IMAP.ServerPort = QuickstartIMAPPort
	c.IMAP.SecurePort = QuickstartIMAPSPort
	c.POP.ServerPort = QuickstartPOP3Port
	c.POP.SecurePort = QuickstartPOP3SPort
	c.SMTP.SubmissionPort = QuickstartSubmissionPort
	c.SMTP.SubmissionsPort = QuickstartSubmissionsPort
	c.LMTP.ServerPort = QuickstartLMTPPort
	c.LocalDomains = quickstartDomains(c.Hostname)
	c.Defaults = ProfileModern
	return c
}

// quickstartDomains are the local domains of quickstart mode besides the
// Hostname: localhost and the host's short name, so that demo@localhost
// sends and receives mail on a machine whose name is not in the DNS.
func quickstartDomains(hostname string) []string {
	out := []string{"localhost"}
	if short, _, ok := strings.Cut(hostname, "."); ok && short != "" && short != "localhost" {
		out = append(out, short)
	}
	return out
}

// LoadQuickstart is Quickstart followed by the environment overrides and
// validation, as Load does for a file. Errors are a *ErrorList.
func LoadQuickstart(dataDir string, environ []string) (*Config, error) {
	c := quickstartUnresolved(dataDir)
	errs := c.applyEnv(environ)
	return c.finish(errs)
}

// File returns the name of the file the configuration was read from
// ("quickstart" in quickstart mode, "" when built in code).
func (c *Config) File() string { return c.file }

// IsSet reports whether the option named field of section ("" for the
// global options, or IMAP, POP, SMTP, LMTP) was set explicitly by the file,
// the environment or Set, rather than left at its default or inherited.
func (c *Config) IsSet(section, field string) bool {
	o := lookup(section, field)
	if o == nil {
		return false
	}
	_, ok := c.origins[o.key()]
	return ok
}

// Set sets one option from its text form, exactly as a line of the file
// would, and marks it explicitly set. Lists are replaced, not appended to.
// It does not resolve or validate; call Resolve and Validate afterwards.
func (c *Config) Set(section, field, value string) error {
	o := lookup(section, field)
	if o == nil {
		return &FieldError{File: c.file, Field: field, Section: section,
			Msg: unknownFieldMsg(section, field)}
	}
	if msg := o.set(c, value, false); msg != "" {
		return &FieldError{File: c.file, Field: o.name, Section: o.section,
			Msg: o.label() + ": " + msg}
	}
	c.markSet(o, origin{})
	return nil
}

// Clone returns a copy of c that can be changed (field by field, or with
// Set) without changing c. A reload keeps the running configuration as a
// clone with the changes it applied.
func (c *Config) Clone() *Config {
	n := *c
	n.origins = make(map[string]origin, len(c.origins))
	for k, v := range c.origins {
		n.origins[k] = v
	}
	return &n
}
