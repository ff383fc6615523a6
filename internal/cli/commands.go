package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/server"
)

// commands returns the command table. The order is the order of -h.
func commands() []*command {
	return []*command{
		{
			name: "serve", args: "[--config FILE]", maxArgs: 0,
			summary: "run every configured service in the foreground",
			help: `Without a configuration file (--config, $POSTERN_CONFIG, ./postern.conf or
/etc/postern/postern.conf), serve runs in quickstart mode: data in ./postern-data,
loopback only, a self-signed certificate and a "demo" user.
The protocols run in worker processes that serve inherits (docs/supervisor.md).
SIGUSR2 (or postern ctl upgrade [PATH]) starts the binary again on the same
sockets; the old processes drain. SIGTERM or SIGINT stops gracefully. SIGHUP (or postern ctl reload) reopens the
logs and reloads the configuration: certificates, log levels, protocols turned
on or off and ports, without ending sessions; a file with problems is refused
and nothing changes; other changes need a restart (the log says which).`,
			flags: serveFlags, run: runServe,
		},
		{
			name: "check", args: "[--config FILE]", maxArgs: 0,
			summary: "validate the configuration and print every problem",
			flags:   configFlag, run: runCheck,
		},
		{name: "user", args: "SUBCOMMAND", summary: "manage accounts", sub: userCommands()},
		{name: "dkim", args: "SUBCOMMAND", summary: "manage DKIM signing keys", sub: dkimCommands()},
		{
			name: "deliver", args: "NAME [--mailbox MBOX] [--from SENDER] < message", minArgs: 1, maxArgs: 1,
			summary: "deliver one message from standard input (a local delivery agent)",
			help: `Exit status: 0 once the message is durably stored; 67 (EX_NOUSER) for an
unknown user; 65 (EX_DATAERR) for a malformed or oversized message; 73
(EX_CANTCREAT) when the message does not fit in the recipient's quota
(mailbox full); 75 (EX_TEMPFAIL) for a temporary failure. Usable as
Postfix's mailbox_command:
  mailbox_command = /usr/local/bin/postern deliver "$USER"`,
			flags: deliverFlags, run: runDeliver,
		},
		{
			name: "import", args: "NAME PATH|imaps://USER@HOST [--format mbox|maildir|vms|dovecot] [--mailbox MBOX] [--new-uids] | --all-users --users-file F SOURCE [--dry-run]", minArgs: 1, maxArgs: 2,
			summary: "import an mbox file, a Maildir, an OpenVMS MAIL extract or a Dovecot user's mail",
			help: `The format is detected when --format is not given. An interrupted import can
be run again: messages already imported into the mailbox are skipped.
--format dovecot reads a Dovecot Maildir (PATH is the user's Maildir) with
every folder, keeping UIDVALIDITY, UIDs, flags, keywords, internal dates,
subscriptions and POP3 UIDLs, so that clients download nothing again. A
folder goes into the mailbox of its name; one that holds mail already is
refused unless --new-uids (docs/migration.md).
PATH imaps://user@host[:port] (or imap:// with STARTTLS) copies every mailbox
of a live IMAP server, with flags, keywords and internal dates, keeping UIDs
and UIDVALIDITY; the password comes from --password-file, --password-stdin
or a prompt, never the command line. Run again, it copies only new mail and
brings flags up to date.
--all-users --users-file F SOURCE imports every line "SOURCE-USER
POSTERN-USER [PASSWORD-FILE]" of F from SOURCE with %u replaced by the source
user (/home/%u/Maildir, imaps://%u@host), --jobs at a time, with a report line
per user; --dry-run checks every user and source and changes nothing.`,
			flags: importFlags, run: runImport,
		},
		{
			name: "export", args: "--user NAME --format maildir|mbox DIR", minArgs: 1, maxArgs: 1,
			summary: "write an account's mail out as a Maildir or mbox files",
			help: `maildir: DIR becomes a Maildir in Dovecot's layout (Maildir++), with
dovecot-uidlist, dovecot-keywords and subscriptions, so that Dovecot (or
postern import --format dovecot) keeps UIDVALIDITY, UIDs, flags, keywords and
kept POP3 UIDLs. mbox: one mboxrd file per mailbox, DIR/NAME.mbox, flags in
Status:, X-Status: and X-Keywords:. A second export into the same DIR writes
only what changed (docs/migration.md).`,
			flags: exportFlags, run: runExport,
		},
		{
			name: "backup", args: "DIR", minArgs: 1, maxArgs: 1,
			summary: "copy the store into DIR, consistently, while the server runs",
			help: `Copies a snapshot of the index and every message file it names into DIR,
each checked against its SHA-256. A second backup into the same DIR copies
only new messages and removes those since deleted. The configuration, the
certificates and the outbound queue are not included (docs/operations.md).`,
			flags: configFlag, run: runBackup,
		},
		{
			name: "restore", args: "DIR", minArgs: 1, maxArgs: 1,
			summary: "restore a backup from DIR into an empty data directory, then verify it",
			flags:   configFlag, run: runRestore,
		},
		{
			name: "verify", args: "[--repair]", maxArgs: 0,
			summary: "check the store: index invariants, every message file, orphan files",
			help: `Exits 1 if anything is wrong. --repair fixes what it can without losing
anything (reference counts, a UIDNEXT or HIGHESTMODSEQ behind the messages;
orphan files are moved to lost+found/ in the data directory). Missing or
corrupt message files cannot be repaired: restore them from a backup.`,
			flags: verifyFlags, run: runVerify,
		},
		{
			name: "reindex", args: "[--user NAME]", maxArgs: 0,
			summary: "fill the search index for mail stored before it",
			help: `SEARCH answers FROM, TO, CC, BCC, SUBJECT, HEADER, BODY and TEXT from an
index filled when a message is stored. Mail stored by an older version has
no index entry (or an incomplete one): SEARCH and THREAD read those
messages, with the same results, more slowly. reindex indexes them, all
accounts or --user NAME's, printing progress on standard error; it can run
while the server runs, and an interrupted run can be run again: it resumes
where it stopped.`,
			flags: reindexFlags, run: runReindex,
		},
		{name: "store", args: "SUBCOMMAND", summary: "move the mail store between backends", sub: storeCommands()},
		{
			name: "migrate", args: "[--config FILE]", maxArgs: 0,
			summary: "create or upgrade the store's schema, then exit",
			help: `Opening a store applies its schema migrations; migrate does only that, so that
an upgrade of a PostgreSQL store (Store-URL) can run once, before the nodes
start with the new program. It prints the schema version.`,
			flags: configFlag, run: runMigrate,
		},
		{
			name: "ctl", args: "stats | loglevel LEVEL | shutdown | connections | reopen-logs | reload | upgrade [PATH] | queue list|flush|delete ID", minArgs: 1, maxArgs: 3,
			summary: "talk to the running server over its control socket",
			flags:   configFlag, run: runCtl,
		},
		{name: "version", summary: "print the version", maxArgs: 0, run: runVersion},
		{
			name: "worker", hidden: true, maxArgs: 0, flags: workerFlags, run: runWorker,
			summary: "(started by serve) serve the protocols on the sockets serve passed",
		},
		{
			name: server.FileReaderCommand, args: "PATH...", minArgs: 1, maxArgs: -1, hidden: true,
			summary: "(started by serve) read the certificate files for the server after it dropped root",
			run: func(_ context.Context, _ *Env, _ *flag.FlagSet, paths []string) error {
				return server.ServeFileReader(os.NewFile(3, "file-reader"), paths)
			},
		},
		{
			name: source.SystemHelperCommand, args: "PASSWD SHADOW MINUID", minArgs: 3, maxArgs: 3, hidden: true,
			summary: "(started by serve) verify passwords of the host's accounts for the server after it dropped root",
			run:     runSystemHelper,
		},
	}
}

func userCommands() []*command {
	return []*command{
		{
			name: "add", args: "NAME[@DOMAIN] [--password-stdin] [--admin] [--yes]", minArgs: 1, maxArgs: 1,
			summary: "add an account (prompts for its password)",
			flags:   userAddFlags, run: runUserAdd,
		},
		{
			name: "passwd", args: "NAME [--password-stdin | --hash-stdin]", minArgs: 1, maxArgs: 1,
			summary: "set an account's password",
			help: `--hash-stdin reads a password hash instead of a password: one of the schemes
"postern user import" takes (docs/accounts.md). The account's SCRAM keys are
removed, since they belong to the old password; the first password login
replaces the hash with argon2id and derives new ones.`,
			flags: passwdFlags, run: runUserPasswd,
		},
		{
			name: "import", args: "FILE --format dovecot|shadow|htpasswd [--dry-run]", minArgs: 1, maxArgs: 1,
			summary: "add accounts from a password file, keeping their password hashes",
			help: `Each line of FILE makes one account with the hash it holds: a Dovecot
passwd-file ({SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}, {ARGON2ID}, {ARGON2I},
{SSHA512}, {SSHA256}, {SSHA}, {PBKDF2}, {CRYPT}, {MD5-CRYPT}, {PLAIN}), a shadow
file ($y$ yescrypt, $6$, $5$, $2b$/$2y$, $1$; "!" imports the account disabled,
the expiration date field becomes its expiry) or an htpasswd file ($apr1$,
bcrypt, {SHA}). A line that cannot be imported (malformed, an unsupported
scheme, a name already taken) is reported as FILE:LINE and skipped; nothing
is half-made. The first login with the right password replaces the hash with
argon2id and derives the SCRAM keys. Exit status 0 when every account line
was imported, 1 when some were skipped.`,
			flags: userImportFlags, run: runUserImport,
		},
		{
			name:    "set",
			args:    "NAME [--disabled|--enabled] [--no-mail|--mail] [--expires YYYY-MM-DD|never] [--apop-secret-stdin] [--admin|--no-admin] [--quota-storage SIZE|none|default] [--quota-messages N|none|default]",
			minArgs: 1, maxArgs: 1,
			summary: "change an account's flags and quota",
			help: `--quota-storage and --quota-messages set the account's own quota (RFC 9208
QUOTA): the sum of the sizes of its messages in all mailboxes, and their
number. SIZE is in the configuration's syntax: bytes, or a number with K, M,
G or T (binary: 10K is 10240 bytes). "none" removes the limit, whatever the
site default; "default" returns to the site's Quota-Storage / Quota-Messages.
A change applies at once, also to running sessions and other processes: an
IMAP APPEND or COPY, or a delivery, that would pass a limit is refused.`,
			flags: userSetFlags, run: runUserSet,
		},
		{
			name: "del", args: "NAME [--yes]", minArgs: 1, maxArgs: 1,
			summary: "delete an account and all its mail",
			help: `On a terminal, asks for confirmation first. Anywhere else (a script, a pipe)
it refuses unless --yes is given.`,
			flags: userDelFlags, run: runUserDel,
		},
		{
			name: "list", args: "[--source local|system|ldap]", maxArgs: 0,
			summary: "list the accounts",
			help: `SOURCE is the account source that owns each name: local for accounts made
with user add or user import, system or ldap for the store accounts that hold
the mail of users of those sources (made at their first login or delivery).`,
			flags: userListFlags, run: runUserList,
		},
	}
}

// runSystemHelper is the privileged helper of the system account source
// (docs/accounts.md): it answers on fd 3 and shows no hash.
func runSystemHelper(_ context.Context, _ *Env, _ *flag.FlagSet, args []string) error {
	minUID, err := strconv.Atoi(args[2])
	if err != nil {
		return fmt.Errorf("MINUID %q: %w", args[2], err)
	}
	files := &source.SystemFiles{PasswdFile: args[0], ShadowFile: args[1], MinUID: minUID,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pkg", "system-accounts")}
	return source.ServeSystemHelper(os.NewFile(3, "system-accounts"), files)
}

// configFlag declares the --config flag every command except version has.
func configFlag(fs *flag.FlagSet) any {
	return fs.String("config", "", "configuration `FILE` (default: $POSTERN_CONFIG, ./postern.conf, /etc/postern/postern.conf)")
}

func configPath(fs *flag.FlagSet) string {
	return fs.Lookup("config").Value.String()
}
