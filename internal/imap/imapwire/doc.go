// Package imapwire is the IMAP grammar: it turns the bytes of commands
// into typed values and typed values into the bytes of responses. It knows
// no accounts, mailboxes, locks, logging or clocks, and imports only the
// standard library (internal/deptest enforces this).
//
// # Standards
//
//   - RFC 9051 (IMAP4rev2) §4 data formats and §9 formal syntax, and RFC
//     3501 (IMAP4rev1) §9 for the rev1 forms: RFC822.*, RECENT, NEW, OLD.
//   - RFC 3501 §5.1.3: modified UTF-7 mailbox names, EncodeMUTF7 and the
//     strict DecodeMUTF7, used unless the client enabled IMAP4rev2 or
//     UTF8=ACCEPT (Options.UTF8, EncoderOptions.UTF8).
//   - RFC 7888: LITERAL+ and LITERAL- non-synchronising literals {n+}.
//   - RFC 3516: BINARY, literal8 ~{n}, BINARY[…], BINARY.PEEK, BINARY.SIZE.
//   - RFC 4731 and RFC 9051 §6.4.4: extended SEARCH RETURN options;
//     RFC 5182: SEARCHRES, "$" in a sequence-set and RETURN (SAVE).
//   - RFC 5258, RFC 5819 and RFC 6154: LIST-EXTENDED selection and return
//     options, LIST-STATUS, SPECIAL-USE and CREATE-SPECIAL-USE.
//   - RFC 7162: the CONDSTORE pieces of the grammar (CHANGEDSINCE,
//     UNCHANGEDSINCE, MODSEQ search key, SELECT (CONDSTORE)), with the
//     bounds of §7: a mod-sequence-value is 1 to 2^63-1
//     ([Decoder.ExpectNzModSeq]), a mod-sequence-valzer 0 to 2^63-1
//     ([Decoder.ExpectModSeq]); and the QRESYNC pieces (§3.2): SELECT
//     (QRESYNC (…)) with known-uids and seq-match-data ([QResyncParam]),
//     the VANISHED FETCH modifier and the VANISHED response
//     ([Encoder.Vanished]); RFC 9586 UIDONLY's UIDFETCH response
//     ([Encoder.BeginUIDFetch]) and the message-number test of a search
//     program ([SearchKey.UsesMessageNumbers]); RFC 9585's INPROGRESS
//     response code ([Encoder.InProgress]).
//   - RFC 5256 SORT and THREAD, with RFC 5957's SORT=DISPLAY keys and
//     Dovecot's THREAD=REFS algorithm: ParseSortArgs, ParseThreadArgs,
//     [Encoder.Sort], [Encoder.Thread]; RFC 5267 §3 ESORT, SORT's RETURN
//     options, answered by [Encoder.ESearch] with [SeqSetInOrder]; RFC
//     5267 §4 CONTEXT, UPDATE and PARTIAL ([SearchReturn]), CANCELUPDATE,
//     and the PARTIAL, ADDTO and REMOVEFROM return data ([ESearchData]).
//   - RFC 3502 MULTIAPPEND, RFC 4959 SASL-IR, RFC 5161 ENABLE, RFC 2971 ID,
//     RFC 8508 REPLACE ([ParseReplaceArgs]), RFC 4469 CATENATE
//     ([ParseCatPart]) and the RFC 5092 IMAP URLs it takes ([ParseIMAPURL]).
//
// # Decoding
//
// A [Decoder] reads a *bufio.Reader and keeps the first error it meets
// (a sticky error). Its methods come in two families: methods named after
// a grammar element (SP, Atom, AString, SeqSet…) return false without
// recording anything when the input holds something else, so the caller
// can try alternatives; Expect methods record a *SyntaxError instead. A
// command handler parses with one chain of calls and checks [Decoder.Err]
// once. The Parse…Args functions decode whole argument lists into typed
// structs, and [LookupCommand] gives the grammar of each command, for the
// server's dispatch table. [ParseCommand] parses a whole command, for tests
// and fuzzing.
//
// Errors say what the server does next: a *SyntaxError is answered BAD
// (a *MailboxNameError NO), then [Decoder.DiscardLine] skips the rest of
// the command, the data of its non-synchronising literals included, so
// that no octet of a literal is ever read as a command; a
// *LineTooLongError, a refused non-synchronising literal and I/O errors
// leave the stream out of step ([IsFatal]), so the connection is closed
// after the response; a *LiteralTooBigError maps to [TOOBIG].
//
// # Limits
//
// Options.MaxLineLength (64 KiB by default) bounds everything the decoder
// holds in memory for one command: the text of its lines and the literals
// it reads into strings. Lists and search keys nest at most 64 deep.
// Non-synchronising literals follow Options.NonSync (LITERAL+, LITERAL-
// with its 4096-byte cap, or none).
//
// # Invariants
//
//   - The decoder never reads a literal's data without the caller's
//     consent. For a literal it reads into a string, it first checks the
//     declared size against what is left of the line budget, then calls
//     Options.OnLiteral, which sends the continuation request of a
//     synchronising literal (or refuses it, for example with TOOBIG). For
//     APPEND it only decodes the header ([ParseAppendMessage]) and returns
//     a [LiteralInfo]; the caller decides, answers, and reads the data
//     through [Decoder.LiteralReader], an io.Reader of exactly that size.
//   - It never allocates in proportion to a size declared by the peer:
//     string literals are bounded by the line budget, and streamed
//     literals are never buffered.
//   - After an error, no method consumes input until DiscardLine; while
//     an accepted literal is unread, every method fails with
//     ErrLiteralPending.
//   - The Encoder never writes a string in a form the peer could misread:
//     it falls back from atom to quoted string to literal, and refuses
//     NUL outside literal8 and CR or LF in text.
package imapwire
