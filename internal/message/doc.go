// Package message parses a mail message once, at delivery, into the
// structure IMAP and POP3 serve it from: MIME part offsets, the fields of
// BODYSTRUCTURE and ENVELOPE, and header helpers for HEADER.FIELDS and
// SEARCH. After delivery nothing re-parses the message: FETCH renders
// ENVELOPE and BODYSTRUCTURE from a stored Part and serves BODY[section],
// BINARY[section] and RFC822.SIZE as byte ranges of the message file.
//
// Implemented specifications:
//   - RFC 5322: header fields, folding, address lists and groups.
//   - RFC 2045: Content-Type, Content-Transfer-Encoding and the defaults.
//   - RFC 2046: multipart boundaries (§5.1.1), multipart/digest defaults
//     (§5.1.5), message/rfc822 (§5.2.1).
//   - RFC 2047: encoded words, decoded by DecodeHeaderText only.
//   - RFC 2183: Content-Disposition.
//   - RFC 2231: parameter continuations, charsets and languages.
//   - RFC 9051 §7.5.2 (and RFC 3501): the fields of ENVELOPE and
//     BODYSTRUCTURE; §6.4.5 section numbering (Part.Section).
//
// go-message is used for charset conversion (go-message/charset). Header
// splitting, parameter and address parsing are local because IMAP needs
// what go-message does not give: byte offsets, raw field bytes, ordered
// parameters, raw display names and group markers, and tolerance of broken
// input.
//
// # Invariants
//
// Offsets. Every offset refers to the message as stored, counted from its
// first byte: the CRLF-normalised message (NewCRLFReader), or the octets as
// given for a message stored exactly (a literal8 upload, whose bare LF
// Parse tolerates). For every Part:
// HeaderStart <= BodyStart <= End <= message size; children are in order,
// do not overlap, and lie within their parent's body
// (parent.BodyStart <= child.HeaderStart, child.End <= parent.End). Inside a
// multipart, a part's End excludes the CRLF that precedes the next
// delimiter line. The embedded message of a message/rfc822 part starts at
// that part's BodyStart. UnmarshalBinary checks these invariants.
//
// Structure. Type "multipart" always has at least one child; a
// message/rfc822 or message/global part has exactly one child (its
// embedded message, with an Envelope) unless it is opaque (see Part.Parts).
// The top-level Part always has an Envelope.
//
// Memory. Parse keeps a 16 KiB line buffer, at most 1 MiB of one header
// block at a time, and the Part tree, which is capped at 10000 parts and a
// nesting depth of 100. Bodies are scanned and never kept, so memory does
// not grow with message size. Beyond the caps the remainder is opaque body
// of the enclosing part.
//
// Errors. Parse fails only on read errors and on input that is not a
// message (ErrMalformed). Broken MIME never fails delivery: it degrades as
// described on Parse.
package message
