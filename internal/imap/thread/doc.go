// Package thread sorts and threads messages as the IMAP SORT and THREAD
// extensions define it. It is pure: it knows no connections, stores or
// logs, and works on the few header values and dates the caller gives it
// ([Message]).
//
// # Standards
//
//   - RFC 5256 §2.1: the base subject, extracted exactly as the RFC's
//     seven steps say ([BaseSubject]), with §7's rule that subjects are
//     compared in titlecased canonicalized form.
//   - RFC 5256 §2.2: the sent date, the Date field or else INTERNALDATE.
//   - RFC 5256 §3: the SORT keys ARRIVAL, CC, DATE, FROM, REVERSE, SIZE,
//     SUBJECT and TO ([Sort]), and the THREAD algorithms ORDEREDSUBJECT
//     and REFERENCES with all seven steps of the latter: links from
//     References (or In-Reply-To), duplicate Message IDs, loops refused,
//     dummies pruned, subject merging ([Thread]).
//   - RFC 5957 §2: the SORT=DISPLAY keys DISPLAYFROM and DISPLAYTO.
//   - RFC 5051: the i;unicode-casemap collation ([Casemap]), with which
//     RFC 5256 §7 compares every string key.
//   - THREAD=REFS, Dovecot's variant of REFERENCES: the same links and
//     pruning, no subject merging, and threads ordered by the date of
//     their latest message, so that the thread with the newest mail comes
//     last (Dovecot 2.3's index-thread-finish.c and its documentation).
//
// # The collation
//
// RFC 5051 maps each character through UnicodeData.txt's titlecase and
// decomposition fields until nothing changes. [Casemap] takes the
// titlecase from Go's unicode tables and the decomposition from
// golang.org/x/text/unicode/norm's NFKD tables, which hold UnicodeData.txt
// field 5 applied recursively; it does not decompose Hangul syllables
// (their decomposition is algorithmic, not in field 5) and does not
// reorder combining marks (the RFC does not ask it to).
//
// # Order and ties
//
// Every result keeps the caller's order where the RFC's keys leave two
// messages equal: the caller gives messages in sequence-number order, the
// RFC's tie-breaker.
package thread
