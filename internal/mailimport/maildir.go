package mailimport

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// maildirSource reads the files of a Maildir one by one.
type maildirSource struct {
	dir     string
	entries []maildirEntry
	next    int      // index of the entry Next returns next
	file    *os.File // the file behind the last Content
	gen     uint64
	closed  bool
}

// maildirEntry is one message file.
type maildirEntry struct {
	sub  string // "new" or "cur"
	name string
	unix int64 // delivery time from the name; -1 when the name has none
}

func openMaildir(dir string) (Source, error) {
	if !isMaildir(dir) {
		return nil, fmt.Errorf("open %s: not a Maildir (needs cur/ and new/ directories)", dir)
	}
	var entries []maildirEntry
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("open maildir: %w", err)
		}
		for _, de := range des {
			name := de.Name()
			if strings.HasPrefix(name, ".") || de.IsDir() {
				continue
			}
			entries = append(entries, maildirEntry{sub: sub, name: name, unix: maildirTime(name)})
		}
	}
	// Delivery order, so that an import is the same every time.
	slices.SortFunc(entries, func(a, b maildirEntry) int {
		return cmp.Or(cmp.Compare(a.unix, b.unix), strings.Compare(a.name, b.name), strings.Compare(a.sub, b.sub))
	})
	return &maildirSource{dir: dir, entries: entries}, nil
}

// maildirTime returns the Unix time at the start of a Maildir file name
// ("1234567890.M1P2.host:2,S"), or -1.
func maildirTime(name string) int64 {
	digits, _, _ := strings.Cut(name, ".")
	if len(digits) == 0 || len(digits) > 12 || !isDigits(digits) {
		return -1
	}
	t, _ := strconv.ParseInt(digits, 10, 64)
	return t
}

// maildirInfo splits a file name into its unique part and the flag letters
// of its ":2," info. Some tools write '!' or ';' instead of ':' where the file
// system forbids colons.
func maildirInfo(name string) (unique, flags string) {
	for _, sep := range []string{":2,", "!2,", ";2,"} {
		if i := strings.LastIndex(name, sep); i >= 0 {
			return name[:i], name[i+len(sep):]
		}
	}
	return name, ""
}

// maildirFlags maps the info letters to IMAP flags. Lower-case letters are
// Dovecot keywords whose names live in another file; they are ignored.
func maildirFlags(info string, inNew bool) []string {
	var flags []string
	for _, f := range []struct {
		letter byte
		flag   string
	}{
		{'S', store.FlagSeen}, {'R', store.FlagAnswered}, {'F', store.FlagFlagged},
		{'T', store.FlagDeleted}, {'D', store.FlagDraft},
	} {
		if f.letter == 'S' && inNew {
			continue // new/ holds mail nobody has seen
		}
		if strings.IndexByte(info, f.letter) >= 0 {
			flags = append(flags, f.flag)
		}
	}
	return flags
}

// Next implements Source.
func (s *maildirSource) Next() (*Item, error) {
	if s.closed {
		return nil, errClosed
	}
	s.closeFile()
	if s.next >= len(s.entries) {
		return nil, io.EOF
	}
	e := s.entries[s.next]
	s.next++
	path := filepath.Join(s.dir, e.sub, e.name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open maildir message: %w", err)
	}
	s.file = f
	s.gen++
	unique, info := maildirInfo(e.name)
	it := &Item{
		Key:     "maildir:" + unique,
		Content: &content{gen: &s.gen, mine: s.gen, rest: f},
		Flags:   maildirFlags(info, e.sub == "new"),
	}
	if e.unix >= 0 {
		it.InternalDate = time.Unix(e.unix, 0)
	} else {
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("stat maildir message: %w", err)
		}
		it.InternalDate = fi.ModTime()
	}
	return it, nil
}

func (s *maildirSource) closeFile() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
}

// Progress implements Source, in files.
func (s *maildirSource) Progress() (done, total int64) {
	return int64(s.next), int64(len(s.entries))
}

// Close implements Source.
func (s *maildirSource) Close() error {
	s.closed = true
	s.gen++
	s.closeFile()
	return nil
}
