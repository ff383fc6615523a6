// Package config reads Postern's configuration: the OpenVMS "Field: Value"
// file of HP TCP/IP Services (hp-system §7.1), the POSTERN_* environment
// overrides, the typed configuration tree, and its validation.
//
// # The file
//
// One "Field: Value" per line; field names are case-insensitive; lines
// whose first non-blank character is ! or # are comments. Options before
// any section header are global; the sections are [IMAP], [POP], [SMTP]
// and [LMTP]. List values may be comma-separated, repeated, or continued on
// Tab-indented lines. A value is at most 500 characters.
//
// # One table
//
// Every option is described once, in options.go: name, aliases, section,
// kind, default, documentation and relation to the original. Parsing, the
// environment variables, Defaults, validation, suggestions for misspelt
// names, Format and docs/configuration.md are all driven by that table, so
// they cannot drift; TestReferenceDoc fails when the document is stale and
// TestEveryFieldHasOneOption when a Config field has no option.
//
// # Order of work
//
// Load and Parse: Defaults, then the file, then the environment, then
// Resolve (inherited section values and paths under Data-Directory), then
// Validate. Every problem found on the way is collected; the result is a
// *ErrorList of *FieldError, each "FILE:LINE: message".
//
// # Invariants
//
//   - Defaults live only in the option table (Defaults applies them).
//   - Nothing here reads the file system except Load and Find, and nothing
//     is global but the immutable option table.
//   - A Config returned without error is resolved and valid.
package config
