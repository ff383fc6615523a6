package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// Mailbox names cross between the client and the store here, and only
// here. With Options.VMSFolderNames off both directions are the identity.
// On, every level of a name (split on the hierarchy separator) goes
// through the OpenVMS folder-name codec of hp-system §6.2
// (mail11.EncodeFolder and DecodeFolder): the store holds the VMS folder
// names (HELLO_ALL), the client sees the IMAP ones (Hello__All).
//
// The store's INBOX is the original's NEWMAIL, so at the top level INBOX
// is INBOX both ways. A top-level store mailbox named NEWMAIL would be
// shown as a second INBOX: it has no IMAP name and is not listed.
//
// Handlers keep store names (c.sel.name, listEntry.name) and convert at
// the edges: storeName on every name the client sends, imapName on every
// name the server writes.

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
	levels := strings.Split(name, string(store.HierarchySeparator))
	for i, l := range levels {
		vms, err := mail11.DecodeFolder(l)
		if i == 0 && vms == mail11.VMSNewMail {
			vms = store.MailboxInbox
		} else if i == 0 && vms == mail11.IMAPInbox {
			// "$Inbox": a VMS folder named INBOX, which the store cannot
			// hold at the top level beside its own INBOX.
			err = mail11.ErrFolderName
		}
		if err != nil {
			return "", &userError{code: code, err: err,
				msg: "Not an OpenVMS folder name (Vms-Folder-Names): " + name}
		}
		levels[i] = vms
	}
	return strings.Join(levels, string(store.HierarchySeparator)), nil
}

// imapName returns the name the client sees for a store name; ok is false
// for a store name that has none (a top-level NEWMAIL, see above).
func (c *conn) imapName(name string) (imap string, ok bool) {
	if !c.s.opts.VMSFolderNames {
		return name, true
	}
	levels := strings.Split(name, string(store.HierarchySeparator))
	for i, l := range levels {
		switch {
		case i == 0 && l == store.MailboxInbox:
			continue
		case i == 0 && l == mail11.VMSNewMail:
			return "", false
		}
		levels[i] = mail11.EncodeFolder(l)
	}
	return strings.Join(levels, string(store.HierarchySeparator)), true
}
