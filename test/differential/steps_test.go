package differential

// knownBugs are differences that are bugs in Postern, by case name, each
// with what the RFC requires. Their cases are logged instead of failing.
var knownBugs = map[string]string{
	// None open. Fixed: "lsub-percent-parent", "list-after-delete" and
	// "list-stale-subscription-parent" (LSUB/LIST and subscriptions to
	// names that do not exist; transcript list-subscriptions.txtar).
}

// allowed are cases where the servers differ and the RFCs allow both
// answers. The difference is logged, not failed; each case is kept narrow
// (one message, one item) so that it hides nothing else.
var allowed = map[string]string{
	// RFC 5258 §4: the child attributes are the CHILDREN return
	// option's, and "a server MAY provide it even if the option is not
	// specified". Postern always does; Dovecot only when asked, in an
	// extended LIST. The special-use attributes agree.
	"list-special-use-select": "\\HasNoChildren without RETURN (CHILDREN): Postern sends it, Dovecot not",
	"list-special-use-return": "\\HasNoChildren without RETURN (CHILDREN): Postern sends it, Dovecot not",
	// RFC 5322 §3.2.2: comments carry no meaning, and RFC 9051 §7.5.2
	// takes the personal name from the display-name phrase. Both servers
	// borrow a comment when there is no phrase (message 9's
	// "hidden@example.org (Hidden Person)" agrees); Postern also borrows
	// a leading one, Dovecot only a trailing one. A heuristic either way.
	"fetch-envelope-leading-comment": "a leading comment as the personal name: Postern uses it, Dovecot does not",
	// The same leading comment is message 8's display name, so DISPLAYFROM
	// (RFC 5957 §2: the display-name, else the address) sorts it as "a
	// comment" in Postern and as "older@example.org" in Dovecot.
	"sort-displayfrom-corpus": "message 8's leading comment as its display name, as in fetch-envelope-leading-comment",
	// Neither RFC 3501 §6.4.5 nor RFC 9051 §6.4.5 says what a section
	// that does not exist returns: Dovecot sends "", Postern NIL.
	"fetch-missing-part":    "a part that does not exist is NIL (Postern) or \"\" (Dovecot)",
	"fetch-missing-subpart": "a part that does not exist is NIL (Postern) or \"\" (Dovecot)",
	// RFC 3501 §2.3.2: \Recent "can not be altered by the client"; how
	// a server refuses is not said. Dovecot answers BAD, Postern ignores
	// the flag and stores the rest.
	"store-recent": "STORE \\Recent: BAD (Dovecot) or ignored (Postern)",
	// RFC 3501 §6.4.4 defines SENT* by the Date header; for a message
	// whose Date is missing or unparsable it says nothing. Dovecot treats
	// such a date as the epoch (so messages 9 and 10 are "before"
	// anything), Postern matches them with no SENT* key.
	"search-sentbefore-no-date": "messages without a usable Date: before everything (Dovecot) or never matched (Postern)",
}

// deviation is what the RFC requires where Dovecot answers otherwise:
// Postern is compared with want (canonical lines, see canonicalize).
type deviation struct {
	why  string
	want []string
}

// dovecotDeviations are cases where Dovecot is wrong.
var dovecotDeviations = map[string]deviation{
	// RFC 5051 §2 decomposes with UnicodeData.txt's decomposition field,
	// which Hangul syllables lack (theirs is algorithmic): U+AC00 stays
	// whole and sorts after the jamo U+1101. Dovecot decomposes it into
	// U+1100 U+1161, before U+1101.
	"sort-subject-hangul": {
		why:  "RFC 5051 §2: Hangul syllables have no decomposition mapping in UnicodeData.txt",
		want: []string{"TAGGED OK", "SORT 22 21"},
	},
	// RFC 2046 §5.1.1: the CRLF before a boundary belongs to the
	// boundary. Message 11's first part is a multipart/alternative whose
	// close-delimiter is followed directly by the outer "\r\n--outer":
	// that CRLF is the outer delimiter's, so the part ends at
	// "--inner--". Dovecot includes the CRLF in the part.
	"fetch-multipart-part": {
		why: "RFC 2046 §5.1.1: the CRLF before --outer belongs to the outer boundary",
		want: []string{"TAGGED OK", "11 FETCH BINARY.SIZE[1] 140",
			`11 FETCH BODY[1] "--inner\r\nContent-Type: text/plain\r\n\r\nplain alternative\r\n--inner\r\nContent-Type: text/enriched\r\n\r\n<bold>enriched</bold> alternative\r\n--inner--"`},
	},
	// RFC 3501 §9 and RFC 9051 §9: partial = "<" number "." nz-number ">";
	// a length of 0 is a syntax error. Dovecot answers <0.0> with an empty
	// string. (A partial with no length, <5>, is "from octet 5 to the
	// end" on both servers: Postern accepts it as Dovecot does, see
	// docs/imap.md, so fetch-partial-no-length is compared strictly.)
	"fetch-partial-zero-length": {
		why:  "RFC 9051 §9 partial: the length is nz-number",
		want: []string{"TAGGED BAD"},
	},
	// RFC 3501 §6.3.2: after EXAMINE "no changes to the permanent state of
	// the mailbox, including per-user state, are permitted". Dovecot
	// answers OK (and changes nothing); NO tells the client the truth.
	"store-read-only": {
		why:  "RFC 3501 §6.3.2: EXAMINE permits no changes",
		want: []string{"TAGGED NO"},
	},
}

// readSteps run on alice's INBOX, opened read-only.
var readSteps = []step{
	{"examine", "EXAMINE INBOX"},
	{"fetch-fast", "FETCH 1:* (UID RFC822.SIZE FLAGS INTERNALDATE)"},
	{"fetch-envelope", "FETCH 1:7,9:12 ENVELOPE"},
	{"fetch-envelope-leading-comment", "FETCH 8 ENVELOPE"},
	{"fetch-envelope-routes", "FETCH 13 ENVELOPE"},
	{"fetch-bodystructure", "FETCH 1:* BODYSTRUCTURE"},
	{"fetch-body", "FETCH 1:* BODY"},
	{"fetch-full-message", "FETCH 1:* BODY.PEEK[]"},
	{"fetch-header", "FETCH 1:* BODY.PEEK[HEADER]"},
	{"fetch-text", "FETCH 1:* BODY.PEEK[TEXT]"},
	{"fetch-header-fields", "FETCH 1:* BODY.PEEK[HEADER.FIELDS (From Subject X-Long x-empty)]"},
	{"fetch-header-fields-not", "FETCH 1:* BODY.PEEK[HEADER.FIELDS.NOT (To Cc Date Received)]"},
	{"fetch-part1", "FETCH 1:10,12 BODY.PEEK[1]"},
	{"fetch-multipart-part", "FETCH 11 (BODY.PEEK[1] BINARY.SIZE[1])"},
	{"fetch-part1-mime", "FETCH 1:* BODY.PEEK[1.MIME]"},
	{"fetch-rfc822-items", "FETCH 1:3 (RFC822.HEADER RFC822.TEXT)"},
	{"fetch-rfc822", "FETCH 4 RFC822"},
	{"fetch-macros", "FETCH 2 FULL"},
	{"fetch-macro-all", "FETCH 3 ALL"},
	{"fetch-macro-fast", "FETCH 4 FAST"},
	{"fetch-alternative-parts", "FETCH 2 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[1.MIME] BODY.PEEK[2.MIME])"},
	{"fetch-attachment", "FETCH 3 (BODY.PEEK[2] BODY.PEEK[2.MIME])"},
	{"fetch-binary-base64", "FETCH 3 (BINARY.PEEK[2] BINARY.SIZE[2])"},
	{"fetch-binary-qp", "FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[2])"},
	{"fetch-binary-8bit", "FETCH 5 (BINARY.PEEK[1] BINARY.SIZE[1])"},
	{"fetch-binary-size-all", "FETCH 1:10,12 BINARY.SIZE[1]"},
	{"fetch-binary-whole", "FETCH 1 (BINARY.PEEK[] BINARY.SIZE[])"},
	{"fetch-rfc822-part", "FETCH 4 (BODY.PEEK[2] BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1] BODY.PEEK[2.MIME])"},
	{"fetch-rfc822-part-fields", "FETCH 4 (BODY.PEEK[2.HEADER.FIELDS (Subject)] BODY.PEEK[2.HEADER.FIELDS.NOT (Subject)])"},
	{"fetch-nested", "FETCH 11 (BODY.PEEK[1.1] BODY.PEEK[1.2] BODY.PEEK[1.2.MIME] BODY.PEEK[2] BODY.PEEK[2.MIME] BODY.PEEK[3])"},
	{"fetch-nested-binary", "FETCH 11 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[3] BINARY.SIZE[3] BINARY.SIZE[1.1])"},
	{"fetch-partial", "FETCH 12 (BODY.PEEK[]<0.100> BODY.PEEK[TEXT]<10.20> BODY.PEEK[1]<44.44>)"},
	{"fetch-partial-beyond-end", "FETCH 12 BODY.PEEK[]<100000.100>"},
	{"fetch-partial-zero-length", "FETCH 12 BODY.PEEK[TEXT]<0.0>"},
	{"fetch-partial-header", "FETCH 1 BODY.PEEK[HEADER]<0.10>"},
	{"fetch-partial-fields", "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]<2.8>"},
	{"fetch-partial-binary", "FETCH 2 BINARY.PEEK[1]<5.10>"},
	{"fetch-partial-part", "FETCH 3 (BODY.PEEK[2]<10.20> BINARY.PEEK[2]<3.5>)"},
	{"fetch-partial-no-length", "FETCH 1 BODY.PEEK[TEXT]<5>"},
	{"fetch-header-fields-empty", "FETCH 1 BODY.PEEK[HEADER.FIELDS ()]"},
	{"fetch-header-fields-absent", "FETCH 1:3 BODY.PEEK[HEADER.FIELDS (X-Nosuch)]"},
	{"fetch-header-fields-folded", "FETCH 6 BODY.PEEK[HEADER.FIELDS (To SUBJECT)]"},
	{"fetch-rfc822-inner-parts", "FETCH 4 (BODY.PEEK[2.1.MIME] BODY.PEEK[2.1]<0.10>)"},
	{"fetch-missing-part", "FETCH 1 BODY.PEEK[3]"},
	{"fetch-missing-subpart", "FETCH 2 BODY.PEEK[1.5]"},
	{"fetch-sequence-set", "FETCH 1,3,5:7 UID"},
	{"fetch-star-range", "FETCH *:10 UID"},
	{"fetch-star", "FETCH * UID"},
	{"uid-fetch-all", "UID FETCH 1:* FLAGS"},
	{"uid-fetch-reversed", "UID FETCH 5:3 UID"},
	{"uid-fetch-star-beyond", "UID FETCH 100:* UID"},
	{"uid-fetch-missing", "UID FETCH 20 UID"},
	{"uid-fetch-star-star", "UID FETCH *:* UID"},
	{"uid-fetch-set", "UID FETCH 2,4:5,12:* (FLAGS RFC822.SIZE)"},
	// SORT and THREAD on this mail too: odd and missing dates, encoded
	// subjects (dave's mail has the rest, sortSteps).
	{"sort-date-corpus", "SORT (DATE) UTF-8 ALL"},
	{"sort-subject-corpus", "SORT (SUBJECT REVERSE ARRIVAL) UTF-8 ALL"},
	{"sort-displayfrom-corpus", "SORT (DISPLAYFROM) UTF-8 ALL"},
	{"thread-references-corpus", "THREAD REFERENCES UTF-8 ALL"},
	// Errors: only OK/NO/BAD is compared.
	{"fetch-beyond-exists", "FETCH 13 UID"},
	{"fetch-zero", "FETCH 0 UID"},
	{"fetch-bad-set", "FETCH 1:x UID"},
	{"fetch-bad-item", "FETCH 1 FROBNICATE"},
	{"fetch-unclosed-list", "FETCH 1 (UID FLAGS"},
	{"fetch-bad-section", "FETCH 1 BODY.PEEK[FOO]"},
	{"unknown-command", "FROBNICATE"},
	{"uid-unknown", "UID FROBNICATE 1"},
	{"store-read-only", "STORE 1 +FLAGS (\\Flagged)"},
	// SEARCH.
	{"search-all", "SEARCH ALL"},
	{"search-text", "SEARCH TEXT xylophone"},
	{"search-text-header", "SEARCH TEXT \"list.example.org\""},
	{"search-body", "SEARCH BODY zebra"},
	{"search-body-case", "SEARCH BODY XYLOPHONE"},
	{"search-body-header-only", "SEARCH BODY \"plain text message\""},
	{"search-body-inner-message", "SEARCH BODY \"Inner body line\""},
	{"search-from", "SEARCH FROM bob"},
	{"search-from-domain", "SEARCH FROM example.net"},
	{"search-from-display-name", "SEARCH FROM \"Quoted, Name\""},
	{"search-from-encoded-name", "SEARCH CHARSET UTF-8 FROM " + literal("Müller")},
	{"search-to", "SEARCH TO a9@example.org"},
	{"search-cc-group", "SEARCH CC eve"},
	{"search-bcc", "SEARCH BCC hidden"},
	{"search-subject", "SEARCH SUBJECT \"odd date\""},
	{"search-subject-folded", "SEARCH SUBJECT \"folded over several lines\""},
	{"search-subject-encoded", "SEARCH CHARSET UTF-8 SUBJECT " + literal("Grüße")},
	{"search-subject-latin1", "SEARCH CHARSET UTF-8 SUBJECT " + literal("café et crème")},
	{"search-body-latin1", "SEARCH CHARSET UTF-8 BODY " + literal("café crème")},
	{"search-body-qp", "SEARCH CHARSET UTF-8 BODY " + literal("Grüße aus München")},
	{"search-body-qp-soft-break", "SEARCH BODY \"einem weichen Zeilenumbruch\""},
	{"search-header", "SEARCH HEADER X-Long 0123456789"},
	{"search-header-empty-value", "SEARCH HEADER X-Empty \"\""},
	{"search-header-present", "SEARCH HEADER Message-ID \"\""},
	{"search-header-from-name", "SEARCH HEADER From \"Bob Example\""},
	{"search-uid-star", "SEARCH UID *"},
	{"search-not-not", "SEARCH NOT NOT SUBJECT odd"},
	{"search-since-internal", "SEARCH SINCE 1-Jan-2026"},
	{"search-header-content-type", "SEARCH HEADER Content-Type multipart"},
	{"search-larger", "SEARCH LARGER 1000"},
	{"search-smaller", "SEARCH SMALLER 300"},
	{"search-larger-exact", "SEARCH LARGER 5000"},
	{"search-sentbefore", "SEARCH SENTBEFORE 1-Jan-2002 NOT 9:10"},
	{"search-sentbefore-2digit", "SEARCH SENTBEFORE 1-Jan-1995 NOT 9:10"},
	{"search-sentbefore-no-date", "SEARCH SENTBEFORE 1-Jan-1995"},
	{"search-sentsince", "SEARCH SENTSINCE 25-Nov-2026"},
	{"search-senton", "SEARCH SENTON 24-Nov-2026"},
	{"search-senton-zone", "SEARCH SENTON 28-Nov-2026"},
	{"search-senton-est", "SEARCH SENTON 1-Jan-2001"},
	{"search-before", "SEARCH BEFORE 1-Jan-2000"},
	{"search-since", "SEARCH SINCE 1-Jan-2000"},
	{"search-or", "SEARCH OR FROM bob FROM carol"},
	{"search-not", "SEARCH NOT FROM example.org"},
	{"search-nested", "SEARCH OR (FROM bob SUBJECT plain) (NOT SMALLER 1000)"},
	{"search-seqset", "SEARCH 2:4 NOT 3"},
	{"search-seqset-star", "SEARCH 10:*"},
	{"search-seqset-reversed", "SEARCH 5:2"},
	{"search-uid-range", "SEARCH UID 3:*"},
	{"search-uid-star-beyond", "SEARCH UID 20:*"},
	{"search-uid-set", "SEARCH UID 1,3,11:12"},
	{"uid-search", "UID SEARCH SUBJECT odd"},
	{"search-seen", "SEARCH SEEN"},
	{"search-unseen", "SEARCH UNSEEN"},
	// \Recent (RFC 3501 §2.3.2): EXAMINE sees the unclaimed messages as
	// recent without claiming them.
	{"search-recent", "SEARCH RECENT"},
	{"search-new", "SEARCH NEW"},
	{"search-old", "SEARCH OLD"},
	{"search-recent-seen", "SEARCH RECENT SEEN"},
	{"search-keyword", "SEARCH KEYWORD $Label1"},
	{"search-unkeyword", "SEARCH UNKEYWORD $Label1"},
	{"search-esearch", "SEARCH RETURN (MIN MAX COUNT) FROM example.org"},
	{"search-esearch-all", "SEARCH RETURN (ALL) NOT SUBJECT odd"},
	{"search-esearch-empty", "SEARCH RETURN () SUBJECT nonexistentthing"},
	{"uid-search-esearch", "UID SEARCH RETURN (COUNT ALL) SMALLER 400"},
	{"search-bad-key", "SEARCH FROBNICATE"},
	{"search-bad-charset", "SEARCH CHARSET X-UNKNOWN-CHARSET TEXT a"},
	{"search-bad-date", "SEARCH SINCE 32-Foo-2020"},
	{"search-missing-arg", "SEARCH FROM"},
	// Mailbox listing (the default mailboxes only).
	{"list-star", "LIST \"\" *"},
	{"list-percent", "LIST \"\" %"},
	{"list-empty-name", "LIST \"\" \"\""},
	{"list-inbox-case", "LIST \"\" inbox"},
	{"list-prefix", "LIST \"\" J*"},
	{"list-missing", "LIST \"\" nope"},
	{"lsub-star", "LSUB \"\" *"},
	{"namespace", "NAMESPACE"},
	{"status-inbox", "STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"},
	{"status-inbox-recent", "STATUS INBOX (MESSAGES RECENT)"},
	{"status-other", "STATUS Junk (MESSAGES UIDNEXT UNSEEN)"},
	{"status-missing", "STATUS Nope (MESSAGES)"},
	{"status-bad-item", "STATUS INBOX (FROBNICATE)"},
	{"noop", "NOOP"},
	{"check", "CHECK"},
	{"close-read-only", "CLOSE"},
	{"fetch-after-close", "FETCH 1 UID"},
}

// writeSteps run on bob's INBOX and change it.
var writeSteps = []step{
	{"select", "SELECT INBOX"},
	{"status-recent-selected", "STATUS INBOX (MESSAGES RECENT)"},
	{"status-recent-other", "STATUS Junk (MESSAGES RECENT)"},
	{"store-add", "STORE 1 +FLAGS (\\Flagged)"},
	{"store-replace", "STORE 2 FLAGS (\\Seen $Label1)"},
	{"store-remove-silent", "STORE 2:3 -FLAGS.SILENT (\\Seen)"},
	{"uid-store", "UID STORE 4 +FLAGS (\\Answered)"},
	{"store-keyword-new", "STORE 5 +FLAGS ($Another)"},
	{"store-recent", "STORE 6 +FLAGS (\\Recent)"},
	{"store-bad-flags", "STORE 1 +FLAGS \\Seen)"},
	{"store-bad-op", "STORE 1 XFLAGS (\\Seen)"},
	{"fetch-flags-after-store", "FETCH 1:6 FLAGS"},
	{"fetch-sets-seen", "FETCH 6 BODY[1]"},
	{"fetch-sets-seen-again", "FETCH 6 (FLAGS BODY[HEADER.FIELDS (Subject)])"},
	{"fetch-rfc822-text-sets-seen", "FETCH 7 RFC822.TEXT"},
	{"fetch-rfc822-header-no-seen", "FETCH 8 (RFC822.HEADER FLAGS)"},
	{"search-flagged", "SEARCH FLAGGED"},
	{"search-keyword-set", "SEARCH KEYWORD $Label1"},
	{"search-unkeyword-set", "SEARCH UNKEYWORD $Label1"},
	{"search-answered", "SEARCH ANSWERED"},
	{"search-seen-after", "SEARCH SEEN"},
	{"search-unseen-after", "SEARCH UNSEEN"},
	{"search-or-flags", "SEARCH OR FLAGGED ANSWERED"},
	{"search-new-after", "SEARCH NEW"},
	{"search-old-after", "SEARCH OLD"},
	{"create", "CREATE Archive"},
	{"create-child", "CREATE Archive/2026"},
	{"create-exists", "CREATE Archive"},
	{"create-inbox", "CREATE INBOX"},
	{"copy", "COPY 1:3 Archive"},
	{"uid-copy", "UID COPY 4,6 Archive/2026"},
	{"status-copies-recent", "STATUS Archive (MESSAGES RECENT)"},
	{"copy-missing-mailbox", "COPY 1 Nonexistent"},
	{"copy-missing-message", "UID COPY 99 Archive"},
	{"move", "MOVE 7 Archive"},
	{"uid-move", "UID MOVE 9:10 Archive/2026"},
	{"move-missing-mailbox", "MOVE 1 Nonexistent"},
	{"fetch-after-move", "FETCH 1:* (UID FLAGS)"},
	{"status-archive", "STATUS Archive (MESSAGES UIDNEXT UNSEEN)"},
	{"status-child", "STATUS Archive/2026 (MESSAGES UIDNEXT UNSEEN)"},
	{"status-selected", "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)"},
	{"store-deleted", "STORE 2,4,6 +FLAGS.SILENT (\\Deleted)"},
	{"search-deleted", "SEARCH DELETED"},
	{"expunge", "EXPUNGE"},
	{"fetch-after-expunge", "FETCH 1:* (UID FLAGS)"},
	{"store-deleted-2", "STORE 1:2 +FLAGS.SILENT (\\Deleted)"},
	{"uid-expunge", "UID EXPUNGE 3"},
	{"fetch-after-uid-expunge", "FETCH 1:* UID"},
	{"append", "APPEND INBOX (\\Seen $Appended) \"01-Jan-2020 10:00:00 +0100\" " + literal(appended)},
	{"fetch-appended", "FETCH * (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"},
	{"search-recent-after-append", "SEARCH RECENT"},
	{"search-before", "SEARCH BEFORE 2-Jan-2020"},
	{"search-on", "SEARCH ON 1-Jan-2020"},
	{"search-since", "SEARCH SINCE 2-Jan-2020"},
	{"uid-search-appended", "UID SEARCH KEYWORD $Appended"},
	{"append-missing-mailbox", "APPEND Nonexistent " + literal(appended)},
	{"append-bad-date", "APPEND INBOX \"31-Foo-2020 10:00:00 +0100\" " + literal(appended)},
	{"append-binary", "APPEND INBOX " + literal8(binaryAppended)},
	{"fetch-binary-appended", "FETCH * (RFC822.SIZE BINARY.SIZE[] BINARY.PEEK[] BINARY.SIZE[1] BINARY.PEEK[1] BODY.PEEK[1] BINARY.PEEK[2])"},
	{"fetch-binary-appended-body", "FETCH * BODY.PEEK[]"},
	{"multiappend-binary", "APPEND INBOX " + literal8(binaryAppended) + " (\\Seen) " + literal8(binaryAppended)},
	{"fetch-multiappended-binary", "FETCH * (FLAGS BINARY.SIZE[1] BINARY.PEEK[1])"},
	{"subscribe", "SUBSCRIBE Archive"},
	{"list-after-create", "LIST \"\" *"},
	{"list-percent-after-create", "LIST \"\" %"},
	{"list-child-percent", "LIST \"\" Archive/%"},
	{"list-reference", "LIST Archive/ %"},
	{"list-prefix-star", "LIST \"\" Arch*"},
	{"lsub-after-subscribe", "LSUB \"\" *"},
	{"subscribe-child", "SUBSCRIBE Archive/2026"},
	{"unsubscribe-parent", "UNSUBSCRIBE Archive"},
	{"lsub-percent-parent", "LSUB \"\" %"},
	{"select-archive", "SELECT Archive"},
	{"fetch-archive", "FETCH 1:* (UID FLAGS ENVELOPE)"},
	{"search-archive", "SEARCH ALL"},
	{"expunge-nothing", "EXPUNGE"},
	{"store-deleted-archive", "STORE 1 +FLAGS.SILENT (\\Deleted)"},
	{"close-expunges-silently", "CLOSE"},
	{"status-after-close", "STATUS Archive (MESSAGES UIDNEXT)"},
	{"examine-inbox", "EXAMINE INBOX"},
	{"unselect", "UNSELECT"},
	{"rename", "RENAME Archive/2026 Archive/Y2026"},
	{"list-after-rename", "LIST \"\" Archive/*"},
	{"status-renamed", "STATUS Archive/Y2026 (MESSAGES UIDNEXT)"},
	{"rename-missing", "RENAME Nope Other"},
	{"create-other", "CREATE Other"},
	{"rename-onto-existing", "RENAME Archive Other"},
	{"delete-child", "DELETE Archive/Y2026"},
	{"list-stale-subscription-parent", "LIST \"\" Archive*"},
	{"delete-parent", "DELETE Archive"},
	{"delete-missing", "DELETE Archive"},
	{"delete-inbox", "DELETE INBOX"},
	{"list-after-delete", "LIST \"\" *"},
	{"lsub-after-delete", "LSUB \"\" *"},
	{"select-missing", "SELECT Nope"},
	{"fetch-unselected", "FETCH 1 UID"},
	// SPECIAL-USE (RFC 6154 §2, with LIST-EXTENDED's selection and return
	// options) on the special mailboxes both servers create.
	{"list-special-use-select", "LIST (SPECIAL-USE) \"\" *"},
	{"list-special-use-return", "LIST \"\" % RETURN (SPECIAL-USE)"},
	// METADATA (RFC 5464) on a mailbox; Dovecot keeps it in
	// mail_attribute_dict (servers_test.go).
	{"select-for-metadata", "SELECT INBOX"},
	{"setmetadata", "SETMETADATA INBOX (/private/comment \"hello\" /shared/Comment " + literal("world") + ")"},
	{"getmetadata", "GETMETADATA INBOX (/private/comment /shared/comment /private/nosuch)"},
	{"getmetadata-depth-infinity", "GETMETADATA (DEPTH infinity) INBOX (/private /shared)"},
	{"getmetadata-depth-1", "GETMETADATA (DEPTH 1) INBOX /private"},
	{"getmetadata-maxsize", "GETMETADATA (MAXSIZE 2) INBOX (/private/comment /shared/comment)"},
	{"setmetadata-nil", "SETMETADATA INBOX (/private/comment NIL /private/nosuch NIL)"},
	{"getmetadata-after-nil", "GETMETADATA INBOX (/private/comment /shared/comment)"},
	{"setmetadata-bad-name", "SETMETADATA INBOX (/bogus \"1\")"},
	{"setmetadata-trailing-slash", "SETMETADATA INBOX (/private/a/ \"1\")"},
	{"getmetadata-wildcard", "GETMETADATA INBOX /private/*"},
	{"getmetadata-bad-depth", "GETMETADATA (DEPTH 2) INBOX /private"},
}
