#!/usr/bin/env bash
# Run every test: the README's test command, and what CI runs (.ci/run).
#
#   ./test.sh                    every package
#   ./test.sh ./test/e2e         some packages (any `go test` arguments)
#
# The end-to-end tests drive real programs (mail clients, Postfix, Dovecot,
# fail2ban, logrotate). This script checks for each of them first. Run as
# root on Debian or Ubuntu, it installs the missing ones with apt-get;
# otherwise it names exactly what is missing, with the command that installs
# it, and stops before running anything. With everything present, the tests
# run with TEST_TOOLS_REQUIRED=1, so a tool that vanishes is a failure, never
# a silently skipped test.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

# Go itself is not a Debian package recent enough: it comes from go.dev.
if ! command -v go >/dev/null; then
  echo "test.sh: Go (1.26 or later) is not installed: https://go.dev/doc/install" >&2
  exit 1
fi

# What the tests run, and the Debian package that provides it:
# "check|package|used by". A check is a command on PATH or an absolute path.
tools=(
  "python3|python3|e2e: imaplib, poplib, smtplib clients"
  "openssl|openssl|tlsconf: encrypted-key interoperability"
  "curl|curl|e2e: imap(s)://, pop3(s)://, smtp(s)://"
  "mbsync|isync|e2e: IMAP two-way sync"
  "swaks|swaks|e2e: SMTP submission and LMTP"
  "fetchmail|fetchmail|e2e: POP3 keep / no-keep"
  "getmail|getmail6|e2e: POP3 and IMAP retrieval"
  "mutt|mutt|e2e: submission in batch mode"
  "/usr/sbin/postfix|postfix|e2e: a private Postfix delivering over LMTP"
  "/usr/lib/postgresql/15/bin/initdb|postgresql|store/postgres and the two-node e2e: a private PostgreSQL cluster"
  "/usr/lib/dovecot/imap|dovecot-imapd|differential: the reference IMAP server"
  "/usr/lib/dovecot/pop3|dovecot-pop3d|differential: the reference POP3 server"
  "fail2ban-regex|fail2ban|e2e: contrib/fail2ban against real log lines"
  "/usr/sbin/logrotate|logrotate|e2e: contrib/logrotate rotates a running server's logs"
  "prlimit|util-linux|e2e: a server at a low descriptor limit (robust_test.go)"
  "systemd-analyze|systemd|e2e: contrib/systemd/postern.service verifies"
  "systemd-socket-activate|systemd|e2e: socket activation (inherited listeners)"
  "sieve-test|dovecot-sieve|sieve: Pigeonhole as the differential reference of internal/sieve"
  "dkimverify|python3-dkim|msgauth, e2e: dkimpy, the independent DKIM verifier of our signatures"
  "sieve-connect|sieve-connect|e2e: a real ManageSieve client uploads and activates a script"
  "doveadm|dovecot-core|auth: doveadm pw, the oracle of the imported Dovecot password schemes"
  "mkpasswd|whois|auth: mkpasswd, the oracle of yescrypt and the crypt(3) forms"
  "rspamd|rspamd|e2e: rspamd as the milter of inbound SMTP (GTUBE rejected, clean mail marked)"
  "/usr/sbin/slapd|slapd|auth/source, e2e: a private OpenLDAP (slapd, slapadd) for the ldap account source"
  "gsasl|gsasl|e2e: GNU SASL logs in with SCRAM-SHA-256-PLUS and tls-exporter channel binding"
)

missing=()
for entry in "${tools[@]}"; do
  IFS='|' read -r check pkg why <<<"$entry"
  if [[ $check == /* ]]; then [[ -x $check ]] && continue
  else command -v "$check" >/dev/null && continue
  fi
  missing+=("$pkg")
  echo "test.sh: missing $check ($why): Debian package $pkg" >&2
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "test.sh: install them first, then run ./test.sh again:" >&2
    echo "  sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
    echo "  (or run ./test.sh as root on Debian: it installs them)" >&2
    exit 1
  fi
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  # Postfix asks how to configure itself: not at all, the tests run their own instance.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: not root: the private-Postfix test (TestPostfixLMTP) will be skipped; it needs root" >&2
fi

export TEST_TOOLS_REQUIRED=1
[ $# -eq 0 ] && set -- ./...
echo "==> go test -race -shuffle=on -timeout 20m $*"
exec go test -race -shuffle=on -timeout 20m "$@"
