package imapserver

import (
	"strconv"

	"github.com/postern/postern/internal/store"
)

// OBJECTID (RFC 8474). The ids come from what the store already keeps,
// so no id is stored twice:
//
//   - MAILBOXID is "F" and the store's MailboxID in decimal: fixed when the
//     mailbox is created and kept by RENAME (§4: it MUST NOT change when
//     the mailbox is renamed); a mailbox deleted and created again under
//     the same name gets a new one.
//   - EMAILID is "M" and the store's EmailID in decimal: kept by MOVE
//     (§5.1); a COPY is a message of its own with a new EmailID (the
//     store's rule, which POP3 UIDL relies on), so a copy does not share
//     its original's EMAILID.
//   - THREADID is "T" and the store's thread id (threadid.go).
//
// All are unique in the whole store, so also across the account's
// mailboxes as §4 and §5.1 ask. The prefixes keep the two kinds apart.
func mailboxObjectID(id store.MailboxID) string { return "F" + strconv.FormatInt(int64(id), 10) }

func emailObjectID(id store.EmailID) string { return "M" + strconv.FormatInt(int64(id), 10) }

// parseEmailObjectID is the reverse of emailObjectID; an objectid that is
// not one of Postern's EMAILIDs names no message.
func parseEmailObjectID(s string) (store.EmailID, bool) {
	if len(s) < 2 || s[0] != 'M' || s[1] == '0' || s[1] == '+' || s[1] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(s[1:], 10, 64)
	return store.EmailID(n), err == nil && n > 0
}
