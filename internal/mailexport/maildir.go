package mailexport

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/mailimport"
	"github.com/postern/postern/internal/store"
)

// Mailbox describes a mailbox being exported.
type Mailbox struct {
	Name        string // levels separated by '/'
	UIDValidity uint32
	UIDNext     store.UID
}

// Message describes one message being exported; its content is given
// to Write.
type Message struct {
	UID      store.UID
	EmailID  store.EmailID
	Flags    store.Flags
	Date     time.Time
	POP3UIDL string // a kept POP3 unique-id, or ""
}

// Counts say what a mailbox's export did.
type Counts struct {
	Written, Renamed, Unchanged int
	// KeywordsLeftOut counts keywords beyond the 26 a Maildir folder
	// can name.
	KeywordsLeftOut int
}

// Maildir writes an export in Maildir++ form.
type Maildir struct {
	root string
}

// NewMaildir makes root a Maildir (INBOX) if it is not one yet.
func NewMaildir(root string) (*Maildir, error) {
	if err := makeMaildir(root); err != nil {
		return nil, err
	}
	return &Maildir{root: root}, nil
}

func makeMaildir(dir string) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// folderDir is the Maildir++ directory of a mailbox.
func (md *Maildir) folderDir(name string) string {
	if name == store.MailboxInbox {
		return md.root
	}
	levels := strings.Split(name, "/")
	for i, l := range levels {
		l = strings.ReplaceAll(l, `\`, `\5c`)
		levels[i] = strings.ReplaceAll(imapwire.EncodeMUTF7(l), ".", `\2e`)
	}
	return filepath.Join(md.root, "."+strings.Join(levels, "."))
}

// MaildirBox is one mailbox being written.
type MaildirBox struct {
	mb       Mailbox
	dir      string
	existing map[string]string // base name → file name in cur/
	letters  map[string]byte   // keyword (lower case) → letter
	keywords map[byte]string
	lines    []string // dovecot-uidlist lines
	counts   Counts
}

// Begin starts a mailbox: its directory, and what an earlier export of it
// left (files, keyword letters).
func (md *Maildir) Begin(mb Mailbox) (*MaildirBox, error) {
	b := &MaildirBox{mb: mb, dir: md.folderDir(mb.Name), existing: map[string]string{},
		letters: map[string]byte{}, keywords: map[byte]string{}}
	if err := makeMaildir(b.dir); err != nil {
		return nil, err
	}
	des, err := os.ReadDir(filepath.Join(b.dir, "cur"))
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		base, _, _ := strings.Cut(de.Name(), ":2,")
		b.existing[base] = de.Name()
	}
	if f, err := os.Open(filepath.Join(b.dir, "dovecot-keywords")); err == nil {
		kw, err := mailimport.ParseKeywords(f.Name(), f)
		f.Close()
		if err != nil {
			return nil, err
		}
		for c, name := range kw {
			b.keywords[c], b.letters[strings.ToLower(name)] = name, c
		}
	}
	return b, nil
}

// info is the ":2," part of a file name for flags: system flag letters in
// ASCII order, then keyword letters in order.
func (b *MaildirBox) info(flags store.Flags) string {
	var sys, kw []byte
	for _, f := range flags {
		switch f {
		case store.FlagDraft:
			sys = append(sys, 'D')
		case store.FlagFlagged:
			sys = append(sys, 'F')
		case store.FlagAnswered:
			sys = append(sys, 'R')
		case store.FlagSeen:
			sys = append(sys, 'S')
		case store.FlagDeleted:
			sys = append(sys, 'T')
		default:
			if c, ok := b.letter(f); ok {
				kw = append(kw, c)
			}
		}
	}
	slices.Sort(sys)
	slices.Sort(kw)
	return ":2," + string(sys) + string(kw)
}

// letter returns the keyword's letter, giving it the next free one.
func (b *MaildirBox) letter(keyword string) (byte, bool) {
	if c, ok := b.letters[strings.ToLower(keyword)]; ok {
		return c, true
	}
	for c := byte('a'); c <= 'z'; c++ {
		if _, taken := b.keywords[c]; !taken {
			b.keywords[c], b.letters[strings.ToLower(keyword)] = keyword, c
			return c, true
		}
	}
	b.counts.KeywordsLeftOut++
	return 0, false
}

// Write writes one message, in ascending UID order, unless an earlier
// export wrote it: then only its flags are brought up to date (a rename).
func (b *MaildirBox) Write(m Message, size int64, content io.Reader) error {
	base := fmt.Sprintf("%d.P%dQ%d.postern,S=%d,W=%d", m.Date.Unix(), m.EmailID, m.UID, size, size)
	name := base + b.info(m.Flags)
	line := fmt.Sprintf("%d", m.UID)
	if m.POP3UIDL != "" {
		line += " P" + m.POP3UIDL
	}
	b.lines = append(b.lines, line+" :"+base)
	cur := filepath.Join(b.dir, "cur")
	if old, ok := b.existing[base]; ok {
		if old == name {
			b.counts.Unchanged++
			return nil
		}
		b.counts.Renamed++
		return os.Rename(filepath.Join(cur, old), filepath.Join(cur, name))
	}
	tmp := filepath.Join(b.dir, "tmp", base)
	if err := writeFileSync(tmp, content); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, m.Date, m.Date); err != nil {
		return err
	}
	b.counts.Written++
	return os.Rename(tmp, filepath.Join(cur, name))
}

// Close writes dovecot-uidlist and dovecot-keywords and returns what was
// done.
func (b *MaildirBox) Close() (Counts, error) {
	var ul bytes.Buffer
	fmt.Fprintf(&ul, "3 V%d N%d\n", b.mb.UIDValidity, b.mb.UIDNext)
	for _, l := range b.lines {
		ul.WriteString(l + "\n")
	}
	if err := replaceFile(filepath.Join(b.dir, "dovecot-uidlist"), ul.Bytes()); err != nil {
		return b.counts, err
	}
	var kw bytes.Buffer
	letters := make([]int, 0, len(b.keywords))
	for c := range b.keywords {
		letters = append(letters, int(c))
	}
	sort.Ints(letters)
	for _, c := range letters {
		fmt.Fprintf(&kw, "%d %s\n", c-'a', b.keywords[byte(c)])
	}
	return b.counts, replaceFile(filepath.Join(b.dir, "dovecot-keywords"), kw.Bytes())
}

// Subscriptions writes the subscriptions file (Dovecot's version 2 form).
func (md *Maildir) Subscriptions(names []string) error {
	var buf bytes.Buffer
	buf.WriteString("V\t2\n\n")
	for _, n := range names {
		buf.WriteString(strings.ReplaceAll(n, "/", "\t") + "\n")
	}
	return replaceFile(filepath.Join(md.root, "subscriptions"), buf.Bytes())
}

// writeFileSync writes r to a new file at path and syncs it.
func writeFileSync(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// replaceFile writes data to path through a temporary file and a rename.
func replaceFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, bytes.NewReader(data)); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
