// Package mailimport reads old mail for `postern import`: Unix mbox files,
// Maildir directories and OpenVMS MAIL extract files (the output of
// EXTRACT/ALL). It only reads files; the importer in internal/cli hands each
// Item to the store.
//
// Every format is read as a stream. Open returns a Source whose Next yields
// one Item at a time; an Item's Content is an io.Reader over the message as
// it should be stored (line endings untouched: the store normalises them to
// CRLF). Memory stays flat whatever the size of the file or of one message:
// only a bounded header prefix of each message is buffered (to read flags and
// dates), the rest flows from a bufio.Reader over the file.
//
// Every Item has a Key that identifies it within its source across runs, so
// an interrupted import can resume without duplicates: "mbox:<offset of the
// From_ line>", "maildir:<unique part of the file name>" and
// "vms:<offset of the From: line>".
//
// # mbox (RFC 4155; mboxo and mboxrd)
//
// A file must begin with a line starting "From ". Later messages begin at a
// From_ line: "From ", an envelope sender, and an asctime-style date that
// parses ("Mon Jan  2 15:04:05 2006", with or without the weekday, the
// seconds, a numeric or named zone, or the year; two-digit years as RFC 4155
// says). The date is taken as UTC when it has no numeric zone (RFC 4155
// Appendix A).
//
// QUIRK: a From_ line is recognised after any line, blank or not, but only
// when its date parses. RFC 4155 would split at every "From " line after a
// blank line; we do not, because some writers (Gmail's export among them)
// do not escape "From " in bodies, and because mutt and Dovecot draw the
// line in the same place. A real From_ line whose date cannot be parsed
// therefore does not start a message (except the first line of the file).
//
// Lines matching ^>+From have one '>' removed (mboxrd). An mboxo file, which
// escapes only "From ", loses a '>' from body lines that began ">From "; the
// two variants cannot be told apart. The blank line just before a From_ line
// (and a blank last line of the file) is the separator and is not part of the
// message. CRLF files work the same way.
//
// Flags come from Status: (R → \Seen; O, "old", maps to nothing), X-Status:
// (A → \Answered, F → \Flagged, D → \Deleted) and Thunderbird's
// X-Mozilla-Status (read, replied, marked, expunged bits). The headers stay in
// the content. InternalDate is the From_ line date, else the Date: header,
// else the file's modification time.
//
// Broken files: a file not starting with "From " is a *SyntaxError on line 1,
// and so is a first line with CR-only line endings (old Mac files: convert
// them first). Anything else is tolerated: text between messages belongs to
// the message before it, a truncated last message is imported as it is, NUL
// bytes and bare CRs are passed through to the store, which may refuse them.
//
// # Maildir
//
// The files in new/ and cur/ (never tmp/, never dot-files, never
// subdirectories) are read in the order of the Unix time at the start of
// their names, then by name, so that imports are deterministic. Flags come
// from the ":2," info (S → \Seen, R → \Answered, F → \Flagged, T → \Deleted,
// D → \Draft; the lower-case Dovecot keyword letters are ignored); a message
// still in new/ never gets \Seen. InternalDate is the Unix time at the start of
// the name, else the file's modification time. Progress counts files. A
// directory needs cur/ and new/; a missing tmp/ is tolerated, since backups
// often drop empty directories.
//
// # OpenVMS MAIL extract files
//
// An extract is plain text. Messages are separated by a form feed at the start
// of a line, either alone on its line or in front of the next From: line.
// Each message begins with the VMS header lines
//
//	From:	ORDERS::J_SMITH      "John Smith"  6-APR-1999 06:02:31.15
//	To:	BROWN,SMITH
//	CC:
//	Subj:	Quarterly report
//
// followed by a blank line and the body. Field names are case-insensitive;
// To:, CC: and Subj: may be missing or empty, and may continue on lines that
// start with white space (joined with one space). The From: address is kept
// exactly as written (NODE::USER, SMTP%"user@host", NODE::"user@host", a bare
// user name; quoted strings may hold spaces). The arrival date has no zone on
// OpenVMS, so it is read in time.Local: run the import with TZ set to the
// zone of the old system.
//
// QUIRK: a form feed at the start of a line ends a message only when the next
// non-blank line is a VMS From: line with a date, or when only blank lines
// follow up to the end of the file. Any other form feed is a page break inside
// the body and is kept. If the blank line after the VMS header lines is
// missing, the body starts at the first line that is not a VMS header field.
//
// The content of a message: when the body itself starts with an RFC 5322
// header block (SMTP configured with /OPTIONS=TOP_HEADERS put the real
// headers at the top: the first line is a "Name: value" header field, every
// line up to a blank line is a field or a continuation, the blank line comes
// within the first 128 KiB, and the block has a From: or Date: field, both
// mandatory in RFC 5322 §3.6, so that a body opening "Note: ..." is not
// taken for a header), the content is that body and
// VMSEnvelope.OwnHeader is true. Otherwise the content is "\r\n" followed by
// the body: an empty header block, which is a valid RFC 5322 message with no
// header fields, and OwnHeader is false; the Mail11 view rebuilds From, To,
// CC, Subject and Date from the VMSEnvelope. The body is never rewritten, so
// nothing of the original text is lost or invented.
package mailimport
