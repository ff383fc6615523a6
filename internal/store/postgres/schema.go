package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations holds the schema, one entry per version: migrations[i] takes
// the database from version i to i+1. Append new versions; never edit a
// released one. The versions are this backend's own, independent of the
// SQLite index's.
var migrations = []string{
	// Version 1.
	`
CREATE TABLE meta (
	key   text PRIMARY KEY,
	value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('uidvalidity', 0);

CREATE TABLE account (
	id               bigserial PRIMARY KEY,
	name             text NOT NULL UNIQUE, -- lower case
	password_hash    text NOT NULL DEFAULT '',
	scram_salt       bytea,
	scram_iterations integer NOT NULL DEFAULT 0,
	scram_stored_key bytea,
	scram_server_key bytea,
	apop_secret      text NOT NULL DEFAULT '',
	disabled         boolean NOT NULL DEFAULT false,
	no_mail          boolean NOT NULL DEFAULT false,
	expires          bigint NOT NULL DEFAULT 0, -- Unix nanoseconds; 0 = never
	admin            boolean NOT NULL DEFAULT false,
	quota_storage    bigint, -- NULL: the site default; -1: no limit
	quota_messages   bigint,
	created          bigint NOT NULL -- Unix nanoseconds
);

-- A mailbox ID is never reused (a sequence), so a session holding the ID
-- of a deleted mailbox can never reach its namesake. The row is the lock
-- that orders a mailbox's writers on every node: UIDs and MODSEQs are
-- taken from it by an UPDATE, so they follow commit order.
CREATE TABLE mailbox (
	id            bigserial PRIMARY KEY,
	account       bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name          text NOT NULL,
	uidvalidity   bigint NOT NULL,
	uidnext       bigint NOT NULL,
	highestmodseq bigint NOT NULL,
	special_use   text NOT NULL DEFAULT '',
	first_recent  bigint NOT NULL DEFAULT 1,
	expunge_floor bigint NOT NULL DEFAULT 0,
	used_octets   bigint NOT NULL DEFAULT 0,
	used_messages bigint NOT NULL DEFAULT 0,
	UNIQUE (account, name)
);

CREATE TABLE subscription (
	account bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name    text NOT NULL,
	PRIMARY KEY (account, name)
);

-- One row per stored body. body names it in the body store (the database's
-- body_chunk table, or a file); the structure (part), the OpenVMS envelope
-- (vms, JSON) and the foreign mark describe it, so COPY shares them.
CREATE TABLE content (
	id           bigserial PRIMARY KEY,
	body         text NOT NULL UNIQUE,
	size         bigint NOT NULL,
	sha256       bytea NOT NULL,
	part         bytea,
	vms          bytea,
	is_foreign   boolean NOT NULL DEFAULT false,
	foreign_head bytea
);

-- Bodies kept in the database, in chunks (body.Bodies): body_head is
-- written first, then the chunks, in their own transaction before the
-- message is indexed; Reclaim removes a head no content row names once
-- it is older than the grace, and with it its chunks.
CREATE TABLE body_head (
	name    text PRIMARY KEY,
	size    bigint NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE body_chunk (
	name text NOT NULL REFERENCES body_head(name) ON DELETE CASCADE,
	seq  integer NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (name, seq)
);

-- A message in a mailbox. id is the EmailID: a sequence never reuses it;
-- MOVE updates the row (keeping it), COPY inserts one (a new one).
CREATE TABLE message (
	id            bigserial PRIMARY KEY,
	mailbox       bigint NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid           bigint NOT NULL,
	modseq        bigint NOT NULL,
	flags         text[] NOT NULL DEFAULT '{}',
	seen          boolean NOT NULL DEFAULT false,
	deleted       boolean NOT NULL DEFAULT false,
	internal_date bigint NOT NULL, -- Unix nanoseconds
	internal_zone integer NOT NULL DEFAULT 0, -- seconds east of UTC
	size          bigint NOT NULL,
	content       bigint NOT NULL REFERENCES content(id),
	import_key    text,
	retrieved     bigint NOT NULL DEFAULT 0, -- Unix nanoseconds; 0 = never
	pop3_uidl     text, -- the POP3 unique-id it was imported with (store.UIDLKeeper)
	UNIQUE (mailbox, uid)
);
CREATE INDEX message_modseq ON message(mailbox, modseq);
CREATE INDEX message_content ON message(content);
CREATE UNIQUE INDEX message_import_key ON message(mailbox, import_key) WHERE import_key IS NOT NULL;

-- Usage per mailbox (RFC 9208 QUOTA), exact at every commit.
CREATE FUNCTION message_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE mailbox SET used_octets = used_octets - OLD.size, used_messages = used_messages - 1 WHERE id = OLD.mailbox;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE mailbox SET used_octets = used_octets + NEW.size, used_messages = used_messages + 1 WHERE id = NEW.mailbox;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER message_usage_insert_delete AFTER INSERT OR DELETE ON message
	FOR EACH ROW EXECUTE FUNCTION message_usage();
CREATE TRIGGER message_usage_move AFTER UPDATE OF mailbox ON message
	FOR EACH ROW WHEN (OLD.mailbox <> NEW.mailbox) EXECUTE FUNCTION message_usage();

-- The search index (docs/architecture.md "Search index"), written with
-- the content row, in the folded and index forms of internal/search and
-- compared octet for octet with position() on bytea, as the scan
-- compares. search_env: the envelope keys' folded texts (NULL: field
-- absent), the kept raw header fields (store.HeaderKeeper), and text,
-- whether search_text holds the message's text (false: too large).
CREATE TABLE search_env (
	content      bigint PRIMARY KEY REFERENCES content(id) ON DELETE CASCADE,
	kept         bytea,
	text         boolean NOT NULL,
	from_text    bytea,
	to_text      bytea,
	cc_text      bytea,
	bcc_text     bytea,
	subject_text bytea
);
CREATE TABLE search_field (
	content bigint NOT NULL REFERENCES content(id) ON DELETE CASCADE,
	name    text NOT NULL,
	value   bytea NOT NULL
);
CREATE INDEX search_field_content ON search_field(content, name);
CREATE TABLE search_text (
	content bigint PRIMARY KEY REFERENCES content(id) ON DELETE CASCADE,
	hdr     bytea NOT NULL,
	body    bytea NOT NULL
);

-- Sieve scripts (RFC 5228), at most one active per account, and the
-- vacation log (RFC 5230 §4.2): until is when a response stops covering
-- its key (Unix nanoseconds).
CREATE TABLE sieve_script (
	account bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name    text NOT NULL,
	content text NOT NULL,
	active  boolean NOT NULL DEFAULT false,
	PRIMARY KEY (account, name)
);
CREATE UNIQUE INDEX sieve_script_active ON sieve_script(account) WHERE active;
CREATE TABLE sieve_vacation (
	account bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	key     text NOT NULL,
	until   bigint NOT NULL,
	PRIMARY KEY (account, key)
);

-- DKIM signing keys (RFC 6376), one per domain and selector.
CREATE TABLE dkim_key (
	domain      text NOT NULL, -- lower case
	selector    text NOT NULL, -- lower case
	algorithm   text NOT NULL, -- rsa | ed25519
	private_key bytea NOT NULL, -- PKCS #8 DER
	created     bigint NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (domain, selector)
);

-- The expunge log (RFC 7162 QRESYNC).
CREATE TABLE expunged (
	mailbox bigint NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid     bigint NOT NULL,
	modseq  bigint NOT NULL,
	at      bigint NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (mailbox, uid)
);
CREATE INDEX expunged_modseq ON expunged(mailbox, modseq);
CREATE INDEX expunged_at ON expunged(at);
`,
	// Version 2: RFC 5464 metadata (store.MetadataKeeper): mailbox 0 is
	// the account's server entries; a mailbox's entries are removed with
	// it by the trigger (0 cannot reference mailbox).
	`
CREATE TABLE metadata (
	account bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	mailbox bigint NOT NULL, -- mailbox.id, or 0 for the server
	name    text NOT NULL,   -- lower case, /private/… or /shared/…
	value   bytea NOT NULL,
	PRIMARY KEY (account, mailbox, name)
);
CREATE FUNCTION mailbox_metadata_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM metadata WHERE account = OLD.account AND mailbox = OLD.id;
	RETURN NULL;
END $$;
CREATE TRIGGER mailbox_metadata_delete AFTER DELETE ON mailbox
	FOR EACH ROW EXECUTE FUNCTION mailbox_metadata_delete();
`,
	// Version 3: the account source that owns each name (issue 22,
	// store.Account.Source); every account made before it is local.
	`ALTER TABLE account ADD COLUMN source text NOT NULL DEFAULT 'local';`,
	// Version 4: the outbound SMTP queue (store.OutboundQueue, issue 18):
	// a message is leased to one node at a time (lease_owner, lease_until,
	// Unix nanoseconds; '' and 0 when free); its body in chunks.
	`
CREATE TABLE queue_msg (
	id           text PRIMARY KEY,
	created      bigint NOT NULL,
	next_attempt bigint NOT NULL,
	size         bigint NOT NULL,
	envelope     bytea NOT NULL,
	lease_owner  text NOT NULL DEFAULT '',
	lease_until  bigint NOT NULL DEFAULT 0
);
CREATE INDEX queue_msg_order ON queue_msg(created, id);
CREATE TABLE queue_chunk (
	id   text NOT NULL REFERENCES queue_msg(id) ON DELETE CASCADE,
	seq  integer NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (id, seq)
);
`,
	// Version 5: RFC 8514 SAVEDATE (store.SaveDateKeeper): saved is when
	// the message was saved in its mailbox (APPEND, delivery, import,
	// COPY, MOVE), Unix nanoseconds; NULL for messages stored before this
	// version, whose save date is not known.
	`
ALTER TABLE message ADD COLUMN saved bigint;
`,
	// Version 6: trigram indexes (pg_trgm) for SEARCH BODY and TEXT over
	// search_text, as the SQLite store's FTS5 trigram table (issue 18,
	// docs/scale-out.md "Search"). The index forms are valid UTF-8
	// (search.IndexText), read as text by an immutable function. Without
	// pg_trgm, or in a database whose encoding is not UTF8, the indexes
	// are left out with a warning and SEARCH BODY/TEXT compare every
	// index row of the mailbox (Store.trigram says which).
	`
CREATE FUNCTION postern_index_text(bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT convert_from($1, 'UTF8') $$;
DO $$
BEGIN
	IF current_setting('server_encoding') <> 'UTF8' THEN
		RAISE WARNING 'postern: database encoding is not UTF8: no trigram index for SEARCH BODY/TEXT';
		RETURN;
	END IF;
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'postern: pg_trgm is not available (%): no trigram index for SEARCH BODY/TEXT', SQLERRM;
		RETURN;
	END;
	CREATE INDEX search_text_body_trgm ON search_text USING gin (postern_index_text(body) gin_trgm_ops);
	CREATE INDEX search_text_hdr_trgm ON search_text USING gin (postern_index_text(hdr) gin_trgm_ops);
END $$;
`,
	// Version 7: RFC 8970 PREVIEW (issue 14, store.PreviewKeeper): the
	// preview of the content (search.Preview), computed when it is
	// stored; NULL for contents stored before this version, until the
	// first FETCH PREVIEW keeps one.
	`
ALTER TABLE content ADD COLUMN preview text;
`,
	// Version 8: RFC 8474 THREADID (issue 14, store.ThreadKeeper), as the
	// SQLite store's version 22: message.thread (NULL before this
	// version) and thread_key, from each message ID an account's messages
	// carried or referred to, to its thread.
	`
ALTER TABLE message ADD COLUMN thread bigint;
CREATE TABLE thread_key (
	account bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	msgid   text NOT NULL,
	thread  bigint NOT NULL,
	PRIMARY KEY (account, msgid)
);
`,
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int { return len(migrations) }

// migrationLock is the advisory lock key that serialises migrations of
// one database between nodes starting together.
const migrationLock = 0x706f7374_65726e01

// migrate brings the database to the newest schema version, one version
// per transaction under an advisory lock, and refuses a database written
// by a newer program.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrateWith(ctx, pool, migrations)
}

// migrateWith applies the versions of list the database lacks.
func migrateWith(ctx context.Context, pool *pgxpool.Pool, list []string) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	version, err := readVersion(ctx, conn.Conn())
	if err != nil {
		return err
	}
	if version > len(list) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", version, len(list))
	}
	for v := version; v < len(list); v++ {
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, list[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (`+fmt.Sprint(v+1)+`)`)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate database to schema version %d: %w", v+1, err)
		}
	}
	return nil
}

// readVersion returns the schema version of the database (0 when new).
func readVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
