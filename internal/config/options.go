package config

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// This file is the option table: every option Postern understands, with its
// default, its documentation and how it relates to the original HP TCP/IP
// Services for OpenVMS servers. docs/configuration.md is generated from it.

var logLevels = []string{"ERROR", "WARN", "INFORMATIONAL", "THREAD", "DEBUG", "TRACE", "TRACEAUTH", "TRACEDATA"}

var logLevelAliases = map[string]string{"INFO": "INFORMATIONAL", "WARNING": "WARN"}

var rewrites = []string{"GENERIC", "NONE", "TRANSFORM"}

// RFC 1939 §3: an autologout timer MUST be at least 10 minutes.
const minPOPIdle = 10 * time.Minute

// RFC 9051 §5.4: an autologout timer MUST be at least 30 minutes.
const minIMAPIdle = 30 * time.Minute

// Bounds of Auth-Cache-TTL and Memory-Limit (internal/auth MaxCacheTTL;
// below 64 MiB a Go server would spend its time collecting garbage).
const (
	maxAuthCacheTTL = 24 * time.Hour
	minMemoryLimit  = 64 << 20
)

func globalOptions() []*option {
	g := SectionGlobal
	return []*option{
		{name: "Defaults", section: g, kind: kEnum, enum: []string{"OPENVMS", "MODERN"}, def: "OPENVMS",
			ptr:    func(c *Config) any { return &c.Defaults },
			defDoc: "`OPENVMS` (`MODERN` in quickstart)",
			doc: "Where the defaults of a few options come from. OPENVMS keeps the original's behaviour. " +
				"MODERN is what users of other mail servers expect: mail read over POP3 stays in the inbox " +
				"(`[POP] Leave-In-Newmail: on`, so a phone's IMAP inbox does not empty when a desktop POP3 " +
				"client reads), login failures never tell whether an account exists (`[POP] Security: SECURE`), " +
				"and a bare LF in a message from an authenticated user is taken as a line end " +
				"(`[SMTP] Accept-Bare-LF: on`). An option written in the file or the environment always " +
				"wins over the profile. `docs/postern.conf.example` and quickstart use MODERN.",
			orig: "The original had one behaviour, OPENVMS."},
		{name: "Hostname", section: g, kind: kHost, dynamic: systemHostname,
			ptr: func(c *Config) any { return &c.Hostname }, check: required(func(c *Config) string { return c.Hostname }),
			defDoc: "the system's host name",
			doc: "The server's fully qualified host name. It appears in greetings, `Received:` headers and " +
				"generated Message-IDs, and it is the local host of the OpenVMS address rewriting.",
			orig: "The original used the node's TCP/IP host name; here it can be set."},
		{name: "Listen-Address", section: g, kind: kList, elem: kHost,
			ptr:    func(c *Config) any { return &c.ListenAddress },
			values: "list of IP addresses", defDoc: "all addresses (`127.0.0.1` in quickstart)",
			doc: "The IP addresses every listener binds. Empty means every address of the host, IPv4 and IPv6."},
		{name: "Data-Directory", section: g, kind: kPath, def: "/var/lib/postern",
			ptr: func(c *Config) any { return &c.DataDirectory }, check: required(func(c *Config) string { return c.DataDirectory }),
			doc: "Where the mail store, the message files, the sockets and the default TLS files live. " +
				"Relative paths are relative to the working directory. Log-Directory, Control-Socket, " +
				"`[LMTP] Socket` and the default certificate and key follow it unless set themselves.",
			orig: "Replaces the OpenVMS account directories (TCPIP$POP, TCPIP$IMAP_HOME) and mail files."},
		{name: "Store-URL", section: g, kind: kString,
			ptr: func(c *Config) any { return &c.StoreURL }, values: "`sqlite:` or `postgres://user@host:5432/db?sslmode=…`",
			defDoc: "empty: the embedded SQLite store in Data-Directory",
			doc: "Which store holds the accounts and the mail. Empty or `sqlite:` is the embedded store in " +
				"Data-Directory. A `postgres://` URL (PostgreSQL 15 or later) lets several Postern nodes serve " +
				"the same users from one database (docs/scale-out.md); the schema is created and migrated at " +
				"start (`postern migrate` runs that alone). The password comes from Store-Password-File, the " +
				"URL, or the PGPASSWORD environment variable, and is never logged."},
		{name: "Store-Password-File", section: g, kind: kPath,
			ptr: func(c *Config) any { return &c.StorePasswordFile }, defDoc: "none",
			doc: "A file whose first line is the password of the Store-URL's database user. It should be " +
				"readable by the server only."},
		{name: "Content-Store", section: g, kind: kEnum, enum: []string{"DATABASE", "FILES"}, def: "DATABASE",
			ptr: func(c *Config) any { return &c.ContentStore },
			doc: "Where a PostgreSQL store (Store-URL) keeps message bodies: DATABASE, in the database in " +
				"chunks, so that no node needs a shared disk; FILES, as files under Data-Directory, for a " +
				"single-node PostgreSQL site (every node must then see the same directory). Ignored with the " +
				"SQLite store, which keeps bodies as files."},
		{name: "Log-Directory", section: g, kind: kPath, derive: "log",
			ptr: func(c *Config) any { return &c.LogDirectory },
			doc: "Where the run log, the event log and trace files are written.",
			orig: "Replaces `SYS$SYSDEVICE:[TCPIP$POP]` (POP_RUN.LOG) and `TCPIP$IMAP_HOME` " +
				"(TCPIP$IMAP_RUN.LOG, event and trace logs)."},
		{name: "Run-As-User", section: g, kind: kString,
			ptr:    func(c *Config) any { return &c.RunAsUser },
			values: "user name", defDoc: "empty: keep the starting user",
			doc: "After binding its listeners (privileged ports first), the server switches to this " +
				"account. Empty keeps the account it was started as.",
			orig: "The analogue of the TCPIP$POP and TCPIP$IMAP accounts."},
		{name: "Substitute-Domain", section: g, kind: kHost,
			ptr: func(c *Config) any { return &c.SubstituteDomain }, defDoc: "none",
			doc: "Replaces the local host name in rewritten addresses, and counts as a local domain " +
				"(hp-system §3.2, rules R2, R3 and R6).",
			orig: "SMTP's `SET CONFIGURATION SMTP /SUBSTITUTE_DOMAIN`; here in the same file, no restart of another service."},
		{name: "Local-Aliases-File", section: g, kind: kPath,
			ptr: func(c *Config) any { return &c.LocalAliasesFile }, defDoc: "none",
			doc: "A file of further local domain names, one per line; lines starting with `!` are comments. " +
				"These domains are local for address rewriting and for accepting mail.",
			orig: "`TCPIP$SMTP_LOCAL_ALIASES.TXT`, same format; one file instead of the cluster-wide and node-specific pair."},
		{name: "Local-Domains", section: g, kind: kList, elem: kHost,
			ptr: func(c *Config) any { return &c.LocalDomains }, values: "list of domain names",
			doc: "Further local domains, written in the config file itself. Hostname, Substitute-Domain, " +
				"these and the Local-Aliases-File domains are the domains Postern accepts mail for."},
		{name: "Certificate-File", aliases: []string{"Cert-File"}, section: g, kind: kFileSpec,
			derive: "tls/server.crt", specExt: ".crt",
			ptr: func(c *Config) any { return &c.TLS.CertificateFile },
			doc: "The PEM certificate chain for every TLS listener. A full or partial file specification: " +
				"a directory alone (ending in `/`) takes the file name `server.crt`; a name alone is looked " +
				"for in `<Data-Directory>/tls/`; a file name without a dot gets `.crt`. The server reads it " +
				"(and Key-File) as root before switching to Run-As-User, and again on reload through a " +
				"helper that keeps root's read access to these files alone, so root-only files such as " +
				"Let's Encrypt's renew without a restart. In quickstart mode a self-signed certificate is created when neither file exists; " +
				"otherwise a missing file refuses the start (`postern check` says so first).",
			orig: "`TCPIP$POP_CERT_FILE` (default `SSL$CERTS:SERVER.CRT`), with the same partial-specification " +
				"rules; global here, and each section can override it."},
		{name: "Key-File", section: g, kind: kFileSpec, derive: "tls/server.key", specExt: ".key",
			ptr: func(c *Config) any { return &c.TLS.KeyFile },
			doc: "The PEM private key matching Certificate-File, with the same partial-specification rules " +
				"(`server.key`, `.key`). It must be readable by the server only.",
			orig: "`TCPIP$POP_KEY_FILE` (default `SSL$KEY:SERVER.KEY`)."},
		{name: "Key-Passphrase-File", section: g, kind: kPath,
			ptr: func(c *Config) any { return &c.TLS.KeyPassphraseFile }, defDoc: "none",
			doc:  "A file whose first line is the passphrase of an encrypted Key-File. Empty: the key is not encrypted.",
			orig: "The original could not use encrypted keys at all."},
		{name: "Log-Level", section: g, kind: kEnum, enum: logLevels, enumAlias: logLevelAliases,
			def: "INFORMATIONAL", ptr: func(c *Config) any { return &c.LogLevel },
			doc: "How much is logged: ERROR (errors only), WARN, INFORMATIONAL (plus connections, logins " +
				"and deliveries), THREAD (plus client/server interaction), DEBUG (full diagnostics, one line " +
				"per command), TRACE (protocol lines, credentials and message data redacted), TRACEAUTH " +
				"(credentials shown) and TRACEDATA (message data shown). INFO and WARNING are accepted. " +
				"`postern ctl loglevel` and XTND LOGLEVEL change it at run time.",
			orig: "`TCPIP$POP_LOG_LEVEL` had ERROR, INFORMATIONAL, THREAD and DEBUG; WARN and the TRACE levels are new."},
		{name: "Log-Format", section: g, kind: kEnum, enum: []string{"TEXT", "JSON"}, def: "TEXT",
			ptr: func(c *Config) any { return &c.LogFormat },
			doc: "How the run log (and standard error) is written: TEXT, one `key=value` line per record " +
				"(`time=… level=INFO msg=\"connection opened\" proto=imap …`), or JSON, one object per line " +
				"for a log collector (journald, Loki, jq). Each key appears once per line in both. The event " +
				"log keeps its own fixed format (docs/operations.md), which fail2ban reads.",
			orig: "The original's run logs were free text."},
		{name: "Personal-Name", section: g, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.PersonalName },
			doc: "Put the sender's personal name into rebuilt From headers (`\"Name\" <addr>`, RFC 2047 " +
				"encoded when needed). Test with your clients: some cannot reply to such addresses.",
			orig: "`TCPIP$POP_PERSONAL_NAME` and IMAP `Personal-Name`; here also a global default."},
		{name: "Decnet-Node", section: g, kind: kNodes,
			ptr:    func(c *Config) any { return &c.DecnetNodes },
			values: "list of `NODE=host.name`",
			doc: "The DECnet node map of the TRANSFORM rewrite: `ORDERS=orders.acme.com` turns " +
				"`ORDERS::J_SMITH` into `j_smith@orders.acme.com`. Node names are 1 to 6 letters and digits, " +
				"with at least one letter; repeat the field or list several entries.",
			orig: "The original translated node names through the DECnet node database and DNS."},
		{name: "Decnet-Node-Lookup", section: g, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.DecnetNodeLookup },
			doc: "When a node is not in the Decnet-Node map, look its name up in the DNS (as a host name " +
				"in the local domain) before falling back to the GENERIC form.",
			orig: "The original always asked DNS; here it is off by default so that rewriting never depends on the network."},
		{name: "Allow-Plaintext-Auth", section: g, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.AllowPlaintextAuth },
			doc: "Allow passwords over connections that are neither TLS nor loopback. Off: password " +
				"logins are refused until STARTTLS/STLS, except from 127.0.0.1 and ::1. Each section can override it.",
			orig: "The original accepted passwords in clear text; RFC 8314 and RFC 9051 say not to."},
		{name: "Shutdown-Timeout", section: g, kind: kDuration, def: "30s",
			ptr: func(c *Config) any { return &c.ShutdownTimeout },
			doc: "How long a graceful shutdown (`postern ctl shutdown`, SIGTERM, XTND SHUTDOWN) waits for " +
				"sessions to end before closing them.",
			orig: "XTND SHUTDOWN waited for every client, however long."},
		{name: "Metrics-Address", section: g, kind: kHostPort,
			ptr: func(c *Config) any { return &c.MetricsAddress }, defDoc: "off",
			values: "`host:port`", check: checkMetricsAddress,
			doc: "Serve Prometheus metrics over HTTP at `/metrics` on this address, e.g. `127.0.0.1:9100`, " +
				"and a health check at `/healthz` (200 when the store can take mail, 503 otherwise; " +
				"docs/operations.md, \"Monitoring\"). Empty: off."},
		{name: "Control-Socket", section: g, kind: kPath, derive: "control.sock",
			ptr: func(c *Config) any { return &c.ControlSocket },
			doc: "The Unix socket (mode 0600) through which `postern ctl` talks to the running server."},
		{name: "Max-Message-Size", section: g, kind: kSize, def: "50M", min: 1,
			ptr: func(c *Config) any { return &c.MaxMessageSize },
			doc: "The largest message accepted by submission, inbound SMTP, LMTP and `postern deliver`, " +
				"announced as SMTP SIZE. The default for `[IMAP] Append-Limit`."},
		{name: "Trusted-Networks", section: g, kind: kList, elem: kString,
			ptr: func(c *Config) any { return &c.TrustedNetworks }, check: checkTrustedNetworks,
			values: "list of IP addresses or CIDR networks", defDoc: "empty: nothing is trusted, not even loopback",
			doc: "Clients from these networks (a webmail or proxy host, `10.0.0.0/8`, `2001:db8::/48`) are " +
				"exempt from the failed-login throttle and from every section's Max-Connections-Per-IP, " +
				"Max-Preauth-Per-IP and connection rate; they still count towards Service-Limit. Loopback " +
				"is not exempt unless listed (`127.0.0.1, ::1`). See docs/operations.md."},
		{name: "Accounts", section: g, kind: kList, elem: kString, def: "local", check: checkAccounts,
			ptr: func(c *Config) any { return &c.Accounts }, values: "list of account sources: `local`, `system`, `ldap`",
			doc: "Where accounts come from, asked in this order for every login: the first source that knows " +
				"the name decides, so a wrong password there is a failure, never a try at the next source. " +
				"`local` is the accounts of Postern's own store (`postern user add`), named `NAME` or " +
				"`NAME@DOMAIN`; a login as `NAME@DOMAIN` at one of the site's domains finds `NAME@DOMAIN` " +
				"first, then `NAME`. `ldap` is a directory, configured in the [LDAP] section; its users " +
				"get a store account for their mail at their first login or delivery, and a name one source " +
				"owns is never taken over by another. `system` is the host's accounts: the passwd and shadow " +
				"files (System-Passwd-File, System-Shadow-File, System-Min-UID), read and verified by a " +
				"privileged helper. See docs/accounts.md."},
		{name: "System-Min-UID", section: g, kind: kInt, def: "1000", min: 0, max: 1 << 31,
			ptr: func(c *Config) any { return &c.SystemMinUID },
			doc: "The `system` source knows only the host accounts with a UID at least this: system " +
				"accounts (daemons, root) cannot log in to mail."},
		{name: "System-Passwd-File", section: g, kind: kPath, def: "/etc/passwd",
			ptr: func(c *Config) any { return &c.SystemPasswdFile },
			doc: "The passwd file of the `system` source: its names and UIDs. NSS (LDAP or SSSD behind " +
				"getpwnam) is not asked: it needs cgo."},
		{name: "System-Shadow-File", section: g, kind: kPath, def: "/etc/shadow",
			ptr: func(c *Config) any { return &c.SystemShadowFile },
			doc: "The shadow file of the `system` source: hashes (`$y$` yescrypt, `$6$`, `$5$`, " +
				"`$2b$`/`$2y$`, `$1$`), the lock mark (`!`, `*`: the account is disabled) and the " +
				"account expiration date (field 8). Read only by a helper that `postern serve` starts " +
				"before it drops root, which answers \"right password or not\" and never shows a hash; " +
				"re-read at each login past the auth cache. PAM is not used: it needs cgo.",
			orig: "The original checked every password against SYSUAF; this is the Unix analogue."},
		{name: "Admin-Impersonation", section: g, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.AdminImpersonation },
			doc: "On: an administrator account (`postern user set NAME --admin`) may log in as another account " +
				"with SASL PLAIN's authorization identity (`AUTHENTICATE PLAIN` / `AUTH PLAIN` with " +
				"`user\\0admin\\0admin-password`), as migration tools such as imapsync (`--authuser1`) and " +
				"Dovecot's master users do. The administrator's password is checked, then the other account's " +
				"flags (disabled, expired, no-mail) apply. Every such login is logged at warning level " +
				"(`admin impersonation`) and counted (`postern_auth_impersonations_total`). Off: PLAIN with an " +
				"authorization identity other than the login name is refused. See docs/accounts.md.",
			orig: "The original allowed no proxy login; off keeps that."},
		{name: "SCRAM-Channel-Binding", section: g, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.SCRAMChannelBinding },
			doc: "On: IMAP, POP3 and submission offer and accept SASL SCRAM-SHA-256-PLUS, SCRAM with " +
				"tls-exporter channel binding (RFC 5802 §6, RFC 9266), on TLS 1.3 connections, so that a login " +
				"relayed through another TLS session fails; a SCRAM-SHA-256 client that could bind but says " +
				"it believes the server cannot (a downgrade) is then refused on such connections. Off by " +
				"default because a client that picks the strongest mechanism offered without being able to " +
				"bind cannot log in: mutt 2.2 (Debian 12, linked with GNU SASL) chooses SCRAM-SHA-256-PLUS and " +
				"fails. Turn it on where every client either binds or does not use GNU SASL's choice. See " +
				"docs/imap.md, \"SCRAM-SHA-256-PLUS\".",
			orig: "The original had no SASL."},
		{name: "Auth-Cache-TTL", section: g, kind: kDuration, def: "10m", check: checkAuthCacheTTL,
			ptr:    func(c *Config) any { return &c.AuthCacheTTL },
			values: "duration: 0 (off) to 24h",
			doc: "How long a successfully verified password is remembered, so that logging in again with it " +
				"(a phone reconnecting, a webmail logging in for every page) costs a keyed hash instead of an " +
				"argon2id run. What is kept per account is an HMAC-SHA256, under a random key made at each start, " +
				"of the name, the stored password hash and the password — never the password. A password change " +
				"(`postern user passwd`, even while the server runs) makes the entry useless at once; " +
				"`--disabled`, `--no-mail` and expiry are read from the account on every login; failed logins are " +
				"never cached, and the failed-login throttle applies before the cache. At most 10,000 accounts " +
				"are remembered, least recently used forgotten first. 0 turns the cache off. The cache lives in " +
				"the `postern serve` supervisor, one for every worker process, so a new worker generation starts " +
				"with it warm (docs/supervisor.md). PLAIN, LOGIN, " +
				"USER/PASS and IMAP LOGIN use it; SCRAM and APOP verify no password and do not. See " +
				"docs/operations.md, \"Password hashing and the auth cache\"."},
		{name: "Auth-Hash-Concurrency", section: g, kind: kInt, def: "0", min: 0, max: 256,
			ptr: func(c *Config) any { return &c.AuthHashConcurrency },
			doc: "How many argon2id password verifications run at once in the whole server (they run in the " +
				"`postern serve` supervisor for every worker process); the others wait their turn. Each " +
				"holds the hash's memory (64 MiB by default). 0 derives it: one per two CPUs (GOMAXPROCS ÷ the " +
				"hash's 2 lanes, since each verification already uses two), at most as many as fit in a budget " +
				"of 512 MiB, or of half of Memory-Limit when that is set; at least 1."},
		{name: "Memory-Limit", section: g, kind: kSize, def: "0", check: checkMemoryLimit,
			ptr:    func(c *Config) any { return &c.MemoryLimit },
			values: "size: 0 (none), or at least `64M`",
			doc: "A soft limit on the memory of each server process, the supervisor (where passwords are " +
				"hashed) and each worker (Go's runtime memory limit, " +
				"`debug.SetMemoryLimit`): near it the garbage collector runs more often and returns free " +
				"memory to the system sooner. It is not a hard cap: the server never fails for it. 0 leaves " +
				"the runtime's default (the `GOMEMLIMIT` environment variable, or none). When set, it also " +
				"bounds the derived Auth-Hash-Concurrency to half of it. With a limit (this one or " +
				"`GOMEMLIMIT`), the server checks its memory every second: at 90% of the limit it refuses new " +
				"connections with the protocol's \"server busy\" reply until the memory is back below 80%, " +
				"and logs, counts and writes each change to the event log (`MEMORY`)."},
		{name: "Postmaster", section: g, kind: kList, elem: kString,
			ptr: func(c *Config) any { return &c.Postmaster }, values: "list of accounts or addresses",
			doc: "Who is sent a notice when the server starts again after it ended without a clean stop " +
				"(a crash, a kill -9, the kernel's OOM killer, a power loss): the time, the previous " +
				"process, its crash report when the Go runtime wrote one, and the last lines of the run " +
				"log. An account name or an address of a local domain is delivered to at once; another " +
				"address goes through the outbound queue (`[SMTP] Enable: on`). `[POP] Postmaster`, the " +
				"original's spelling, is accepted and adds to this list. See docs/operations.md, " +
				"\"Site hooks and the failure notice\".",
			orig: "`TCPIP$POP_POSTMASTER`, whose users the POP startup procedure mailed when the server had " +
				"exited with an error; global here, for every service."},
		{name: "Startup-Command", section: g, kind: kString,
			ptr: func(c *Config) any { return &c.StartupCommand }, values: "shell command", defDoc: "none",
			doc: "A command run by `/bin/sh -c` once the server serves (listeners bound, store open), as " +
				"Run-As-User, with POSTERN_EVENT=startup, POSTERN_CONFIG and POSTERN_PID in its " +
				"environment. Its output is logged line by line; it is killed after 60 seconds. A failure " +
				"is logged and written to the event log (HOOK), and the server goes on.",
			orig: "The site's `TCPIP$IMAP_SYSTARTUP.COM` / `TCPIP$POP_SYSTARTUP.COM`, which upgrades did not " +
				"overwrite; here it lives in the configuration, so it survives upgrades too."},
		{name: "Shutdown-Command", section: g, kind: kString,
			ptr: func(c *Config) any { return &c.ShutdownCommand }, values: "shell command", defDoc: "none",
			doc: "A command run like Startup-Command (POSTERN_EVENT=shutdown) when a graceful stop begins, " +
				"before the listeners close (SIGTERM, `postern ctl shutdown`); the stop waits for it, at " +
				"most 60 seconds. It is not run when the server is killed.",
			orig: "The site's `TCPIP$IMAP_SYSHUTDOWN.COM` / `TCPIP$POP_SYSHUTDOWN.COM`."},
		{name: "Quota-Storage", section: g, kind: kSize, def: "0",
			ptr:    func(c *Config) any { return &c.QuotaStorage },
			values: "size: 0 (no limit), or e.g. `500M`, `2G`",
			doc: "The default storage quota of an account: the sum of the sizes of its messages, in all its " +
				"mailboxes. An APPEND, COPY or delivery that would pass it is refused (IMAP `NO [OVERQUOTA]`, " +
				"LMTP/SMTP `552 5.2.2`, `postern deliver` exit 73). `postern user set NAME --quota-storage` " +
				"gives an account its own limit (or `none`). 0: no limit. Read at start; a change needs a restart " +
				"(`postern deliver` reads it at each run). See docs/imap.md, \"QUOTA\"."},
		{name: "Quota-Messages", section: g, kind: kInt, def: "0", min: 0, max: 1 << 40,
			ptr: func(c *Config) any { return &c.QuotaMessages },
			doc: "The default message-count quota of an account, in all its mailboxes, enforced as " +
				"Quota-Storage is; `postern user set NAME --quota-messages` gives an account its own. 0: no limit."},
	}
}

// checkMilter accepts the milter socket forms of Postfix: inet:HOST:PORT,
// inet6:HOST:PORT and unix:/PATH.
func checkMilter(c *Config) string {
	v := c.SMTP.Milter
	if v == "" {
		return ""
	}
	kind, rest, _ := strings.Cut(v, ":")
	switch kind {
	case "unix":
		if strings.HasPrefix(rest, "/") {
			return ""
		}
	case "inet", "inet6":
		if host, port, err := net.SplitHostPort(rest); err == nil && host != "" && port != "" {
			return ""
		}
	}
	return quote(v) + " is not inet:HOST:PORT or unix:/PATH"
}

func checkTrustedNetworks(c *Config) string {
	for _, n := range c.TrustedNetworks {
		if _, err := ParseNetwork(n); err != nil {
			return quote(n) + " is not an IP address or CIDR network (e.g. 192.0.2.0/24)"
		}
	}
	return ""
}

// ParseNetwork parses a Trusted-Networks entry: a CIDR network or a single
// address (a /32 or /128).
func ParseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// preauthOpt is a section's Preauth-Timeout (package admission).
func preauthOpt(sec string, p func(*Config) *time.Duration, what, note string) *option {
	return &option{name: "Preauth-Timeout", section: sec, kind: kDuration, def: "2m",
		ptr: func(c *Config) any { return p(c) },
		doc: "How long a " + what + " connection may stay without logging in, however slowly it sends: " +
			"a client trickling a byte at a time (slowloris) is disconnected when it runs out. " +
			"0: no limit." + note}
}

// connLimitOpts are the admission caps of a section (package admission;
// docs/operations.md "Connection admission").
func connLimitOpts(sec string, p func(*Config) *ConnLimits, perIP, preauth, service, note, serviceNote string) []*option {
	if note != "" {
		note = " " + note
	}
	return []*option{
		{name: "Max-Connections-Per-IP", section: sec, kind: kInt, def: perIP, min: 0, max: 1 << 20,
			ptr: func(c *Config) any { return &p(c).MaxConnectionsPerIP },
			doc: "The most simultaneous connections from one IPv4 address or IPv6 /64; further ones get " +
				"the protocol's temporary reply. Loopback counts like any address (see Trusted-Networks). " +
				"0: no cap." + note},
		{name: "Max-Preauth-Per-IP", section: sec, kind: kInt, def: preauth, min: 0, max: 1 << 20,
			ptr: func(c *Config) any { return &p(c).MaxPreauthPerIP },
			doc: "The most simultaneous connections from one address that have not logged in yet (for " +
				"inbound SMTP and LMTP: not yet sent MAIL), so that idle sockets cannot crowd out real " +
				"clients. 0: no cap."},
		{name: "Drain-Timeout", section: sec, kind: kDuration, def: "20m",
			ptr: func(c *Config) any { return &p(c).DrainTimeout },
			doc: "How long a worker process that stopped taking connections (a Max-Connections rollover, " +
				"`postern ctl upgrade`) lets this section's open sessions go on before it closes them with " +
				"the protocol's goodbye. Sessions that end sooner let it exit sooner. See docs/supervisor.md.",
			orig: "The original's draining IMAP process ended after at most 20 minutes; the time was fixed."},
		{name: "Service-Limit", section: sec, kind: kInt, def: service, min: 0, max: 1 << 20,
			ptr: func(c *Config) any { return &p(c).ServiceLimit },
			doc: "The most simultaneous connections of this section from all addresses together (trusted " +
				"ones included); further ones get the protocol's \"too many connections\" reply and are " +
				"counted and logged. It bounds the memory and descriptors a flood from many addresses can " +
				"take, which the per-address caps cannot. 0: no cap. " + serviceNote,
			orig: "The auxiliary server's service limit (`SET SERVICE … /LIMIT`), default 16 for IMAP, which " +
				"the manual said to raise to at least Max-Connections (25); the default here is one that " +
				"works as shipped, and `postern check` warns when it is below Max-Connections or " +
				"Max-Connections-Per-IP."},
	}
}

// Checks beyond what an option's kind implies.

func required(get func(*Config) string) func(*Config) string {
	return func(c *Config) string {
		if get(c) == "" {
			return "must not be empty"
		}
		return ""
	}
}

func checkMetricsAddress(c *Config) string {
	if c.MetricsAddress == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
		return quote(c.MetricsAddress) + " has no port; use host:port, e.g. 127.0.0.1:9100"
	}
	return ""
}

// accountSources are the values Accounts takes.
var accountSources = []string{"local", "system", "ldap"}

func checkAccounts(c *Config) string {
	seen := map[string]bool{}
	for _, s := range c.Accounts {
		s = strings.ToLower(s)
		switch {
		case !slices.Contains(accountSources, s):
			return quote(s) + " is not an account source; use local, system or ldap"
		case s == "ldap" && len(c.LDAP.ServerURLs) == 0:
			return "ldap needs an [LDAP] section with Server-URL and Base-DN"
		case seen[s]:
			return quote(s) + " is listed twice"
		}
		seen[s] = true
	}
	if len(c.Accounts) == 0 {
		return "the list is empty; use local"
	}
	return ""
}

func checkAuthCacheTTL(c *Config) string {
	if c.AuthCacheTTL > maxAuthCacheTTL {
		return formatDuration(c.AuthCacheTTL) + " is longer than the maximum of " + formatDuration(maxAuthCacheTTL) + "; use 0 to turn the cache off"
	}
	return ""
}

func checkMemoryLimit(c *Config) string {
	if n := c.MemoryLimit; n > 0 && n < minMemoryLimit {
		return itoa(int(n)) + " bytes is too small; use 0 (none) or at least 64M"
	}
	return ""
}

// checkExpire accepts NEVER (in any case) or a number of days.
func checkExpire(c *Config) string {
	v := strings.TrimSpace(c.POP.Expire)
	if strings.EqualFold(v, "NEVER") {
		return ""
	}
	if _, never := c.POP.ExpireDays(); never {
		return quote(v) + " is neither NEVER nor a number of days from 0 to " + itoa(maxExpireDays)
	}
	return ""
}

func checkSndbuf(c *Config) string {
	if n := c.POP.Sndbuf; n > 0 && n < 512 {
		return itoa(n) + " is too small; use 0 (the system's value) or at least 512"
	}
	return ""
}

// Options several sections share, built by helpers so that they read alike.

func enableOpt(sec string, p func(*Config) *bool, doc, orig string) *option {
	return &option{name: "Enable", section: sec, kind: kBool, def: "ON",
		ptr: func(c *Config) any { return p(c) }, doc: doc, orig: orig}
}

func portOpt(sec, name, def string, p func(*Config) *int, doc, orig string) *option {
	return &option{name: name, section: sec, kind: kPort, def: def,
		ptr: func(c *Config) any { return p(c) }, doc: doc, orig: orig}
}

func tlsOpts(sec string, p func(*Config) *TLSFiles, orig string) []*option {
	return []*option{
		{name: "Certificate-File", aliases: []string{"Cert-File"}, section: sec, kind: kFileSpec,
			inherit: "Certificate-File", specExt: ".crt",
			ptr: func(c *Config) any { return &p(c).CertificateFile },
			doc: "The certificate for this protocol's TLS listeners and STARTTLS. Missing parts of a " +
				"partial specification come from the global Certificate-File.",
			orig: orig},
		{name: "Key-File", section: sec, kind: kFileSpec, inherit: "Key-File", specExt: ".key",
			ptr: func(c *Config) any { return &p(c).KeyFile },
			doc: "The private key for this protocol. Missing parts of a partial specification come " +
				"from the global Key-File.",
			orig: orig},
		{name: "Key-Passphrase-File", section: sec, kind: kPath, inherit: "Key-Passphrase-File",
			ptr: func(c *Config) any { return &p(c).KeyPassphraseFile },
			doc: "The passphrase file of this protocol's Key-File."},
	}
}

func logLevelOpt(sec string, p func(*Config) *LogLevel, orig string) *option {
	return &option{name: "Log-Level", section: sec, kind: kEnum, enum: logLevels,
		enumAlias: logLevelAliases, inherit: "Log-Level",
		ptr: func(c *Config) any { return p(c) },
		doc: "The logging level of this protocol (see the global Log-Level).", orig: orig}
}

func traceSynchOpt(sec, trace string, p func(*Config) *int, orig string) *option {
	return &option{name: "Trace-Synch", section: sec, kind: kInt, def: "0", min: 0, max: 1 << 30,
		ptr: func(c *Config) any { return p(c) },
		doc: "Trace writes between full flushes to disk: 0 flushes only at exit, 1 after every write; " +
			"100 is the recommended balance. Applies only when " + trace + " is on.",
		orig: orig}
}

func personalNameOpt(sec string, p func(*Config) *bool, orig string) *option {
	return &option{name: "Personal-Name", section: sec, kind: kBool, inherit: "Personal-Name",
		ptr:  func(c *Config) any { return p(c) },
		doc:  "Put the sender's personal name into rebuilt headers (see the global Personal-Name).",
		orig: orig}
}

func plaintextOpt(sec string, p func(*Config) *bool, what string) *option {
	return &option{name: "Allow-Plaintext-Auth", section: sec, kind: kBool,
		inherit: "Allow-Plaintext-Auth",
		ptr:     func(c *Config) any { return p(c) },
		doc:     "Allow " + what + " on connections that are neither TLS nor loopback (see the global option).",
		orig:    "The original accepted passwords in clear text."}
}

func mail11Opts(sec string, ignore, sendID func(*Config) *bool, def, idHeaders, orig1, orig2 string) []*option {
	return []*option{
		{name: "Ignore-Mail11-Headers", section: sec, kind: kBool, def: def,
			ptr: func(c *Config) any { return ignore(c) },
			doc: "For mail that arrived through SMTP with an SMTP From, show the real RFC 5322 headers " +
				"instead of the headers rebuilt from the OpenVMS Mail fields (rule R7). Mail from " +
				"DECnet or local senders is always rebuilt.",
			orig: orig1},
		{name: "Send-ID-Headers", section: sec, kind: kBool, def: "OFF",
			ptr:  func(c *Config) any { return sendID(c) },
			doc:  "Add " + idHeaders + " headers (server host and version, message UID) to each message.",
			orig: orig2},
	}
}

func rewriteOpts(sec string, simple, quoted func(*Config) *Rewrite, orig1, orig2 string) []*option {
	return []*option{
		{name: "Decnet-Rewrite", section: sec, kind: kEnum, enum: rewrites, def: "TRANSFORM",
			ptr: func(c *Config) any { return simple(c) },
			doc: "How a simple DECnet address `node::user` is rebuilt (rule R2): GENERIC quotes it at the " +
				"local host, NONE leaves it unchanged (not replyable), TRANSFORM translates the node " +
				"through Decnet-Node.",
			orig: orig1},
		{name: "Quoted-Decnet-Rewrite", section: sec, kind: kEnum, enum: rewrites, def: "TRANSFORM",
			ptr: func(c *Config) any { return quoted(c) },
			doc: "How a quoted DECnet address `node::\"user@host\"` is rebuilt (rule R4): GENERIC quotes " +
				"it at the local host, NONE leaves it unchanged, TRANSFORM uses the quoted address.",
			orig: orig2},
	}
}

func imapOptions() []*option {
	s := SectionIMAP
	opts := []*option{
		enableOpt(s, func(c *Config) *bool { return &c.IMAP.Enable },
			"Turn the IMAP server on or off.",
			"The original was enabled with TCPIP$CONFIG."),
		portOpt(s, "Server-Port", "143", func(c *Config) *int { return &c.IMAP.ServerPort },
			"IMAP with STARTTLS. 0 turns this listener off.", "Same name and default; STARTTLS is new."),
		portOpt(s, "Secure-Port", "993", func(c *Config) *int { return &c.IMAP.SecurePort },
			"IMAP over implicit TLS (RFC 8314). 0 turns this listener off.", ""),
	}
	opts = append(opts, mail11Opts(s,
		func(c *Config) *bool { return &c.IMAP.IgnoreMail11Headers },
		func(c *Config) *bool { return &c.IMAP.SendIDHeaders },
		"ON", "`X-IMAP4-Server:` and `X-IMAP4-ID:`",
		"Same name and default (True).", "Same name and default (False).")...)
	opts = append(opts, rewriteOpts(s,
		func(c *Config) *Rewrite { return &c.IMAP.DecnetRewrite },
		func(c *Config) *Rewrite { return &c.IMAP.QuotedDecnetRewrite },
		"Same name and default.", "Same name and default.")...)
	opts = append(opts,
		personalNameOpt(s, func(c *Config) *bool { return &c.IMAP.PersonalName },
			"Same name; inherits the global Personal-Name here."),
		&option{name: "Gateway-Node", section: s, kind: kHost,
			ptr: func(c *Config) any { return &c.IMAP.GatewayNode }, defDoc: "none",
			doc: "The Internet name of the host that routes SMTP mail into DECnet. It replaces the local " +
				"node name when a rewritten address needs such a route (rules R2, R3, R6).",
			orig: "Same name and meaning."},
		&option{name: "Max-Connections", section: s, kind: kInt, def: "500", min: 0, max: 1 << 20,
			ptr: func(c *Config) any { return &c.IMAP.MaxConnections },
			doc: "How many live IMAP connections one worker process takes before a fresh worker takes the " +
				"new ones; the old worker accepts no more and ends with its last session, or after " +
				"Drain-Timeout. The listening sockets stay open throughout: no client is refused or kept " +
				"waiting. 0: no rollover (one worker serves everything). The default bounds what one " +
				"process holds (memory fragmentation, a leak, a crash's reach) at a size a modern host " +
				"does not notice; it is a recycling threshold, not a limit (Service-Limit is the limit). " +
				"`postern check` warns when a Service-Limit is below it, as the original's manual asked. " +
				"See docs/supervisor.md.",
			orig: "Same name and meaning; default 25, sized for OpenVMS process quotas. The original paused " +
				"service up to 5 seconds during the hand-over; Postern does not pause."},
		&option{name: "Message-Cap", section: s, kind: kInt, def: "0", min: 0, max: 1<<31 - 1,
			ptr: func(c *Config) any { return &c.IMAP.MessageCap },
			doc: "List only the first n messages of a mailbox; the user sees more after deleting or " +
				"moving some and expunging. 0: no cap.",
			orig: "Same name and default."},
		&option{name: "Vms-Folder-Names", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.IMAP.VMSFolderNames },
			doc: "Show mailboxes as the OpenVMS IMAP server showed OpenVMS Mail, for folders imported " +
				"from VMS: NEWMAIL is INBOX, the mail file is `Mail` (the MAIL folder when selected) and " +
				"every other mailbox is one of its folders, named by the folder codec: `HELLO` is " +
				"`Mail/Hello`, `Hello` is `Mail/H_e_l_l_o`, `HELLO_ALL` is `Mail/Hello__All`, `HELLO$ALL` " +
				"is `Mail/Hello$$All`. Postern's own Sent, Drafts, Trash and Junk keep their names. Names " +
				"the client sends are decoded the same way, one hierarchy level at a time.",
			orig: "The original always named folders this way; Postern does so only when asked, since " +
				"its own mailboxes are not VMS folders."},
		&option{name: "Magic-File", section: s, kind: kPath,
			ptr: func(c *Config) any { return &c.IMAP.MagicFile }, defDoc: "none",
			doc: "Further magic records, tried before the built-in ones, that give a foreign (binary) " +
				"message its MIME type from its first octets: one record a line, `offset type test " +
				"type/subtype` (see openvms.md, \"Foreign messages\"). A bad line refuses the start; " +
				"`postern check` reports each one as FILE:LINE.",
			orig: "`TCPIP$IMAP_HOME:TCPIP$IMAP_MAGIC.TXT`, which sites extended the same way; Postern's " +
				"record format follows Unix magic(5), since the original's was not published in full."},
		&option{name: "Server-Trace", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.IMAP.ServerTrace },
			doc: "Write a trace file of all IMAP traffic except passwords to Log-Directory. Heavy: turn " +
				"it on for short periods only.",
			orig: "Same name and default; the original needed a restart to change it, `postern ctl` does not."},
		traceSynchOpt(s, "Server-Trace", func(c *Config) *int { return &c.IMAP.TraceSynch },
			"Same name and default."),
		&option{name: "Idle-Timeout", section: s, kind: kDuration, def: "30m", minNonzero: minIMAPIdle,
			ptr: func(c *Config) any { return &c.IMAP.IdleTimeout },
			doc: "Log out a client that sends nothing for this long (IDLE included). RFC 9051 §5.4 " +
				"requires at least 30 minutes; lower values are refused. 0: never.",
			orig: "The original had no autologout."},
	)
	opts = append(opts, tlsOpts(s, func(c *Config) *TLSFiles { return &c.IMAP.TLS },
		"The original IMAP server had no TLS.")...)
	opts = append(opts,
		logLevelOpt(s, func(c *Config) *LogLevel { return &c.IMAP.LogLevel }, "The original IMAP server had no log level."),
		&option{name: "Append-Limit", section: s, kind: kSize, inherit: "Max-Message-Size", min: 1,
			ptr: func(c *Config) any { return &c.IMAP.AppendLimit }, defDoc: "Max-Message-Size",
			doc: "The largest message APPEND accepts, announced as APPENDLIMIT (RFC 7889)."},
		plaintextOpt(s, func(c *Config) *bool { return &c.IMAP.AllowPlaintextAuth },
			"LOGIN and AUTHENTICATE PLAIN"),
	)
	opts = append(opts, &option{name: "Max-Auth-Attempts", section: s, kind: kInt, def: "3", min: 1, max: 1000,
		ptr: func(c *Config) any { return &c.IMAP.MaxAuthAttempts },
		doc: "Failed logins allowed per connection (throttled attempts count); after the last one the " +
			"server answers the NO, then `* BYE` and closes the connection, as `[POP] Max-Auth-Attempts` does.",
		orig: "The original IMAP server did not close the connection after failed logins."})
	opts = append(opts, preauthOpt(s, func(c *Config) *time.Duration { return &c.IMAP.PreauthTimeout }, "IMAP",
		" Each command before login must also come within a minute."))
	opts = append(opts, connLimitOpts(s, func(c *Config) *ConnLimits { return &c.IMAP.ConnLimits }, "50", "10", "2000",
		"50 lets an office behind one NAT address (a client keeps 2 to 5 connections each) work.",
		"2000: IMAP clients stay connected (2 to 5 connections per client, IDLE), so this is 400 to 1000 "+
			"users at once; a session costs about 100 KiB (170 KiB with COMPRESS), so 2000 stay well under 1 GiB.")...)
	return opts
}

func popOptions() []*option {
	s := SectionPOP
	opts := []*option{
		enableOpt(s, func(c *Config) *bool { return &c.POP.Enable },
			"Turn the POP3 server on or off.", "The original was enabled with TCPIP$CONFIG."),
		portOpt(s, "Server-Port", "110", func(c *Config) *int { return &c.POP.ServerPort },
			"POP3 with STLS (RFC 2595). 0 turns this listener off.",
			"The original's port 110 was set in the service database; STLS is new."),
		portOpt(s, "Secure-Port", "995", func(c *Config) *int { return &c.POP.SecurePort },
			"POP3 over implicit TLS. 0 turns this listener off.",
			"Secure POP (V5.6) used port 995, set in the service database."),
		{name: "Security", section: s, kind: kEnum, enum: []string{"FRIENDLY", "SECURE"}, def: "FRIENDLY",
			modern: "SECURE", ptr: func(c *Config) any { return &c.POP.Security },
			doc: "FRIENDLY reports each login failure specifically (`-ERR password supplied for \"jones\" " +
				"is incorrect`). SECURE answers every failure alike and accepts an unknown USER with +OK, " +
				"so a client cannot tell which part was wrong.",
			orig: "`TCPIP$POP_SECURITY`, same values and default (SECURE with `Defaults: modern`)."},
		{name: "Trace", section: s, kind: kBool, def: "OFF",
			ptr:  func(c *Config) any { return &c.POP.Trace },
			doc:  "Write a trace file of all POP3 traffic except passwords to Log-Directory.",
			orig: "`TCPIP$POP_TRACE` (defined = ON); passwords are now left out."},
		traceSynchOpt(s, "Trace", func(c *Config) *int { return &c.POP.TraceSynch },
			"The IMAP option, new for POP."),
		logLevelOpt(s, func(c *Config) *LogLevel { return &c.POP.LogLevel },
			"`TCPIP$POP_LOG_LEVEL`, default INFORMATIONAL (through the global Log-Level)."),
		{name: "Postmaster", section: s, kind: kList, elem: kString, inherit: "Postmaster",
			ptr: func(c *Config) any { return &c.POP.Postmaster }, values: "list of accounts or addresses",
			doc:  "The original's spelling of the global Postmaster; those listed here are sent its notice too.",
			orig: "`TCPIP$POP_POSTMASTER`; the option is global now and covers every service."},
		{name: "Message-Maximum", section: s, kind: kInt, def: "0", min: 0, max: 65535,
			ptr:  func(c *Config) any { return &c.POP.MessageMaximum },
			doc:  "The largest number of messages one session offers for download. 0: no maximum.",
			orig: "`TCPIP$POP_MESSAGE_MAXIMUM`, same range and default."},
		{name: "Link-Idle-Timeout", section: s, kind: kDuration, def: "10m", minNonzero: minPOPIdle,
			ptr: func(c *Config) any { return &c.POP.LinkIdleTimeout },
			doc: "Close a connection that sends nothing for this long. RFC 1939 §3 requires at least " +
				"10 minutes; lower values are refused. 0: never.",
			orig: "`TCPIP$POP_LINK_IDLE_TIMEOUT`. The original default was none (`0 00:00:00.00`); the " +
				"default here is the RFC minimum, so idle clients cannot hold connections forever. Set 0 for the original behaviour."},
		personalNameOpt(s, func(c *Config) *bool { return &c.POP.PersonalName },
			"`TCPIP$POP_PERSONAL_NAME`; inherits the global Personal-Name here."),
		{name: "Leave-In-Newmail", section: s, kind: kBool, def: "OFF", modern: "ON",
			modernUnless: func(c *Config) bool { return c.POP.UseMailFolder },
			ptr:          func(c *Config) any { return &c.POP.LeaveInNewmail },
			doc: "Keep read but undeleted mail in the inbox (NEWMAIL). Off: mail read through POP3 moves " +
				"to the MAIL folder at the end of the session. Cannot be combined with Use-Mail-Folder " +
				"(with `Defaults: modern` and Use-Mail-Folder on, the default is OFF).",
			orig: "`TCPIP$POP_LEAVE_IN_NEWMAIL`, same default (ON with `Defaults: modern`)."},
		{name: "Use-Mail-Folder", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.POP.UseMailFolder },
			doc: "Move all new mail into the MAIL folder and serve MAIL instead of the inbox. Cannot be " +
				"combined with Leave-In-Newmail, whose folder it no longer serves.",
			orig: "`TCPIP$POP_USE_MAIL_FOLDER`, same default."},
		{name: "Fast-Scan", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.POP.FastScan },
			doc: "Accepted for compatibility and otherwise ignored: LIST and STAT always report exact sizes, " +
				"because Postern stores each message's exact size at delivery, so exact is as fast as an estimate.",
			orig: "`TCPIP$POP_FAST_SCAN` estimated sizes from the line count to save a scan of the mail file; " +
				"Postern has no such scan to save, so sizes are always exact (RFC 1939 requires exact sizes anyway)."},
		{name: "Maximum-Threads", section: s, kind: kInt, def: "15", min: 0, max: 1 << 20,
			ptr: func(c *Config) any { return &c.POP.MaximumThreads },
			doc: "The most POP3 sessions served at once; further clients get `-ERR [SYS/TEMP]` and are " +
				"counted as Too Many Threads in XTND STATS. 0: no cap.",
			orig: "`TCPIP$POP_MAXIMUM_THREADS`, same default; 0 (no cap) is new."},
		{name: "Expire", section: s, kind: kString, def: "NEVER", check: checkExpire,
			values: "`NEVER`, or a number of days (0–36500)",
			ptr:    func(c *Config) any { return &c.POP.Expire },
			doc: "How long a client may leave retrieved mail on the server, announced in CAPA as EXPIRE " +
				"(RFC 2449 §6.7), and enforced. NEVER: mail a client leaves on the server stays. 0: clients " +
				"may not leave mail on the server; every message retrieved with RETR is deleted when the " +
				"session ends with QUIT, as if DELE'd. N days: a message of the POP3 maildrop first " +
				"retrieved with RETR (in a session that ended with QUIT) more than N days ago is deleted " +
				"at the next POP3 login of its account. Mail never retrieved over POP3 and foreign " +
				"messages are never deleted; see docs/pop3.md.",
			orig: "New; the original had no CAPA."},
		{name: "Login-Delay", section: s, kind: kDuration, def: "0",
			ptr: func(c *Config) any { return &c.POP.LoginDelay },
			doc: "The least time between two logins of one account, announced in CAPA as LOGIN-DELAY " +
				"in seconds (RFC 2449 §6.8). A login sooner than that, with the right password, gets " +
				"`-ERR [LOGIN-DELAY]`. The times are kept in memory: a restart forgets them. 0: none.",
			orig: "New; the original had no CAPA."},
	}
	opts = append(opts, mail11Opts(s,
		func(c *Config) *bool { return &c.POP.IgnoreMail11Headers },
		func(c *Config) *bool { return &c.POP.SendIDHeaders },
		"ON", "`X-POP3-Server:` and `X-POP3-ID:`",
		"`TCPIP$POP_IGNORE_MAIL11_HEADERS`. The original default was off; here it is ON, as for IMAP, "+
			"because Postern's SMTP always keeps the real headers at the top (TOP_HEADERS). Set OFF for the original behaviour.",
		"`TCPIP$POP_SEND_ID_HEADERS`, same default.")...)
	opts = append(opts, rewriteOpts(s,
		func(c *Config) *Rewrite { return &c.POP.DecnetRewrite },
		func(c *Config) *Rewrite { return &c.POP.QuotedDecnetRewrite },
		"`TCPIP$POP_DECNET_REWRITE`, same default.", "`TCPIP$POP_QUOTED_DECNET_REWRITE`, same default.")...)
	opts = append(opts,
		&option{name: "Sndbuf", section: s, kind: kInt, def: "0", min: 0, max: 1 << 30,
			ptr: func(c *Config) any { return &c.POP.Sndbuf }, values: "0, or 512 and up", check: checkSndbuf,
			doc:  "The TCP send buffer (SO_SNDBUF) of POP3 connections, in bytes. 0: the system's value.",
			orig: "`TCPIP$POP_SNDBUF`, same rule (at least 512)."},
		&option{name: "Disuserpass", section: s, kind: kBool, def: "OFF",
			ptr:  func(c *Config) any { return &c.POP.Disuserpass },
			doc:  "Refuse USER/PASS (and AUTH PLAIN and LOGIN), so that only APOP and SCRAM log in.",
			orig: "`TCPIP$POP_DISUSERPASS`, same default."},
		&option{name: "Purge-Reclaim", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.POP.PurgeReclaim },
			doc: "After a session deletes messages, remove them from the store at once and give their " +
				"space back, instead of leaving that to the periodic cleanup.",
			orig: "`TCPIP$POP_PURGE_RECLAIM` (purge the wastebasket and reclaim the mail file)."},
	)
	opts = append(opts, tlsOpts(s, func(c *Config) *TLSFiles { return &c.POP.TLS },
		"`TCPIP$POP_CERT_FILE`/`TCPIP$POP_KEY_FILE` (Secure POP); the passphrase file is new.")...)
	opts = append(opts,
		&option{name: "Max-Auth-Attempts", section: s, kind: kInt, def: "2", min: 1, max: 1000,
			ptr:  func(c *Config) any { return &c.POP.MaxAuthAttempts },
			doc:  "Failed logins allowed per connection; after the last one the connection is closed.",
			orig: "The original allowed exactly two, not configurable."},
		&option{name: "Log-Reject", section: s, kind: kBool, def: "ON",
			ptr:  func(c *Config) any { return &c.POP.LogReject },
			doc:  "Log each USER, PASS, APOP or AUTH rejected for authorization reasons to the event log.",
			orig: "The service log option REJECT (`SET SERVICE POP /LOG_OPTIONS`), which sent OPCOM messages."},
		plaintextOpt(s, func(c *Config) *bool { return &c.POP.AllowPlaintextAuth },
			"USER/PASS and AUTH PLAIN"),
	)
	opts = append(opts, preauthOpt(s, func(c *Config) *time.Duration { return &c.POP.PreauthTimeout }, "POP3",
		" Each command before login must also come within a minute. Shorter than RFC 1939 §3's ten-minute "+
			"autologout, which applies after login (Link-Idle-Timeout)."))
	opts = append(opts, connLimitOpts(s, func(c *Config) *ConnLimits { return &c.POP.ConnLimits }, "20", "10", "500",
		"POP3 clients hold one short connection each.",
		"500: POP3 sessions are short (connect, download, quit), so even a large site has few at once; "+
			"Maximum-Threads still caps the logged-in ones.")...)
	return opts
}

func smtpOptions() []*option {
	s := SectionSMTP
	opts := []*option{
		enableOpt(s, func(c *Config) *bool { return &c.SMTP.Enable },
			"Turn submission, inbound SMTP and the outbound queue on or off.", ""),
		portOpt(s, "Submission-Port", "587", func(c *Config) *int { return &c.SMTP.SubmissionPort },
			"Message submission with STARTTLS (RFC 6409). 0 turns this listener off.", ""),
		portOpt(s, "Submissions-Port", "465", func(c *Config) *int { return &c.SMTP.SubmissionsPort },
			"Message submission over implicit TLS (RFC 8314). 0 turns this listener off.", ""),
		portOpt(s, "Server-Port", "0", func(c *Config) *int { return &c.SMTP.ServerPort },
			"Inbound SMTP from the world, normally 25. 0 (the default) turns it off: mail then arrives "+
				"through LMTP or `postern deliver` from another MTA.", ""),
		{name: "Save-Sent", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.SMTP.SaveSent },
			doc: "Store a copy of every submitted message in the sender's `Sent` mailbox, for clients " +
				"that do not save it themselves."},
		{name: "Dmarc-Reject", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.SMTP.DMARCReject },
			doc: "On inbound SMTP (`Server-Port`), refuse at the end of DATA, with 550 5.7.1, a message " +
				"that fails DMARC (RFC 7489) when its From domain publishes `p=reject`. Off: such mail is " +
				"delivered with `dmarc=fail` in its Authentication-Results field, for filters to act on. " +
				"Either way a DMARC check stopped by a DNS failure is answered 451 4.4.3 unless the " +
				"domain's policy is known to be `p=none` (docs/mail-auth.md)."},
		{name: "Milter", section: s, kind: kString, check: checkMilter, defDoc: "none",
			ptr:    func(c *Config) any { return &c.SMTP.Milter },
			values: "`inet:HOST:PORT` or `unix:/PATH`",
			doc: "A mail filter speaking the Sendmail/Postfix milter protocol (rspamd's proxy worker, " +
				"spamass-milter…) asked about every message of inbound SMTP (`Server-Port`) at the end " +
				"of DATA: its accept, reject, tempfail or own reply is honoured, and the header fields it " +
				"adds or changes are applied (docs/mail-auth.md). Submission and LMTP are not filtered."},
		{name: "Milter-Default-Action", section: s, kind: kEnum, enum: []string{"TEMPFAIL", "ACCEPT"}, def: "TEMPFAIL",
			ptr: func(c *Config) any { return &c.SMTP.MilterDefaultAction },
			doc: "What happens to a message when the Milter cannot be reached, times out or breaks the " +
				"protocol: TEMPFAIL answers 451 4.3.0 so the sender retries; ACCEPT delivers it unfiltered. " +
				"Either way the failure is logged (warning) and counted."},
		{name: "Relay-Host", section: s, kind: kHostPort,
			ptr: func(c *Config) any { return &c.SMTP.RelayHost }, defDoc: "none: deliver to MX hosts",
			values: "`host[:port]`",
			doc: "Send all outbound mail through this smarthost. The port defaults to 465 with Relay-TLS " +
				"IMPLICIT, otherwise 587."},
		{name: "Relay-Username", section: s, kind: kString,
			ptr: func(c *Config) any { return &c.SMTP.RelayUsername }, defDoc: "none",
			doc: "Authenticate to Relay-Host as this user (AUTH PLAIN). Needs Relay-Host and Relay-Password-File."},
		{name: "Relay-Password-File", section: s, kind: kPath,
			ptr: func(c *Config) any { return &c.SMTP.RelayPasswordFile }, defDoc: "none",
			doc: "A file whose first line is the password for Relay-Username."},
		{name: "Relay-TLS", section: s, kind: kEnum, enum: []string{"STARTTLS", "IMPLICIT", "NONE"},
			def: "STARTTLS", ptr: func(c *Config) any { return &c.SMTP.RelayTLS },
			doc: "How the connection to Relay-Host is secured: STARTTLS (required, certificate verified), " +
				"IMPLICIT (TLS from the start) or NONE (clear text; not allowed with Relay-Username)."},
		{name: "Queue-Lifetime", section: s, kind: kDuration, def: "5d", min: 1,
			ptr: func(c *Config) any { return &c.SMTP.QueueLifetime },
			doc: "How long the queue retries a message before returning it to the sender as undeliverable."},
		{name: "Queue-Lease", section: s, kind: kDuration, def: "1m", min: 1,
			ptr: func(c *Config) any { return &c.SMTP.QueueLease },
			doc: "How long a node holds a queued message it is delivering without renewing its lease " +
				"(it renews every third of this while the attempt runs). A node that dies mid-delivery " +
				"gives the message back to the other nodes, or to itself when it restarts, after this long."},
		{name: "Delay-Warning", section: s, kind: kDuration, def: "4h",
			ptr: func(c *Config) any { return &c.SMTP.DelayWarning },
			doc: "Tell the sender once when a message has waited this long. Must be shorter than " +
				"Queue-Lifetime. 0: never."},
		{name: "Resolver", section: s, kind: kHostPort,
			ptr: func(c *Config) any { return &c.SMTP.Resolver }, defDoc: "the system resolver",
			values: "`host[:port]`",
			doc: "The DNS server for every lookup: MX and addresses of outbound mail, and the SPF, " +
				"DKIM and DMARC checks of inbound mail; the port defaults to 53."},
		{name: "Aliases-File", section: s, kind: kPath,
			ptr: func(c *Config) any { return &c.SMTP.AliasesFile }, defDoc: "none",
			doc: "A file of `alias: address, address` lines mapping local addresses to accounts or " +
				"to other addresses."},
		{name: "Max-Recipients", section: s, kind: kInt, def: "100", min: 1, max: 1 << 20,
			ptr: func(c *Config) any { return &c.SMTP.MaxRecipients },
			doc: "The most recipients one message may have (RFC 5321 §4.5.3.1.8 asks for at least 100)."},
	}
	opts = append(opts, tlsOpts(s, func(c *Config) *TLSFiles { return &c.SMTP.TLS }, "")...)
	opts = append(opts,
		logLevelOpt(s, func(c *Config) *LogLevel { return &c.SMTP.LogLevel }, ""),
		&option{name: "Trace", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.SMTP.Trace },
			doc: "Write a trace file of SMTP and submission traffic, `postern-smtp-NODE-mmddhhmmss-trace.log` " +
				"in Log-Directory: timestamped client and server lines, AUTH exchanges hidden, message data " +
				"summarised as a byte count. Sessions under TLS are traced in clear, above the encryption."},
		traceSynchOpt(s, "Trace", func(c *Config) *int { return &c.SMTP.TraceSynch }, ""),
		plaintextOpt(s, func(c *Config) *bool { return &c.SMTP.AllowPlaintextAuth }, "AUTH"),
		&option{name: "Accept-Bare-LF", section: s, kind: kBool, def: "OFF", modern: "ON",
			ptr: func(c *Config) any { return &c.SMTP.AcceptBareLF },
			doc: "On submission (587, 465), where every client has logged in, take a bare LF in the " +
				"message as a line end and store it as CRLF (RFC 6409 §8 lets a submission server fix " +
				"up messages), so `curl -T` of an ordinary Unix file works. Off: such a message is " +
				"refused with 550 5.6.0. Inbound SMTP and LMTP always refuse bare CR and LF " +
				"(RFC 5321 §2.3.8), which is what stops SMTP smuggling."},
	)
	opts = append(opts, preauthOpt(s, func(c *Config) *time.Duration { return &c.SMTP.PreauthTimeout }, "submission",
		" Inbound SMTP (and LMTP) instead has 10 minutes to send MAIL, two of RFC 5321 §4.5.3.2's five-minute commands."))
	opts = append(opts, connLimitOpts(s, func(c *Config) *ConnLimits { return &c.SMTP.ConnLimits }, "20", "10", "500",
		"Submission and inbound SMTP are counted apart; inbound SMTP also allows at most 60 new connections per address a minute.",
		"500 each for submission and inbound SMTP, counted apart: sessions last seconds, and a sending "+
			"MTA refused with 421 retries later.")...)
	return opts
}

func manageSieveOptions() []*option {
	s := SectionManageSieve
	enable := enableOpt(s, func(c *Config) *bool { return &c.ManageSieve.Enable },
		"Turn the ManageSieve server (RFC 5804) on: users upload and activate their Sieve scripts "+
			"with a ManageSieve client (docs/sieve.md). Off by default: a new listener is opt-in.", "")
	enable.def = "OFF"
	return append([]*option{
		enable,
		portOpt(s, "Server-Port", "4190", func(c *Config) *int { return &c.ManageSieve.ServerPort },
			"The ManageSieve port (RFC 5804 §1.8: 4190), with STARTTLS.", ""),
		preauthOpt(s, func(c *Config) *time.Duration { return &c.ManageSieve.PreauthTimeout }, "ManageSieve", ""),
		{name: "Max-Script-Size", section: s, kind: kSize, def: "64K", min: 1, max: 1 << 20,
			ptr: func(c *Config) any { return &c.ManageSieve.MaxScriptSize },
			doc: "The largest Sieve script a user may upload; PUTSCRIPT and HAVESPACE answer " +
				"`NO (QUOTA/MAXSIZE)` beyond it. At most 1M, the interpreter's own limit."},
		{name: "Max-Scripts", section: s, kind: kInt, def: "32", min: 1, max: 10000,
			ptr: func(c *Config) any { return &c.ManageSieve.MaxScripts },
			doc: "The most Sieve scripts one account may keep; PUTSCRIPT of a new name and HAVESPACE " +
				"answer `NO (QUOTA/MAXSCRIPTS)` beyond it."},
	}, connLimitOpts(s, func(c *Config) *ConnLimits { return &c.ManageSieve.ConnLimits }, "10", "5", "100", "",
		"100: script management is rare and short.")...)
}

func lmtpOptions() []*option {
	s := SectionLMTP
	return append([]*option{
		enableOpt(s, func(c *Config) *bool { return &c.LMTP.Enable },
			"Turn the LMTP server (RFC 2033) on or off.", ""),
		{name: "Socket", section: s, kind: kPath, derive: "lmtp.sock", offOK: true,
			ptr:    func(c *Config) any { return &c.LMTP.Socket },
			values: "path, or OFF",
			doc: "The Unix socket an MTA delivers to (Postfix `mailbox_transport = lmtp:unix:…`). " +
				"An empty value or OFF turns it off."},
		portOpt(s, "Server-Port", "0", func(c *Config) *int { return &c.LMTP.ServerPort },
			"LMTP over TCP. 0 (the default) turns it off. LMTP has no authentication: bind it to a "+
				"trusted Listen-Address.", ""),
		logLevelOpt(s, func(c *Config) *LogLevel { return &c.LMTP.LogLevel }, ""),
		{name: "Trace", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.LMTP.Trace },
			doc: "Write a trace file of LMTP traffic, `postern-lmtp-NODE-mmddhhmmss-trace.log` in " +
				"Log-Directory: timestamped client and server lines, message data summarised as a byte count."},
		traceSynchOpt(s, "Trace", func(c *Config) *int { return &c.LMTP.TraceSynch }, ""),
	}, connLimitOpts(s, func(c *Config) *ConnLimits { return &c.LMTP.ConnLimits }, "0", "0", "100",
		"For LMTP over TCP only (the Unix socket has no address); off by default, since the MTA is one trusted address.",
		"100, the TCP port and the Unix socket together: an MTA opens a few parallel deliveries (Postfix 20 "+
			"by default), and one refused with 421 retries.")...)
}

func oauthOptions() []*option {
	s := SectionOAuth
	return []*option{
		{name: "Issuer", section: s, kind: kString, check: checkOAuth,
			ptr: func(c *Config) any { return &c.OAuth.Issuer }, values: "URL", defDoc: "none: OAuth off",
			doc: "The identity provider's issuer identifier: every token's `iss` must equal it (RFC 7519 " +
				"§4.1.1). With Audience and JWKS-URL or Introspection-URL, turns OAUTHBEARER and XOAUTH2 on."},
		{name: "Audience", section: s, kind: kString,
			ptr: func(c *Config) any { return &c.OAuth.Audience }, defDoc: "none",
			doc: "A value every token's `aud` must hold: the client id the provider issues tokens to " +
				"for this server."},
		{name: "JWKS-URL", section: s, kind: kString,
			ptr: func(c *Config) any { return &c.OAuth.JWKSURL }, values: "URL", defDoc: "none",
			doc: "The provider's public keys (RFC 7517): `https://`, or `http://` to a loopback address. " +
				"Tokens are JWTs verified here: RS256, ES256 or EdDSA signatures only (`none` and HMAC " +
				"refused), `exp` required, `nbf` and `exp` with one minute of clock skew. The keys are " +
				"fetched at the first login and again when a token names an unknown key id (at most every " +
				"30 seconds); a key set that cannot be fetched is a temporary failure."},
		{name: "Username-Claim", section: s, kind: kString, def: "email",
			ptr: func(c *Config) any { return &c.OAuth.UsernameClaim },
			doc: "The claim whose value is the login name, mapped to an account as a login name is " +
				"(`NAME@DOMAIN`, then `NAME` at the site's domains). With `email`, a token whose " +
				"`email_verified` is false is refused."},
		{name: "Introspection-URL", section: s, kind: kString,
			ptr: func(c *Config) any { return &c.OAuth.IntrospectionURL }, values: "URL", defDoc: "none",
			doc: "Instead of JWKS-URL, for opaque tokens: the provider's token introspection endpoint " +
				"(RFC 7662), asked at each login with Client-ID and the secret of Client-Secret-File. " +
				"An inactive token, another issuer or audience, or an expired one is refused."},
		{name: "Client-ID", section: s, kind: kString,
			ptr: func(c *Config) any { return &c.OAuth.ClientID }, defDoc: "none",
			doc: "The client id this server authenticates to the introspection endpoint with."},
		{name: "Client-Secret-File", section: s, kind: kPath,
			ptr: func(c *Config) any { return &c.OAuth.ClientSecretFile }, defDoc: "none",
			doc: "A file whose first line is the client secret for the introspection endpoint."},
	}
}

func ldapOptions() []*option {
	s := SectionLDAP
	return []*option{
		{name: "Server-URL", section: s, kind: kList, elem: kString, check: checkLDAP,
			ptr: func(c *Config) any { return &c.LDAP.ServerURLs }, values: "list of URLs", defDoc: "none",
			doc: "The directory's servers, `ldap://HOST[:PORT]` or `ldaps://HOST[:PORT]`, tried in this order: " +
				"the next one is used when one cannot be reached within Timeout (failover)."},
		{name: "Start-TLS", section: s, kind: kBool, def: "OFF",
			ptr: func(c *Config) any { return &c.LDAP.StartTLS },
			doc: "Upgrade `ldap://` connections with StartTLS (RFC 4513 §3) before any bind. Without it and " +
				"without `ldaps://`, passwords cross the network in the clear."},
		{name: "CA-File", section: s, kind: kPath, defDoc: "the system's CAs",
			ptr: func(c *Config) any { return &c.LDAP.CAFile },
			doc: "PEM certificates of the CAs trusted for the directory's certificate."},
		{name: "Bind-DN", section: s, kind: kString, defDoc: "none: search anonymously",
			ptr: func(c *Config) any { return &c.LDAP.BindDN },
			doc: "The DN the server binds as to search for users."},
		{name: "Bind-Password-File", section: s, kind: kPath, defDoc: "none",
			ptr: func(c *Config) any { return &c.LDAP.BindPasswordFile },
			doc: "A file whose first line is Bind-DN's password."},
		{name: "Base-DN", section: s, kind: kString, defDoc: "none",
			ptr: func(c *Config) any { return &c.LDAP.BaseDN },
			doc: "Where users are searched, with its whole subtree."},
		{name: "User-Filter", section: s, kind: kString, def: "(&(objectClass=inetOrgPerson)(uid=%u))",
			ptr: func(c *Config) any { return &c.LDAP.UserFilter },
			doc: "The filter (RFC 4515) that finds the user of a login name: `%u` is the whole login name, " +
				"`%n` its part before `@`, `%d` its domain, each escaped as RFC 4515 §3 says; `%%` is `%`. " +
				"It must match one entry; accounts the directory disables are excluded here (docs/accounts.md " +
				"has the OpenLDAP ppolicy and Active Directory forms)."},
		{name: "Mail-Filter", section: s, kind: kString, def: "(&(objectClass=inetOrgPerson)(mail=%a))",
			ptr: func(c *Config) any { return &c.LDAP.MailFilter },
			doc: "The filter that finds the user of a recipient address at delivery: `%a` is the address " +
				"(and `%n`, `%d` its parts)."},
		{name: "Name-Attribute", section: s, kind: kString, def: "uid",
			ptr: func(c *Config) any { return &c.LDAP.NameAttribute },
			doc: "The attribute whose value, lower-cased, names the user's account in the store. It must " +
				"be a valid account name."},
		{name: "Mail-Attribute", section: s, kind: kString, def: "mail",
			ptr: func(c *Config) any { return &c.LDAP.MailAttribute },
			doc: "The attribute holding the user's addresses; Mail-Filter normally names it."},
		{name: "Bind-As-User", section: s, kind: kBool, def: "ON",
			ptr: func(c *Config) any { return &c.LDAP.BindAsUser },
			doc: "ON: a password is verified by binding as the user's entry. OFF: the entry's `userPassword` " +
				"is read (Bind-DN must be allowed to) and compared in Postern, for the schemes `user import` " +
				"knows (`{SSHA}`, `{CRYPT}`, …)."},
		{name: "Timeout", section: s, kind: kDuration, def: "5s",
			ptr: func(c *Config) any { return &c.LDAP.Timeout },
			doc: "The limit of each directory operation (connect, bind, search). A directory that does not " +
				"answer within it, after one retry, gives the client a temporary failure (IMAP " +
				"`NO [UNAVAILABLE]`, POP3 `-ERR [SYS/TEMP]`, SMTP 454 4.7.0), never \"wrong password\"."},
	}
}

// checkLDAP checks the [LDAP] section as a whole.
func checkLDAP(c *Config) string {
	l := c.LDAP
	if len(l.ServerURLs) == 0 {
		return ""
	}
	for _, u := range l.ServerURLs {
		lu := strings.ToLower(u)
		if !strings.HasPrefix(lu, "ldap://") && !strings.HasPrefix(lu, "ldaps://") {
			return quote(u) + " is not an ldap:// or ldaps:// URL"
		}
	}
	switch {
	case l.BaseDN == "":
		return "[LDAP] needs Base-DN"
	case l.Timeout <= 0:
		return "[LDAP] Timeout must be positive"
	case (l.BindDN == "") != (l.BindPasswordFile == ""):
		return "[LDAP] Bind-DN and Bind-Password-File go together"
	}
	for _, f := range []string{l.UserFilter, l.MailFilter} {
		if strings.Count(f, "(") != strings.Count(f, ")") || !strings.HasPrefix(f, "(") {
			return quote(f) + " is not an LDAP filter (RFC 4515)"
		}
	}
	return ""
}

// checkOAuth checks the [OAuth] section as a whole.
func checkOAuth(c *Config) string {
	o := c.OAuth
	if o.Issuer == "" && o.Audience == "" && o.JWKSURL == "" && o.IntrospectionURL == "" {
		return ""
	}
	switch {
	case o.Issuer == "" || o.Audience == "":
		return "[OAuth] needs both Issuer and Audience"
	case (o.JWKSURL == "") == (o.IntrospectionURL == ""):
		return "[OAuth] needs exactly one of JWKS-URL and Introspection-URL"
	case o.IntrospectionURL != "" && (o.ClientID == "" || o.ClientSecretFile == ""):
		return "Introspection-URL needs Client-ID and Client-Secret-File"
	}
	for _, u := range []string{o.JWKSURL, o.IntrospectionURL} {
		if u != "" && !secureOAuthURL(u) {
			return quote(u) + " must be https://, or http:// to a loopback address"
		}
	}
	return ""
}

// secureOAuthURL accepts https URLs and http URLs to a loopback host.
func secureOAuthURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
