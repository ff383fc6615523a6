package mail11

import (
	"errors"
	"fmt"
	"strings"
)

// The folder-name codec of hp-system §6.2 (User's Guide Table 5-3), used
// for folders imported from OpenVMS Mail when Vms-Folder-Names is on. It
// works on the name of one folder; hierarchy, the IMAP delimiter and
// modified UTF-7 are the IMAP server's business.

// The folders with names of their own.
const (
	// VMSNewMail is the folder where new mail arrives; IMAP shows it as
	// INBOX.
	VMSNewMail = "NEWMAIL"
	// IMAPInbox is the IMAP name of NEWMAIL.
	IMAPInbox = "INBOX"
	// inboxEscape is the IMAP name of a VMS folder that is really called
	// INBOX (see EncodeFolder).
	inboxEscape = "$Inbox"
)

// ErrFolderName is wrapped by the errors of DecodeFolder.
var ErrFolderName = errors.New("not an OpenVMS folder name")

// EncodeFolder returns the IMAP mailbox name of an OpenVMS Mail folder,
// reproducing Table 5-3 exactly:
//
//	HELLO     → Hello
//	Hello     → H_e_l_l_o
//	HELLO-ALL → Hello-All
//	HELLO_ALL → Hello__All
//	HELLO$ALL → Hello$$All
//
// An upper-case letter is shown in lower case, except at the start of a
// word (the start of the name, or after a space, "@", "(", "_", "-" or
// "$"), where it stays a capital; a real lower-case letter is shown as "_"
// and the letter; "_" is shown as "__" and "$" as "$$"; any other
// character is kept. NEWMAIL is INBOX.
//
// QUIRK: the prose of the manual says a lower-case letter becomes "_" and
// the upper-case letter, but the table shows "_e"; the table is followed.
// The table also capitalises after "$$" although the prose list of word
// separators lacks "$"; the table is followed (hp-system §6.2 [INF]).
//
// QUIRK: a VMS folder really named INBOX would be shown as "Inbox", which
// IMAP takes for INBOX itself (RFC 9051 §5.1: INBOX is case-insensitive).
// It is shown as "$Inbox" instead: a lone "$" is never produced otherwise,
// so the name stays reversible.
func EncodeFolder(vms string) string {
	switch vms {
	case VMSNewMail:
		return IMAPInbox
	case IMAPInbox:
		return inboxEscape
	}
	var b strings.Builder
	b.Grow(len(vms) + len(vms)/4)
	wordStart := true
	for i := 0; i < len(vms); i++ {
		c := vms[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if !wordStart {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		case c >= 'a' && c <= 'z':
			b.WriteByte('_')
			b.WriteByte(c)
		case c == '_' || c == '$':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
		wordStart = strings.IndexByte(" @(_-$", c) >= 0
	}
	return b.String()
}

// DecodeFolder returns the OpenVMS Mail folder of an IMAP mailbox name,
// the inverse of EncodeFolder: "__" is "_", "$$" is "$", "_" and a letter
// is that letter in lower case, any other letter is upper case, and INBOX
// (in any case) is NEWMAIL. Letter case is otherwise free, as a client
// typing a name expects ("hello" is HELLO, "_E" is "e").
//
// A name EncodeFolder cannot produce is an error wrapping ErrFolderName:
// the empty name, a "_" before anything but "_" or a letter, a lone "$",
// and a name that decodes to a folder shown under another name (such as
// "Newmail", which would be a second name for INBOX).
func DecodeFolder(imap string) (string, error) {
	if imap == "" {
		return "", fmt.Errorf("empty mailbox name: %w", ErrFolderName)
	}
	if strings.EqualFold(imap, IMAPInbox) {
		return VMSNewMail, nil
	}
	if strings.EqualFold(imap, inboxEscape) {
		return IMAPInbox, nil
	}
	var b strings.Builder
	b.Grow(len(imap))
	for i := 0; i < len(imap); i++ {
		c := imap[i]
		switch {
		case c == '_' || c == '$':
			if i+1 < len(imap) && imap[i+1] == c {
				b.WriteByte(c)
				i++
				continue
			}
			if c == '_' && i+1 < len(imap) && isLetter(imap[i+1]) {
				b.WriteByte(imap[i+1] | 0x20) // lower case
				i++
				continue
			}
			return "", fmt.Errorf("mailbox name %q: lone %q at offset %d: %w", imap, c, i, ErrFolderName)
		case isLetter(c):
			b.WriteByte(c &^ 0x20) // upper case
		default:
			b.WriteByte(c)
		}
	}
	vms := b.String()
	if !strings.EqualFold(EncodeFolder(vms), imap) {
		return "", fmt.Errorf("mailbox name %q: folder %s is shown as %q: %w", imap, vms, EncodeFolder(vms), ErrFolderName)
	}
	return vms, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
