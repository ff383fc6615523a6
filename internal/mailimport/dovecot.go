package mailimport

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// FormatDovecot is a Dovecot Maildir read with the state Dovecot keeps
// beside it (dovecot-uidlist, dovecot-keywords, subscriptions), so that
// UIDs, UIDVALIDITY, keywords and POP3 unique-ids survive the move.
const FormatDovecot Format = "dovecot"

// DovecotMaildir is a Dovecot user's Maildir: its folders and
// subscriptions.
type DovecotMaildir struct {
	Root    string
	Folders []DovecotFolder // INBOX first, then by name
	// Subscriptions are the subscribed names, levels separated by '/'.
	Subscriptions []string
}

// DovecotFolder is one mailbox of a Dovecot Maildir.
type DovecotFolder struct {
	// Name is the mailbox name, levels separated by '/' and decoded from
	// modified UTF-7: "INBOX" for the Maildir's root.
	Name string
	Dir  string
}

// OpenDovecot finds the folders of the Dovecot Maildir at root, in either
// layout Dovecot writes: Maildir++ (the default: ".Name.Sub" directories
// beside cur/, levels separated by '.') or LAYOUT=fs (plain
// subdirectories). The root is INBOX.
func OpenDovecot(root string) (*DovecotMaildir, error) {
	if !isMaildir(root) {
		return nil, fmt.Errorf("open %s: not a Maildir (needs cur/ and new/ directories)", root)
	}
	md := &DovecotMaildir{Root: root, Folders: []DovecotFolder{{Name: store.MailboxInbox, Dir: root}}}
	des, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	sep := byte('/')
	for _, de := range des {
		name := de.Name()
		if !de.IsDir() || name == "cur" || name == "new" || name == "tmp" {
			continue
		}
		dir := filepath.Join(root, name)
		if strings.HasPrefix(name, ".") && len(name) > 1 && name != ".." {
			sep = '.'
			if isMaildir(dir) {
				levels := strings.Split(name[1:], ".")
				for i, l := range levels {
					levels[i] = unescapeList(l)
				}
				md.Folders = append(md.Folders, DovecotFolder{Name: decodeLevels(levels), Dir: dir})
			}
			continue
		}
		if err := md.walkFS(dir, []string{name}); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(md.Folders[1:], func(a, b DovecotFolder) int { return cmp.Compare(a.Name, b.Name) })
	if f, err := os.Open(filepath.Join(root, "subscriptions")); err == nil {
		md.Subscriptions, err = ParseSubscriptions(f, sep)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read subscriptions: %w", err)
		}
		for i, s := range md.Subscriptions {
			md.Subscriptions[i] = decodeLevels(strings.Split(s, "/"))
		}
	}
	return md, nil
}

// walkFS adds the LAYOUT=fs folders at and under dir.
func (md *DovecotMaildir) walkFS(dir string, levels []string) error {
	if isMaildir(dir) {
		md.Folders = append(md.Folders, DovecotFolder{Name: decodeLevels(levels), Dir: dir})
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		name := de.Name()
		if !de.IsDir() || name == "cur" || name == "new" || name == "tmp" || strings.HasPrefix(name, ".") {
			continue
		}
		if err := md.walkFS(filepath.Join(dir, name), append(slices.Clone(levels), name)); err != nil {
			return err
		}
	}
	return nil
}

// decodeLevels joins the levels of a folder name with '/', each decoded
// from modified UTF-7 (RFC 3501 §5.1.3) as Dovecot names directories;
// a level that does not decode is kept as it is.
func decodeLevels(levels []string) string {
	out := make([]string, len(levels))
	for i, l := range levels {
		if d, err := imapwire.DecodeMUTF7(l); err == nil {
			out[i] = d
		} else {
			out[i] = l
		}
	}
	if len(out) == 1 && strings.EqualFold(out[0], store.MailboxInbox) {
		return store.MailboxInbox
	}
	return strings.Join(out, "/")
}

// DovecotMailbox is what ReadFolder found in one folder.
type DovecotMailbox struct {
	DovecotFolder
	// UIDValidity and UIDNext are the dovecot-uidlist's; 0 when the folder
	// has none (Dovecot never opened it: no client knows its UIDs).
	UIDValidity uint32
	UIDNext     uint32
	// ModSeqCeiling is at least the highest MODSEQ Dovecot handed out in
	// the folder (ModSeqCeiling); ModSeqKnown is false when the folder has
	// no dovecot.index.log beside it.
	ModSeqCeiling uint64
	ModSeqKnown   bool
	// Messages are the files with a UID, in ascending UID order.
	Messages []DovecotMessage
	// Unlisted are the files Dovecot gave no UID yet (delivered after its
	// last look), in delivery order: no client knows them.
	Unlisted []DovecotMessage
	// Vanished counts dovecot-uidlist entries without a file (expunged
	// since Dovecot last wrote the list).
	Vanished int
}

// DovecotMessage is one message file of a folder.
type DovecotMessage struct {
	UID  uint32 // 0 for an unlisted file
	Path string
	// Key identifies the message within its source across runs:
	// "dovecot:<UIDVALIDITY>:<base of the file name>".
	Key string
	// Flags are the system flags and keywords of the file name's info.
	Flags []string
	// POP3UIDL is the unique-id Dovecot's POP3 server gave the message:
	// its 'P' field, else pop3_uidl_format expanded; "" for unlisted files.
	POP3UIDL string
	// Unknown lists keyword letters with no name in dovecot-keywords.
	Unknown string
}

// ReadFolder reads a folder's dovecot-uidlist, dovecot-keywords and file
// names (not the messages). uidlFormat is Dovecot's pop3_uidl_format
// (DefaultPOP3UIDLFormat unless the site changed it). A damaged
// dovecot-uidlist or dovecot-keywords is an error: the UIDs clients know
// cannot be told.
func ReadFolder(f DovecotFolder, uidlFormat string) (*DovecotMailbox, error) {
	mb := &DovecotMailbox{DovecotFolder: f}
	ul, err := readUIDListFile(filepath.Join(f.Dir, "dovecot-uidlist"))
	if err != nil {
		return nil, err
	}
	kw, err := readKeywordsFile(filepath.Join(f.Dir, "dovecot-keywords"))
	if err != nil {
		return nil, err
	}
	if mb.ModSeqCeiling, mb.ModSeqKnown, err = ModSeqCeiling(filepath.Join(f.Dir, "dovecot.index.log")); err != nil {
		return nil, err
	}
	files, err := listMaildirFiles(f.Dir)
	if err != nil {
		return nil, err
	}
	if ul != nil {
		mb.UIDValidity, mb.UIDNext = ul.UIDValidity, ul.UIDNext
		for _, e := range ul.Entries {
			file, ok := files[e.Base]
			if !ok {
				mb.Vanished++
				continue
			}
			delete(files, e.Base)
			m := file.message(f.Dir, ul.UIDValidity, kw)
			m.UID = e.UID
			if m.POP3UIDL = e.POP3UIDL; m.POP3UIDL == "" {
				if m.POP3UIDL, err = FormatPOP3UIDL(uidlFormat, e.UID, ul.UIDValidity, e.Base); err != nil {
					return nil, err
				}
			}
			mb.Messages = append(mb.Messages, m)
		}
	}
	for _, file := range files {
		mb.Unlisted = append(mb.Unlisted, file.message(f.Dir, mb.UIDValidity, kw))
	}
	slices.SortFunc(mb.Unlisted, func(a, b DovecotMessage) int {
		return cmp.Or(cmp.Compare(maildirTime(filepath.Base(a.Path)), maildirTime(filepath.Base(b.Path))), cmp.Compare(a.Path, b.Path))
	})
	return mb, nil
}

func readUIDListFile(path string) (*UIDList, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseUIDList(path, f)
}

func readKeywordsFile(path string) (map[byte]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseKeywords(path, f)
}

// maildirFile is one file of new/ or cur/.
type maildirFile struct {
	sub, name string
}

// listMaildirFiles maps the base of each message file name (before its
// ":2," info) to the file.
func listMaildirFiles(dir string) (map[string]maildirFile, error) {
	files := make(map[string]maildirFile)
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("read maildir: %w", err)
		}
		for _, de := range des {
			if name := de.Name(); !strings.HasPrefix(name, ".") && !de.IsDir() {
				base, _ := maildirInfo(name)
				files[base] = maildirFile{sub: sub, name: name}
			}
		}
	}
	return files, nil
}

// message describes the file with its flags: the info's system flags
// (maildirFlags) and its keyword letters named by dovecot-keywords.
func (mf maildirFile) message(dir string, uidValidity uint32, kw map[byte]string) DovecotMessage {
	base, info := maildirInfo(mf.name)
	m := DovecotMessage{
		Path:  filepath.Join(dir, mf.sub, mf.name),
		Key:   fmt.Sprintf("dovecot:%d:%s", uidValidity, base),
		Flags: maildirFlags(info, mf.sub == "new"),
	}
	for i := 0; i < len(info); i++ {
		c := info[i]
		if c < 'a' || c > 'z' {
			continue
		}
		if name, ok := kw[c]; ok {
			m.Flags = append(m.Flags, name)
		} else {
			m.Unknown += string(c)
		}
	}
	return m
}

// unescapeList undoes Dovecot's listescape form of a Maildir++ level
// ("\2e" for '.', "\5c" for '\'; any "\xx" of two hex digits), which
// `postern export` writes too.
func unescapeList(level string) string {
	if !strings.Contains(level, `\`) {
		return level
	}
	var b strings.Builder
	for i := 0; i < len(level); i++ {
		if level[i] == '\\' && i+2 < len(level) {
			if n, err := strconv.ParseUint(level[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(level[i])
	}
	return b.String()
}
