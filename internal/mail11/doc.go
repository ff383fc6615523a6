// Package mail11 is the OpenVMS Mail view of a message: the header block
// that the POP and IMAP servers of HP TCP/IP Services for OpenVMS built
// from a message's OpenVMS Mail envelope (the VMS From, To, CC and Subj
// fields, the arrival date and the sender's personal name), and the
// address rewriting rules R1–R8 behind it. All references are to
// docs/hp-system.md.
//
// It is a pure package: no I/O, network, logging or clock. It imports only
// the standard library, internal/store (VMSEnvelope) and internal/message.
// DECnet node names are translated through Options.Nodes (the Decnet-Node
// entries) and Options.LookupNode (Decnet-Node-Lookup), which the caller
// provides; the package never queries the DNS. Everything is safe for
// concurrent use.
//
// What it provides:
//   - Classify sorts a VMS address into its class (§3.2) and
//     Options.Rewrite applies the rule of the class (§3.3 R1–R6);
//     Options.RewriteRecipient adds the IMAP recipient rule of R3;
//     Options.FromAddress and FormatAddress add the personal name (R8).
//   - LocalHosts and ParseLocalAliases: the "local host" test that SMTP
//     shares (§3.2, §9).
//   - POPHeader and IMAPHeader: the header block the client sees (§3.1).
//   - Decide: whether a message is served with its own header or the
//     rebuilt one (§3.1, R7). DeriveEnvelope: the envelope of mail that
//     arrives by SMTP, LMTP or deliver (§3.4).
//   - EncodeFolder and DecodeFolder: the folder-name codec (§6.2).
//
// # Serving a message
//
// When Decide says false, the client sees the rebuilt header followed by
// the stored content after its own header block when env.OwnHeader is
// false (an imported VMS message is stored as an empty header block, a
// lone CRLF, then the body), and by the whole stored content when it is
// true: as with the original, whose SMTP put the real headers at the top
// of the body, the real header then shows as the first lines of the body.
// The caller must use the same bytes for every command (sizes, TOP, RETR,
// BODY[HEADER], ENVELOPE, BODYSTRUCTURE): both functions are deterministic
// for the same envelope and options.
//
// # Invariants
//
// Header blocks end every line in CRLF and end with a blank line; no
// stored field can add a line or a field (control characters, CR and LF
// included, become spaces; bytes that are not UTF-8 are read as ISO
// 8859-1); lines are folded at white space to at most 78 characters where
// possible and never exceed 998. Options.Rewrite always returns a valid
// RFC 5322 addr-spec (RFC 6532 UTF-8 allowed), except that RewriteNone
// returns a DECnet address unchanged; it never returns a control
// character. DecodeFolder(EncodeFolder(x)) == x for every non-empty x.
//
// # Decisions on the [INF] items
//
//   - §3.1 Date: POP's "UNIX format" is taken as the RFC 5322 date used by
//     IMAP too: "Wed, 30 May 2001 16:19:53 +0100" (weekday, 4-digit year,
//     numeric zone of the stored time). A zero arrival date gives no Date.
//   - §3.1 Field order: Date, From, To, CC, Subject, X-VMS-From, then the ID
//     fields. Empty To, CC, Subject and ID fields are left out; From is
//     always sent.
//   - §3.1 X-VMS-From is the VMS From as VMS MAIL shows it: the address, and
//     the personal name in quotes when there is one.
//   - §3.1 Subject and X-VMS-From are unstructured: words with non-ASCII
//     characters are RFC 2047-encoded (Q, or B when mostly non-ASCII), for
//     POP as well as IMAP. POP's To and CC, "as stored", are only cleaned.
//   - §3.2 Classification follows the suggested order. A node name is
//     letters, digits, "_", "$", "-"; a user name is a dot-atom without "%".
//     An address that is not valid UTF-8 is first read as ISO 8859-1.
//     A bare "user@host" (no SMTP% prefix) is "all others", not a user name.
//     The "::" of node:: must come before any quote.
//   - §3.2 The host's own name is local, as are Substitute-Domain,
//     Local-Domains and the Local-Aliases-File lines; a "!" anywhere in an
//     aliases line starts a comment.
//   - §3.3 R1 The cent sign is replaced by a double quote wherever it
//     appears (plain substitution), whether stored as UTF-8 or as the ISO
//     8859-1 byte A2. The manual example's output is taken without its two
//     typesetting errors (see the golden test).
//   - §3.3 R1/R4/R5 When the address inside the quotes is not a valid
//     addr-spec (after trying the one in angle brackets), the whole VMS
//     address is rebuilt by R6 rather than put invalid into the header.
//   - §3.3 R2 The GENERIC form, the TRANSFORM fallback, R3, R4 GENERIC and
//     R6 all use one "return host": Gateway-Node (IMAP only), else
//     Substitute-Domain, else Hostname, else "localhost". TRANSFORM to a
//     local host gives user@Substitute-Domain, or user@(translated host)
//     without one. A translation that is not a host name counts as none.
//   - §3.3 R3 IMAP recipients inherit the sender's route when the sender is
//     a DECnet address of any kind but cluster-forwarding (simple, quoted,
//     or a multi-hop route: every leading node:: is the route).
//   - §3.3 R6 Backslashes are escaped as well as double quotes: otherwise a
//     backslash before a quote in the VMS address would end the quoted
//     string early. Control characters become spaces.
//   - §3.3 R8 The personal name is `"Name" <addr>`: a quoted string with
//     "\" and `"` escaped, or RFC 2047 B-encoded words when it holds
//     non-ASCII. A From left unchanged by NONE gets no personal name.
//   - §3.4 DeriveEnvelope adds From as the last sender field, keeps To and
//     CC as SMTP%"…" lists, and uses SMTP%"" when there is no sender at all.
//   - §6.2 The codec follows the table where it disagrees with the prose
//     ("_e", capital after "$$"). A VMS folder named INBOX is "$Inbox".
//     Decoding accepts any letter case and rejects names the encoder cannot
//     produce.
//
// # Differences from the original
//
//   - Ignore-Mail11-Headers applies to POP as well as IMAP and defaults on
//     for both (the caller's configuration): the original POP defaulted off
//     only because its SMTP had to be reconfigured for MIME. The TOP_HEADERS
//     condition is env.OwnHeader, decided per message at import or
//     delivery, instead of a check of the SMTP configuration.
//   - Node translation uses the configured table and an optional lookup
//     instead of the DECnet node database.
//   - Dates have a 4-digit year; non-ASCII subjects are RFC 2047-encoded
//     for POP too (the original sent 8-bit text); 8-bit stored text is
//     read as ISO 8859-1.
//   - Header values are cleaned and folded; invalid addresses are never
//     produced except by NONE, which is invalid by definition.
//   - Other foreign-protocol prefixes (MX%, IN%, PMDF's) are "all others",
//     exactly as in the original: they are quoted at the return host.
package mail11
