package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// Mailbox names cross between the client and the store here, and only
// here. With Options.VMSFolderNames off both directions are the identity.
//
// On, names follow the original's mapping of OpenVMS Mail to IMAP
// (hp-system §6.2, I2): NEWMAIL is INBOX, and the mail file MAIL.MAI is
// the mailbox Mail, whose children are the mail file's folders, NEWMAIL
// left out. The store's INBOX is NEWMAIL and its Mail is the MAIL folder,
// so the client's Mail is the store's Mail, and every other top-level
// store mailbox is a folder of the mail file: the store's HELLO_ALL is
// the client's Mail/Hello__All, each level through the folder-name codec
// (mail11.EncodeFolder and DecodeFolder, Table 5-3). Postern's own
// mailboxes (store.DefaultMailboxes: INBOX, Mail, Sent, Drafts, Trash,
// Junk) keep their names, never escaped, with what is below them; below
// INBOX, levels go through the codec as before.
//
// Names with no IMAP name (not listed, not reachable): a top-level store
// NEWMAIL, which would be a second INBOX, and the store's own children of
// Mail (Mail/X), whose names are those of the mail file's folders. A
// client name at the top level that is none of these is refused: the
// folders are under Mail.
//
// Handlers keep store names (c.sel.name, listEntry.name) and convert at
// the edges: storeName on every name the client sends, imapName on every
// name the server writes.

// mailFile is the IMAP name of the mail file MAIL.MAI, the parent of the
// VMS folders (the store's Mail, the MAIL folder, is selected through it).
const mailFile = store.MailboxMail

// isOwnMailbox reports whether a top-level store name is one of Postern's
// own mailboxes, shown unchanged.
func isOwnMailbox(top string) bool {
	for _, d := range store.DefaultMailboxes {
		if top == d.Name {
			return true
		}
	}
	return false
}

// storeName returns the store name of a mailbox name the client sent. A
// name the codec cannot decode names no mailbox: NO [NONEXISTENT].
func (c *conn) storeName(name string) (string, error) {
	return c.decodeName(name, "NONEXISTENT")
}

// newStoreName is storeName for a mailbox about to be created (CREATE,
// RENAME's new name): a name the codec cannot decode is NO [CANNOT].
func (c *conn) newStoreName(name string) (string, error) {
	return c.decodeName(name, "CANNOT")
}

func (c *conn) decodeName(name, code string) (string, error) {
	if !c.s.opts.VMSFolderNames {
		return name, nil
	}
	sep := string(store.HierarchySeparator)
	levels := strings.Split(name, sep)
	fail := func(err error, why string) error {
		return &userError{code: code, err: err, msg: why + ": " + name}
	}
	switch top := levels[0]; {
	case strings.EqualFold(top, store.MailboxInbox):
		levels[0] = store.MailboxInbox
		if err := decodeLevels(levels[1:]); err != nil {
			return "", fail(err, "Not an OpenVMS folder name (Vms-Folder-Names)")
		}
	case top == mailFile && len(levels) == 1:
		return store.MailboxMail, nil
	case top == mailFile:
		// A folder of the mail file: a top-level store mailbox.
		levels = levels[1:]
		if err := decodeLevels(levels); err != nil {
			return "", fail(err, "Not an OpenVMS folder name (Vms-Folder-Names)")
		}
		switch levels[0] {
		case mail11.VMSNewMail, mail11.IMAPInbox:
			// NEWMAIL is INBOX, not a folder of Mail; a VMS folder named
			// INBOX cannot sit beside the store's INBOX.
			return "", fail(mail11.ErrFolderName, "Not an OpenVMS folder name (Vms-Folder-Names)")
		}
	case isOwnMailbox(top):
	default:
		return "", fail(mail11.ErrFolderName, "OpenVMS folders are under "+mailFile+sep+" (Vms-Folder-Names)")
	}
	return strings.Join(levels, sep), nil
}

// decodeLevels decodes each level in place.
func decodeLevels(levels []string) error {
	for i, l := range levels {
		vms, err := mail11.DecodeFolder(l)
		if err != nil {
			return err
		}
		levels[i] = vms
	}
	return nil
}

// imapName returns the name the client sees for a store name; ok is false
// for a store name that has none (see above).
func (c *conn) imapName(name string) (imap string, ok bool) {
	if !c.s.opts.VMSFolderNames {
		return name, true
	}
	sep := string(store.HierarchySeparator)
	levels := strings.Split(name, sep)
	switch top := levels[0]; {
	case top == store.MailboxInbox:
		for i := 1; i < len(levels); i++ {
			levels[i] = mail11.EncodeFolder(levels[i])
		}
		return strings.Join(levels, sep), true
	case top == store.MailboxMail:
		return name, len(levels) == 1
	case isOwnMailbox(top):
		return name, true
	case top == mail11.VMSNewMail:
		return "", false
	}
	for i, l := range levels {
		levels[i] = mail11.EncodeFolder(l)
	}
	return mailFile + sep + strings.Join(levels, sep), true
}
