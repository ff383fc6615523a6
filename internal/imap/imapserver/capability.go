package imapserver

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// capability is one entry of the capability table: a name the server may
// advertise, when, and what implements it. checkCapabilities verifies at
// New that every capability's commands are in the dispatch table, so
// advertising something unimplemented is a boot failure.
type capability struct {
	name     string
	preAuth  bool     // advertised before login too
	postAuth bool     // advertised after login
	commands []string // verbs that must be in the dispatch table
	// quota: advertised only when the store keeps quotas
	// (store.QuotaKeeper); the QUOTA commands refuse otherwise.
	quota bool
	// when reports whether the capability applies to this connection; nil
	// means always.
	when func(c *conn) bool
}

// capabilities is the table, in advertising order.
var capabilities = []capability{
	{name: "IMAP4rev1", preAuth: true, postAuth: true, commands: []string{"CAPABILITY", "LOGIN", "SELECT", "FETCH", "SEARCH", "LSUB", "CHECK"}},
	{name: "IMAP4rev2", preAuth: true, postAuth: true, commands: []string{"ENABLE", "UNSELECT", "UID EXPUNGE", "MOVE", "NAMESPACE", "IDLE", "ID"}},
	{name: "LITERAL+", preAuth: true, postAuth: true},
	{name: "SASL-IR", preAuth: true, postAuth: false, commands: []string{"AUTHENTICATE"}},
	{name: "ID", preAuth: true, postAuth: true, commands: []string{"ID"}},
	{name: "ENABLE", preAuth: true, postAuth: true, commands: []string{"ENABLE"}},
	{name: "STARTTLS", preAuth: true, commands: []string{"STARTTLS"},
		// Not under COMPRESS (possible after UNAUTHENTICATE): TLS must
		// come first (RFC 4978 §3).
		when: func(c *conn) bool { return !c.tls && !c.deflate && c.s.opts.TLS != nil }},
	{name: "LOGINDISABLED", preAuth: true, when: func(c *conn) bool { return !c.plaintextAllowed() }},
	{name: "AUTH=PLAIN", preAuth: true, commands: []string{"AUTHENTICATE"},
		when: func(c *conn) bool { return c.plaintextAllowed() }},
	// RFC 9266 tls-exporter channel binding: with SCRAM-Channel-Binding,
	// on TLS 1.3 connections only (auth/scram_plus.go).
	{name: "AUTH=SCRAM-SHA-256-PLUS", preAuth: true, commands: []string{"AUTHENTICATE"},
		when: func(c *conn) bool { return c.s.opts.Auth.ChannelBinding(c.connInfo()) }},
	{name: "AUTH=SCRAM-SHA-256", preAuth: true, commands: []string{"AUTHENTICATE"}},
	// OAuth bearer tokens (RFC 7628; issue 22): when the authenticator
	// has them ([OAuth]), and only under TLS or on loopback.
	{name: "AUTH=OAUTHBEARER", preAuth: true, commands: []string{"AUTHENTICATE"},
		when: func(c *conn) bool { return c.bearerAllowed(auth.MechOAuthBearer) }},
	{name: "AUTH=XOAUTH2", preAuth: true, commands: []string{"AUTHENTICATE"},
		when: func(c *conn) bool { return c.bearerAllowed(auth.MechXOAuth2) }},
	{name: "IDLE", postAuth: true, commands: []string{"IDLE"}},
	// RFC 5464 (cmd_metadata.go) over the session's store.MetadataKeeper:
	// server and mailbox entries, so METADATA alone (§1: it implies
	// METADATA-SERVER).
	{name: "METADATA", postAuth: true, commands: []string{"GETMETADATA", "SETMETADATA"},
		when: func(c *conn) bool { _, ok := c.sess.(store.MetadataKeeper); return ok }},
	// RFC 5465 (cmd_notify.go, notify_wait.go) over the store's change
	// stream; no AnnotationChange or metadata events (BADEVENT).
	{name: "NOTIFY", postAuth: true, commands: []string{"NOTIFY"}},
	{name: "NAMESPACE", postAuth: true, commands: []string{"NAMESPACE"}},
	{name: "UIDPLUS", postAuth: true, commands: []string{"UID EXPUNGE", "APPEND", "COPY"}},
	{name: "MOVE", postAuth: true, commands: []string{"MOVE", "UID MOVE"}},
	{name: "UNSELECT", postAuth: true, commands: []string{"UNSELECT"}},
	{name: "UNAUTHENTICATE", postAuth: true, commands: []string{"UNAUTHENTICATE"}}, // RFC 8437
	{name: "CHILDREN", postAuth: true, commands: []string{"LIST"}},
	{name: "SPECIAL-USE", postAuth: true, commands: []string{"LIST"}},
	{name: "CREATE-SPECIAL-USE", postAuth: true, commands: []string{"CREATE"}},
	{name: "LIST-EXTENDED", postAuth: true, commands: []string{"LIST"}},
	{name: "LIST-STATUS", postAuth: true, commands: []string{"LIST", "STATUS"}},
	{name: "ESEARCH", postAuth: true, commands: []string{"SEARCH", "UID SEARCH"}},
	{name: "SEARCHRES", postAuth: true, commands: []string{"SEARCH", "UID SEARCH"}},
	{name: "WITHIN", postAuth: true, commands: []string{"SEARCH", "UID SEARCH"}}, // RFC 5032: OLDER, YOUNGER
	{name: "STATUS=SIZE", postAuth: true, commands: []string{"STATUS"}},
	{name: "MULTIAPPEND", postAuth: true, commands: []string{"APPEND"}},
	// RFC 8508 (cmd_replace.go), over the session's store.Replacer, which
	// makes the append and the expunge one transaction.
	{name: "REPLACE", postAuth: true, commands: []string{"REPLACE", "UID REPLACE"},
		when: func(c *conn) bool { _, ok := c.sess.(store.Replacer); return ok }},
	// RFC 4469 with RFC 5092 URLs to the account's own mail
	// (cmd_catenate.go); with REPLACE too (RFC 8508 §4.2).
	{name: "CATENATE", postAuth: true, commands: []string{"APPEND", "REPLACE", "UID REPLACE"}},
	{name: "BINARY", postAuth: true, commands: []string{"FETCH", "UID FETCH"}},
	// RFC 8970: the FETCH item PREVIEW, kept by the store (preview.go).
	{name: "PREVIEW", postAuth: true, commands: []string{"FETCH", "UID FETCH"}},
	// RFC 8474 (objectid.go, threadid.go): MAILBOXID, EMAILID, THREADID.
	{name: "OBJECTID", postAuth: true, commands: []string{"SELECT", "EXAMINE", "CREATE", "STATUS",
		"FETCH", "UID FETCH", "SEARCH", "UID SEARCH"}},
	// RFC 8514 (savedate.go) over the session's store.SaveDateKeeper:
	// FETCH SAVEDATE, SEARCH SAVEDBEFORE/SAVEDON/SAVEDSINCE and
	// SAVEDATESUPPORTED.
	{name: "SAVEDATE", postAuth: true, commands: []string{"FETCH", "UID FETCH", "SEARCH", "UID SEARCH"},
		when: func(c *conn) bool { _, ok := c.sess.(store.SaveDateKeeper); return ok }},
	{name: "UTF8=ACCEPT", postAuth: true, commands: []string{"ENABLE"}},
	// RFC 7162 §3.1: every command CONDSTORE extends. MODSEQ is part of
	// store.Session (MessageInfo.ModSeq, FlagRequest.UnchangedSince), so no
	// optional interface is needed.
	{name: "CONDSTORE", postAuth: true, commands: []string{"ENABLE", "SELECT", "EXAMINE", "STATUS",
		"FETCH", "UID FETCH", "STORE", "UID STORE", "SEARCH", "UID SEARCH"}},
	// RFC 7162 §3.2 (cmd_qresync.go). The expunge log is the optional
	// store.ExpungeLogger; a store without one still answers correctly,
	// with the full VANISHED (EARLIER) answer, so it is not required.
	{name: "QRESYNC", postAuth: true, commands: []string{"ENABLE", "SELECT", "EXAMINE", "UID FETCH",
		"EXPUNGE", "UID EXPUNGE", "CLOSE", "MOVE", "UID MOVE"}},
	// RFC 5256, RFC 5957 and Dovecot's REFS: internal/imap/thread.
	{name: "SORT", postAuth: true, commands: []string{"SORT", "UID SORT"}},
	{name: "SORT=DISPLAY", postAuth: true, commands: []string{"SORT", "UID SORT"}},
	{name: "ESORT", postAuth: true, commands: []string{"SORT", "UID SORT"}}, // RFC 5267 §3
	// RFC 5267 §4 (cmd_context.go).
	{name: "CONTEXT=SEARCH", postAuth: true, commands: []string{"SEARCH", "UID SEARCH", "CANCELUPDATE"}},
	{name: "CONTEXT=SORT", postAuth: true, commands: []string{"SORT", "UID SORT", "CANCELUPDATE"}},
	{name: "THREAD=ORDEREDSUBJECT", postAuth: true, commands: []string{"THREAD", "UID THREAD"}},
	{name: "THREAD=REFERENCES", postAuth: true, commands: []string{"THREAD", "UID THREAD"}},
	{name: "THREAD=REFS", postAuth: true, commands: []string{"THREAD", "UID THREAD"}},
	{name: "APPENDLIMIT", postAuth: true, commands: []string{"APPEND"}},
	{name: "COMPRESS=DEFLATE", postAuth: true, commands: []string{"COMPRESS"}}, // RFC 4978
	// RFC 9208: QUOTA with its STORAGE and MESSAGE resources (§5.1, §5.2,
	// which need STATUS DELETED-STORAGE and DELETED, §4.4) and SETQUOTA
	// (QUOTASET, §3.2), all over the store's QuotaKeeper.
	{name: "QUOTA", postAuth: true, quota: true, commands: []string{"GETQUOTA", "GETQUOTAROOT"}},
	{name: "QUOTA=RES-STORAGE", postAuth: true, quota: true, commands: []string{"GETQUOTA", "STATUS"}},
	{name: "QUOTA=RES-MESSAGE", postAuth: true, quota: true, commands: []string{"GETQUOTA", "STATUS"}},
	{name: "QUOTASET", postAuth: true, quota: true, commands: []string{"SETQUOTA"}},
	// RFC 9586 (uidonly.go): after ENABLE UIDONLY only the UID commands
	// name messages, FETCH responses are UIDFETCH and expunges VANISHED.
	{name: "UIDONLY", postAuth: true, commands: []string{"ENABLE", "UID FETCH", "UID STORE", "UID SEARCH",
		"UID COPY", "UID MOVE", "UID EXPUNGE", "UID SORT", "UID THREAD", "UID REPLACE"}},
	// RFC 9585 (progress.go): the commands that send INPROGRESS.
	{name: "INPROGRESS", postAuth: true, commands: []string{"SEARCH", "UID SEARCH", "SORT", "UID SORT", "THREAD",
		"UID THREAD", "COPY", "UID COPY", "MOVE", "UID MOVE", "EXPUNGE", "UID EXPUNGE"}},
}

// checkCapabilities fails when an advertised capability lacks its
// implementation: a command missing from the dispatch table, or a SASL
// mechanism the authenticator does not offer.
func (s *Server) checkCapabilities() error {
	mechs := s.opts.Auth.Mechanisms()
	for _, cp := range capabilities {
		for _, verb := range cp.commands {
			if _, ok := commands[verb]; !ok {
				return fmt.Errorf("imapserver: capability %s advertised but command %s is not implemented", cp.name, verb)
			}
		}
		if mech, ok := strings.CutPrefix(cp.name, "AUTH="); ok && !slices.Contains(mechs, mech) && !auth.IsBearerMechanism(mech) {
			return fmt.Errorf("imapserver: capability %s advertised but the authenticator lacks the mechanism", cp.name)
		}
	}
	return nil
}

// capabilityList returns the capabilities of the connection in its
// current state.
func (c *conn) capabilityList() []string {
	var out []string
	pre := c.state == stateNotAuthenticated
	for _, cp := range capabilities {
		if (pre && !cp.preAuth) || (!pre && !cp.postAuth) {
			continue
		}
		if (cp.when != nil && !cp.when(c)) || (cp.quota && c.s.quota == nil) {
			continue
		}
		name := cp.name
		if name == "APPENDLIMIT" && c.s.opts.AppendLimit > 0 {
			name += "=" + strconv.FormatInt(c.s.opts.AppendLimit, 10)
		}
		out = append(out, name)
	}
	return out
}

func (c *conn) capabilityString() string { return strings.Join(c.capabilityList(), " ") }
