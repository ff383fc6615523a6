package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations holds the schema, one entry per version: migrations[i] takes
// the index from user_version i to i+1. Append new versions; never edit a
// released one.
var migrations = []string{
	// Version 1.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

-- Times are Unix nanoseconds (0 = none).
CREATE TABLE account (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	name             TEXT NOT NULL UNIQUE, -- lower case
	password_hash    TEXT NOT NULL DEFAULT '',
	scram_salt       BLOB,
	scram_iterations INTEGER NOT NULL DEFAULT 0,
	scram_stored_key BLOB,
	scram_server_key BLOB,
	apop_secret      TEXT NOT NULL DEFAULT '',
	disabled         INTEGER NOT NULL DEFAULT 0,
	no_mail          INTEGER NOT NULL DEFAULT 0,
	expires          INTEGER NOT NULL DEFAULT 0,
	admin            INTEGER NOT NULL DEFAULT 0,
	created          INTEGER NOT NULL
);

-- AUTOINCREMENT: a mailbox ID is never reused, so a session holding the ID
-- of a deleted mailbox can never reach its namesake.
CREATE TABLE mailbox (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	account       INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL,
	highestmodseq INTEGER NOT NULL,
	special_use   TEXT NOT NULL DEFAULT '',
	UNIQUE (account, name)
);

CREATE TABLE subscription (
	account INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name    TEXT NOT NULL,
	PRIMARY KEY (account, name)
) WITHOUT ROWID;

-- One row per content file msg/<file[:2]>/<file>. refcount counts the
-- message rows referring to it (kept by the triggers below); Reclaim
-- removes rows and files whose refcount is 0. The structure (part) and the
-- OpenVMS envelope (vms, JSON) describe the content, so COPY shares them.
CREATE TABLE content (
	id       INTEGER PRIMARY KEY,
	file     TEXT NOT NULL UNIQUE,
	size     INTEGER NOT NULL,
	sha256   BLOB NOT NULL,
	part     BLOB,
	vms      BLOB,
	refcount INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX content_unreferenced ON content(id) WHERE refcount = 0;

-- A message in a mailbox. id is the EmailID: AUTOINCREMENT never reuses it;
-- MOVE updates the row (keeping it), COPY inserts one (a new one).
-- flags is the canonical flag list joined by spaces; seen and deleted
-- mirror two of them for STATUS counts.
CREATE TABLE message (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	mailbox       INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid           INTEGER NOT NULL,
	modseq        INTEGER NOT NULL,
	flags         TEXT NOT NULL DEFAULT '',
	seen          INTEGER NOT NULL DEFAULT 0,
	deleted       INTEGER NOT NULL DEFAULT 0,
	internal_date INTEGER NOT NULL,
	size          INTEGER NOT NULL,
	content       INTEGER NOT NULL REFERENCES content(id),
	import_key    TEXT
);
CREATE UNIQUE INDEX message_uid ON message(mailbox, uid);
CREATE INDEX message_modseq ON message(mailbox, modseq);
CREATE UNIQUE INDEX message_import_key ON message(mailbox, import_key) WHERE import_key IS NOT NULL;

CREATE TRIGGER message_ref AFTER INSERT ON message BEGIN
	UPDATE content SET refcount = refcount + 1 WHERE id = NEW.content;
END;
CREATE TRIGGER message_unref AFTER DELETE ON message BEGIN
	UPDATE content SET refcount = refcount - 1 WHERE id = OLD.content;
END;

-- The expunge log (RFC 7162 QRESYNC): UIDs removed from a mailbox, by
-- EXPUNGE or MOVE, with the MODSEQ of their removal.
CREATE TABLE expunged (
	mailbox INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid     INTEGER NOT NULL,
	modseq  INTEGER NOT NULL,
	PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox, modseq);
`,
	// Version 2: RFC 3501 §2.3.2 \Recent. first_recent is the lowest UID no
	// session has claimed (Session.ClaimRecent): messages at or above it
	// are recent for the next session to claim them. Mailboxes that exist
	// already start with nothing to claim.
	`
ALTER TABLE mailbox ADD COLUMN first_recent INTEGER NOT NULL DEFAULT 1;
UPDATE mailbox SET first_recent = uidnext;
`,
	// Version 3: the expunge log's retention (RFC 7162 QRESYNC). at is
	// when a UID was logged (Unix nanoseconds); PruneExpunged removes the
	// entries older than the retention and raises the mailbox's
	// expunge_floor to the highest MODSEQ it removed, so the log is
	// complete for every MODSEQ at or above the floor. Entries logged
	// before this version count from the migration.
	`
ALTER TABLE expunged ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
UPDATE expunged SET at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000000;
CREATE INDEX expunged_at ON expunged(at);
ALTER TABLE mailbox ADD COLUMN expunge_floor INTEGER NOT NULL DEFAULT 0;
`,
	// Version 4: foreign messages (hp-system §1.6; store.AppendRequest.Foreign).
	// is_foreign marks content that is binary data, not text. Content
	// stored before this version is not marked: its files are not read
	// again here (docs/openvms.md, "Foreign messages").
	`
ALTER TABLE content ADD COLUMN is_foreign INTEGER NOT NULL DEFAULT 0;
`,
	// Version 5: RFC 9208 QUOTA. Each mailbox keeps the stored size and the
	// number of its messages, kept exact by triggers on every insert,
	// delete and move of a message row, so that an account's usage is a sum
	// over its few mailboxes, read in the transaction that appends. The
	// account's limits: NULL follows the site default, -1 is no limit.
	`
ALTER TABLE account ADD COLUMN quota_storage INTEGER;
ALTER TABLE account ADD COLUMN quota_messages INTEGER;
ALTER TABLE mailbox ADD COLUMN used_octets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailbox ADD COLUMN used_messages INTEGER NOT NULL DEFAULT 0;
UPDATE mailbox SET
	used_octets = (SELECT coalesce(sum(size), 0) FROM message WHERE message.mailbox = mailbox.id),
	used_messages = (SELECT count(*) FROM message WHERE message.mailbox = mailbox.id);
CREATE TRIGGER message_usage_add AFTER INSERT ON message BEGIN
	UPDATE mailbox SET used_octets = used_octets + NEW.size, used_messages = used_messages + 1 WHERE id = NEW.mailbox;
END;
CREATE TRIGGER message_usage_remove AFTER DELETE ON message BEGIN
	UPDATE mailbox SET used_octets = used_octets - OLD.size, used_messages = used_messages - 1 WHERE id = OLD.mailbox;
END;
CREATE TRIGGER message_usage_move AFTER UPDATE OF mailbox ON message WHEN OLD.mailbox <> NEW.mailbox BEGIN
	UPDATE mailbox SET used_octets = used_octets - OLD.size, used_messages = used_messages - 1 WHERE id = OLD.mailbox;
	UPDATE mailbox SET used_octets = used_octets + NEW.size, used_messages = used_messages + 1 WHERE id = NEW.mailbox;
END;
`,
	// Version 6: foreign_head holds the first octets of a foreign
	// message's body (store.MessageData.ForeignHead), NULL for others and
	// for foreign content stored before this version.
	`
ALTER TABLE content ADD COLUMN foreign_head BLOB;
`,
	// Version 7: the zone of the INTERNALDATE, seconds east of UTC, as the
	// date was given (an APPEND date-time's own offset, RFC 9051 §6.3.12):
	// FETCH INTERNALDATE answers with it and SEARCH BEFORE/ON/SINCE take
	// the date in it. Messages stored before this version are in UTC, as
	// they were shown.
	`
ALTER TABLE message ADD COLUMN internal_zone INTEGER NOT NULL DEFAULT 0;
`,
	// Version 8: retrieved is when the message was first retrieved over
	// POP3 (Unix nanoseconds; 0 = never), for [POP] Expire in days (RFC
	// 2449 §6.7; store.RetrievalKeeper). The row keeps it through MOVE; a
	// COPY starts at 0. Messages stored before this version count as never
	// retrieved, so an upgrade expires nothing.
	`
ALTER TABLE message ADD COLUMN retrieved INTEGER NOT NULL DEFAULT 0;
CREATE INDEX message_retrieved ON message(mailbox, retrieved) WHERE retrieved > 0;
`,
	// Version 9: the header search index (issue 15, docs/architecture.md
	// "Search index"), filled when a content row is inserted, in the forms
	// of internal/search. A content without a search_env row (stored
	// before this version) is unindexed: SEARCH scans it until `postern
	// reindex` fills it. search_env holds the folded text of the envelope
	// keys (NULL: field absent); search_field one row per top-level header
	// field (name: search.FoldName, value: folded decoded value). Rows go
	// when the content loses its last message (expunge), not at reclaim.
	`
CREATE TABLE search_env (
	content      INTEGER PRIMARY KEY,
	from_text    BLOB,
	to_text      BLOB,
	cc_text      BLOB,
	bcc_text     BLOB,
	subject_text BLOB
);
CREATE TABLE search_field (
	content INTEGER NOT NULL,
	name    TEXT NOT NULL,
	value   BLOB NOT NULL
);
CREATE INDEX search_field_content ON search_field(content, name);
CREATE TRIGGER content_search_drop AFTER UPDATE OF refcount ON content WHEN NEW.refcount = 0 BEGIN
	DELETE FROM search_env WHERE content = NEW.id;
	DELETE FROM search_field WHERE content = NEW.id;
END;
CREATE TRIGGER content_search_delete AFTER DELETE ON content BEGIN
	DELETE FROM search_env WHERE content = OLD.id;
	DELETE FROM search_field WHERE content = OLD.id;
END;
`,
	// Version 10: search_env.kept, the raw top-level header fields of
	// store.KeptHeaderFields (store.HeaderKeeper), so that the OpenVMS
	// Mail view's derived envelope and THREAD's References open no
	// message file. NULL for contents indexed before: read from the file
	// until `postern reindex` fills it.
	`
ALTER TABLE search_env ADD COLUMN kept BLOB;
`,
	// Version 11: the full-text index of BODY and TEXT (issue 15,
	// docs/architecture.md "Search index"): search_text, an FTS5 table
	// with the trigram tokenizer, case-sensitive (the texts are folded as
	// SEARCH folds them, internal/search), contentless, one row per
	// content (rowid = content id): hdr is TEXT's header half, body the
	// decoded text parts, both in search.IndexText form. search_env.text
	// is 1 when the row exists, 0 when the message's text was too large
	// to index; NULL (before this version) until `postern reindex`.
	`
CREATE VIRTUAL TABLE search_text USING fts5(hdr, body, tokenize = 'trigram case_sensitive 1', content = '', contentless_delete = 1);
ALTER TABLE search_env ADD COLUMN text INTEGER;
DROP TRIGGER content_search_drop;
DROP TRIGGER content_search_delete;
CREATE TRIGGER content_search_drop AFTER UPDATE OF refcount ON content WHEN NEW.refcount = 0 BEGIN
	DELETE FROM search_env WHERE content = NEW.id;
	DELETE FROM search_field WHERE content = NEW.id;
	DELETE FROM search_text WHERE rowid = NEW.id;
END;
CREATE TRIGGER content_search_delete AFTER DELETE ON content BEGIN
	DELETE FROM search_env WHERE content = OLD.id;
	DELETE FROM search_field WHERE content = OLD.id;
	DELETE FROM search_text WHERE rowid = OLD.id;
END;
`,
	// Version 12: pop3_uidl is the POP3 unique-id a message was imported
	// with (store.IdentityImporter, store.UIDLKeeper: the old server's
	// UIDL, so that a POP3 client leaving mail on the server downloads
	// nothing again); NULL for the server's own. The row keeps it through
	// MOVE; a COPY inserts a row without it.
	`
ALTER TABLE message ADD COLUMN pop3_uidl TEXT;
`,
	// Version 13: Sieve (issue 20, docs/sieve.md): users' scripts, at
	// most one active per account, and the vacation log (RFC 5230 §4.2:
	// one response per sender and handle per period; key is the sender
	// and handle, until the end of the period in Unix nanoseconds).
	`
CREATE TABLE sieve_script (
	account INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name    TEXT NOT NULL,
	content TEXT NOT NULL,
	active  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account, name)
);
CREATE UNIQUE INDEX sieve_script_active ON sieve_script(account) WHERE active;
CREATE TABLE sieve_vacation (
	account INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	key     TEXT NOT NULL,
	until   INTEGER NOT NULL,
	PRIMARY KEY (account, key)
);
`,
	// Version 14: DKIM signing keys (issue 20, store.DKIMKeyKeeper,
	// docs/mail-auth.md): one row per domain and selector, the private key
	// as PKCS #8 DER. The index file is mode 0600, so the key is only
	// readable by the server's account; backups copy the table.
	`
CREATE TABLE dkim_key (
	domain      TEXT NOT NULL, -- lower case
	selector    TEXT NOT NULL, -- lower case
	algorithm   TEXT NOT NULL, -- rsa | ed25519
	private_key BLOB NOT NULL, -- PKCS #8 DER
	created     INTEGER NOT NULL,
	PRIMARY KEY (domain, selector)
) WITHOUT ROWID;
`,
	// Version 15: RFC 5464 metadata (issue 14, store.MetadataKeeper):
	// mailbox 0 is the account's server entries; a mailbox's entries are
	// removed with it by the trigger (0 cannot reference mailbox).
	`
CREATE TABLE metadata (
	account INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	mailbox INTEGER NOT NULL, -- mailbox.id, or 0 for the server
	name    TEXT NOT NULL,    -- lower case, /private/… or /shared/…
	value   BLOB NOT NULL,
	PRIMARY KEY (account, mailbox, name)
) WITHOUT ROWID;
CREATE TRIGGER mailbox_metadata_delete AFTER DELETE ON mailbox BEGIN
	DELETE FROM metadata WHERE account = OLD.account AND mailbox = OLD.id;
END;
`,
	// Version 16: the account source that owns each name (issue 22,
	// store.Account.Source); every account made before it is local.
	`ALTER TABLE account ADD COLUMN source TEXT NOT NULL DEFAULT 'local';`,
	// Version 17: the outbound SMTP queue (issue 18, store.OutboundQueue),
	// moved here from files in Data-Directory/queue (imported at start):
	// a message is leased to one runner at a time (lease_owner,
	// lease_until, Unix nanoseconds; '' and 0 when free).
	`
CREATE TABLE queue_msg (
	id           TEXT PRIMARY KEY,
	created      INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL,
	size         INTEGER NOT NULL,
	envelope     BLOB NOT NULL,
	lease_owner  TEXT NOT NULL DEFAULT '',
	lease_until  INTEGER NOT NULL DEFAULT 0,
	body         BLOB NOT NULL
);
CREATE INDEX queue_msg_order ON queue_msg(created, id);
`,
	// Version 18: RFC 8514 SAVEDATE (issue 14, store.SaveDateKeeper):
	// saved is when the message was saved in its mailbox (APPEND,
	// delivery, import, COPY, MOVE), Unix nanoseconds. Messages stored
	// before this version have NULL: their save date is not known
	// (FETCH SAVEDATE NIL; docs/imap.md).
	`
ALTER TABLE message ADD COLUMN saved INTEGER;
`,
	// Version 19: indexes for SEARCH from the index (issue 15). A header
	// search visits every message of the mailbox: message_content covers
	// its uid and content without reading the message row, and
	// content_vms lists the few contents with an OpenVMS envelope without
	// reading every content row (whose structure makes them large).
	`
CREATE INDEX IF NOT EXISTS message_content ON message(mailbox, uid, content);
CREATE INDEX IF NOT EXISTS content_vms ON content(id) WHERE vms IS NOT NULL;
`,
	// Version 20: the search index is filled after acknowledgement
	// (issue 15, indexer.go): an append adds its content's id here, in
	// the transaction that inserts the content, and the indexer removes
	// it with the transaction that writes the content's search rows.
	// Until then the content has no search_env row and SEARCH scans it.
	// A row whose content is gone is dropped by the indexer.
	`
CREATE TABLE search_pending (
	content INTEGER PRIMARY KEY
);
`,
	// Version 21: RFC 8970 PREVIEW (issue 14, store.PreviewKeeper): the
	// preview of the content (search.Preview), computed when it is
	// stored, so that FETCH PREVIEW opens no message file; COPY shares
	// it with the content. NULL for contents stored before this version,
	// until the first FETCH PREVIEW keeps one.
	`
ALTER TABLE content ADD COLUMN preview TEXT;
`,
	// Version 22: RFC 8474 THREADID (issue 14, store.ThreadKeeper):
	// message.thread is the message's thread, the EmailID of the message
	// that began it, given when it is stored (a COPY takes its
	// original's); NULL for messages stored before this version.
	// thread_key maps each message ID an account's messages carried or
	// referred to (store.ThreadRefs) to the thread of the first message
	// that did, which is how a later message finds its thread.
	`
ALTER TABLE message ADD COLUMN thread INTEGER;
CREATE TABLE thread_key (
	account INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	msgid   TEXT NOT NULL,
	thread  INTEGER NOT NULL,
	PRIMARY KEY (account, msgid)
) WITHOUT ROWID;
`,
}

// migrate brings the index to the newest schema version, one version per
// transaction, and refuses an index written by a newer program.
func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("index schema version %d is newer than this program's %d", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if err := migrateOne(ctx, db, v); err != nil {
			return fmt.Errorf("migrate index to schema version %d: %w", v+1, err)
		}
	}
	return nil
}

func migrateOne(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The transaction holds the write lock (the write pool's transactions
	// are IMMEDIATE): read the version again under it, since another process
	// opening the same fresh index (`postern serve` and `postern user add`
	// started together) may have migrated it after migrate read it.
	var cur int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return err
	}
	if cur > from {
		return nil
	}
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return err
	}
	// PRAGMA takes no parameters; from is a small integer of ours.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return err
	}
	return tx.Commit()
}
