package mailimport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IMAPURL names a live IMAP server and the user to log in as:
// imaps://user@host[:port] (implicit TLS, port 993) or
// imap://user@host[:port] (STARTTLS, required, port 143). The password
// is never part of it.
type IMAPURL struct {
	Implicit bool   // imaps://
	Addr     string // host:port
	Host     string
	User     string
}

// IsIMAPURL reports whether a source names an IMAP server rather than a
// file.
func IsIMAPURL(s string) bool {
	return strings.HasPrefix(s, "imap://") || strings.HasPrefix(s, "imaps://")
}

// ParseIMAPURL checks an imap:// or imaps:// source. A password in the
// URL is refused: a command line is visible to every user of the machine.
func ParseIMAPURL(s string) (IMAPURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return IMAPURL{}, err
	}
	var iu IMAPURL
	port := "143"
	switch u.Scheme {
	case "imaps":
		iu.Implicit, port = true, "993"
	case "imap":
	default:
		return IMAPURL{}, fmt.Errorf("%q: use imap:// (STARTTLS) or imaps://", s)
	}
	if u.User == nil || u.User.Username() == "" {
		return IMAPURL{}, fmt.Errorf("%q: name the user to log in as: imaps://user@host", s)
	}
	if _, set := u.User.Password(); set {
		return IMAPURL{}, fmt.Errorf("%q: a password on the command line is refused (other users see it): use --password-file, --password-stdin or the prompt", u.Redacted())
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Hostname() == "" {
		return IMAPURL{}, fmt.Errorf("%q: want imap[s]://user@host[:port] and nothing more", s)
	}
	iu.User, iu.Host = u.User.Username(), u.Hostname()
	if p := u.Port(); p != "" {
		port = p
	}
	iu.Addr = net.JoinHostPort(iu.Host, port)
	return iu, nil
}

// IMAPSource reads the mail of one account on a live IMAP server. It is
// used by one goroutine.
type IMAPSource struct {
	c         *imapclient.Client
	condstore bool
}

// IMAPFolder is one selectable mailbox of the source.
type IMAPFolder struct {
	Source string // the name on the source server
	Name   string // levels separated by '/'
}

// IMAPStatus is what EXAMINE tells of a source mailbox.
type IMAPStatus struct {
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64 // 0 without CONDSTORE
	Messages      uint32
}

// IMAPMessage is the metadata of one source message.
type IMAPMessage struct {
	UID   uint32
	Flags []string // system flags and keywords, \Recent left out
	Date  time.Time
	Size  int64
}

// DialIMAP connects (TLS from the start, or STARTTLS, which must be
// offered) and logs in.
func DialIMAP(u IMAPURL, password string, tlsConf *tls.Config) (*IMAPSource, error) {
	opts := &imapclient.Options{TLSConfig: tlsConf}
	var (
		c   *imapclient.Client
		err error
	)
	if u.Implicit {
		c, err = imapclient.DialTLS(u.Addr, opts)
	} else {
		c, err = imapclient.DialStartTLS(u.Addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u.Addr, err)
	}
	if err := c.Login(u.User, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("log in to %s as %s: %w", u.Addr, u.User, err)
	}
	return &IMAPSource{c: c, condstore: c.Caps().Has(imap.CapCondStore)}, nil
}

// Close logs out.
func (s *IMAPSource) Close() error {
	s.c.Logout().Wait()
	return s.c.Close()
}

// Folders lists the selectable mailboxes (INBOX first) and the subscribed
// names, levels separated by '/' whatever the source's separator.
func (s *IMAPSource) Folders() ([]IMAPFolder, []string, error) {
	all, err := s.c.List("", "*", nil).Collect()
	if err != nil {
		return nil, nil, fmt.Errorf("LIST: %w", err)
	}
	var folders []IMAPFolder
	for _, l := range all {
		if hasAttr(l.Attrs, imap.MailboxAttrNoSelect) || hasAttr(l.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		f := IMAPFolder{Source: l.Mailbox, Name: sourceName(l.Mailbox, l.Delim)}
		if f.Name == "INBOX" {
			folders = append([]IMAPFolder{f}, folders...)
		} else {
			folders = append(folders, f)
		}
	}
	var subs []string
	subscribed, err := s.c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err == nil {
		for _, l := range subscribed {
			subs = append(subs, sourceName(l.Mailbox, l.Delim))
		}
	}
	return folders, subs, nil
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}

// sourceName turns a source mailbox name into Postern's form: levels
// separated by '/' (a '/' inside a level of a server whose separator is
// another character becomes '_'), INBOX in upper case.
func sourceName(name string, delim rune) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if delim == 0 || delim == '/' {
		return name
	}
	levels := strings.Split(name, string(delim))
	for i, l := range levels {
		levels[i] = strings.ReplaceAll(l, "/", "_")
	}
	return strings.Join(levels, "/")
}

// Examine opens a source mailbox read-only, so that nothing changes
// there (\Seen included: bodies are fetched with BODY.PEEK).
func (s *IMAPSource) Examine(f IMAPFolder) (IMAPStatus, error) {
	d, err := s.c.Select(f.Source, &imap.SelectOptions{ReadOnly: true, CondStore: s.condstore}).Wait()
	if err != nil {
		return IMAPStatus{}, fmt.Errorf("EXAMINE %s: %w", f.Source, err)
	}
	return IMAPStatus{UIDValidity: d.UIDValidity, UIDNext: uint32(d.UIDNext), HighestModSeq: d.HighestModSeq, Messages: d.NumMessages}, nil
}

// UIDsFrom returns the UIDs of the examined mailbox at or above from, in
// ascending order: 4 octets a message, whatever their size.
func (s *IMAPSource) UIDsFrom(from uint32) ([]uint32, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(from), 0) // from:*
	d, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("UID SEARCH: %w", err)
	}
	uids := d.AllUIDs()
	out := make([]uint32, 0, len(uids))
	for _, u := range uids {
		// RFC 9051 §6.4.9: "from:*" matches the last message even when
		// its UID is below from.
		if uint32(u) >= from {
			out = append(out, uint32(u))
		}
	}
	return out, nil
}

// Meta fetches the UID, flags, internal date and size of the messages of
// uids (a few hundred at a time).
func (s *IMAPSource) Meta(uids []uint32) ([]IMAPMessage, error) {
	cmd := s.c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true})
	bufs, err := cmd.Collect()
	if err != nil {
		return nil, fmt.Errorf("UID FETCH (FLAGS INTERNALDATE RFC822.SIZE): %w", err)
	}
	out := make([]IMAPMessage, 0, len(bufs))
	for _, b := range bufs {
		m := IMAPMessage{UID: uint32(b.UID), Date: b.InternalDate, Size: b.RFC822Size}
		for _, f := range b.Flags {
			if !strings.EqualFold(string(f), `\Recent`) {
				m.Flags = append(m.Flags, string(f))
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// Bodies fetches the messages of uids with BODY.PEEK[] and calls fn with
// each one's UID and content as it streams in: nothing is held in memory
// but the client's buffers. fn must read body to its end or return an
// error.
func (s *IMAPSource) Bodies(uids []uint32, fn func(uid uint32, body io.Reader) error) error {
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := s.c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		var uid uint32
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(it.UID)
			case imapclient.FetchItemDataBodySection:
				if uid == 0 {
					return errors.New("UID FETCH: the body came before the UID")
				}
				if it.Literal == nil {
					return fmt.Errorf("UID FETCH: no body for UID %d", uid)
				}
				if err := fn(uid, it.Literal); err != nil {
					return err
				}
			}
		}
	}
	return cmd.Close()
}

func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	return set
}
