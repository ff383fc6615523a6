// Package search holds what SEARCH compares (RFC 9051 §6.4.4), in one
// place for the linear scan of the IMAP server and for the indexes a
// store fills at delivery, so that both answer the same:
//
//   - the text of the envelope keys (FROM, TO, CC, BCC, SUBJECT): the
//     ENVELOPE field with display names and encoded words decoded;
//   - the text of HEADER <field>: each field's unfolded, decoded value;
//   - the text of TEXT's header half: "Name: decoded value" per field;
//   - the text of BODY and TEXT's body half: every text part (and a
//     top-level part of any type), its transfer encoding removed and its
//     charset converted to UTF-8 (Texts);
//   - the two foldings: header keys compare strings.ToLower forms, body
//     keys fold ASCII letters only and compare octets;
//   - the index forms (IndexText, IndexNeedle): how a text and a needle
//     are written into a substring index (SQLite FTS5 trigram, pg_trgm)
//     so that an index match is exactly a substring match of the scan.
//
// Invariant: a store's index and the scan call these functions, never a
// copy of them; the differential tests of imapserver and store/sqlite pin
// the equality.
package search
