// Package prototest runs transcript tests (STYLE.md B10) against a line
// protocol server: POP3 today, IMAP and SMTP later. A transcript is a txtar
// archive whose leading comment says what it proves, whose "setup" file
// holds directives for the test's fixture, whose "transcript" file is the
// exchange, and whose other files are messages the exchange refers to.
//
// # Transcript lines
//
//	Cn: text     send text and CRLF on connection n (n = 1..9, dialled on first use)
//	Cn< file     send file as SMTP DATA: dot-stuffed, CRLF-normalised, ended by ".\r\n"
//	Cn!          the client vanishes: half-close connection n (the server reads EOF);
//	             follow with Sn! to wait until the server has closed its side
//	Sn: text     expect the next line on connection n; "*" is a glob, "\*" a literal star,
//	             and a leading "* " (the IMAP untagged marker) is literal
//	Sn~ regexp   expect the next line to match the regular expression (whole line)
//	Sn{ … Sn}    the "Sn:" lines between may arrive in any order
//	Sn..         skip lines until one matches the next expectation of connection n
//	Sn!          expect the server to close connection n (EOF) next
//	# text       a comment; blank lines are ignored
//
// In a C line, "{file}" naming a file of the archive becomes an IMAP
// synchronising literal: the runner sends the text before it with
// "{size}" and CRLF, waits for the server's "+" continuation line, then
// sends the file and the rest of the line. "{file+}" is sent as a
// non-synchronising literal (no wait), "~{file}" and "~{file+}" as
// literal8. In an S line, "{file}" or "~{file}" expects a literal holding
// exactly the file's octets. Every file is normalised to CRLF line
// endings, except a ".bin" file, used as written with "\xHH" escapes
// decoded (literal.go).
//
// # Setup
//
// Each non-blank line of the "setup" file that is not a comment is split
// into fields and handed to the caller's Setup hook, in order, before the
// server starts: "user alice secret", "deliver alice msg1.eml",
// "option Leave-In-Newmail on". The runner gives the directives no meaning.
//
// # Update mode
//
// With Options.Update (wired to a -update flag by the caller), an S line
// whose expectation fails is rewritten with the line actually received, and
// the archive is written back at the end of the test. Review the diff like
// code.
package prototest
