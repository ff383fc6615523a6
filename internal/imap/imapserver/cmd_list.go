package imapserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// cmdList: RFC 9051 §6.3.9, LIST-EXTENDED (RFC 5258), SPECIAL-USE
// (RFC 6154), LIST-STATUS (RFC 5819); the grammar is imapwire's.
func (c *conn) cmdList(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	a := imapwire.ParseListArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if len(a.Patterns) == 1 && a.Patterns[0] == "" && !a.Extended {
		// RFC 9051 §6.3.9: the hierarchy delimiter and root.
		return c.writeList([]string{`\Noselect`}, "", nil)
	}
	return c.execList(ctx, &a)
}

// listEntry is one name LIST may return.
type listEntry struct {
	name       string
	mb         *store.Mailbox // nil: the name does not exist
	subscribed bool
	childSub   bool // a descendant the patterns miss is subscribed (CHILDINFO)
	implied    bool // a parent of existing names that does not exist itself
	shown      string
	matches    bool // the name the client sees matches a pattern
}

func (c *conn) execList(ctx context.Context, a *imapwire.ListArgs) error {
	entries, err := c.listEntries(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	var existing []string // the shown names of existing mailboxes, for \HasChildren
	for n, e := range entries {
		names = append(names, n)
		var ok bool
		e.shown, ok = c.imapName(n)
		e.matches = ok && c.listMatches(a, e.shown)
		if ok && e.mb != nil {
			existing = append(existing, e.shown)
		}
	}
	slices.Sort(existing)
	for _, e := range entries {
		if e.subscribed && !e.matches {
			// RFC 5258 §3.5: CHILDINFO names a subscribed descendant
			// that the patterns do not match themselves.
			for p := parentOf(e.name); p != ""; p = parentOf(p) {
				entries[p].childSub = true
			}
		}
	}
	slices.Sort(names)
	for _, n := range names {
		e := entries[n]
		if !e.matches || !c.listSelected(a, e) {
			continue
		}
		c.writeListEntry(a, e, hasChildren(existing, e.shown))
		if len(a.Return.Status) > 0 && e.mb != nil {
			if err := c.writeStatus(ctx, *e.mb, a.Return.Status); err != nil {
				return err
			}
		}
	}
	return nil
}

// listEntries returns every name LIST may show: the mailboxes, the
// subscriptions and their parents.
func (c *conn) listEntries(ctx context.Context) (map[string]*listEntry, error) {
	mbs, err := c.sess.Mailboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	subs, err := c.sess.Subscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	entries := map[string]*listEntry{}
	for i := range mbs {
		entries[mbs[i].Name] = &listEntry{name: mbs[i].Name, mb: &mbs[i]}
	}
	for _, s := range subs {
		if e, ok := entries[s]; ok {
			e.subscribed = true
		} else {
			entries[s] = &listEntry{name: s, subscribed: true}
		}
	}
	addParents(entries)
	return entries, nil
}

// addParents adds the parents of names that do not exist themselves. A
// parent of an existing mailbox is implied: plain LIST shows it
// \Noselect. A parent only of subscriptions to names that do not exist
// is shown by LIST (SUBSCRIBED RECURSIVEMATCH) alone (RFC 5258 §3.5);
// plain LIST does not show it, as RFC 9051 §6.3.9 lists existing names
// and their hierarchy only.
func addParents(entries map[string]*listEntry) {
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	// Existing mailboxes first, so their parents are marked implied even
	// when a subscription-only name shares them.
	slices.SortFunc(names, func(a, b string) int {
		ea, eb := entries[a].mb != nil, entries[b].mb != nil
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		exists := entries[name].mb != nil
		for p := parentOf(name); p != ""; p = parentOf(p) {
			if e, ok := entries[p]; !ok {
				entries[p] = &listEntry{name: p, implied: exists}
			} else if exists && e.mb == nil {
				e.implied = true
			}
		}
	}
}

// listSelected applies the selection options to an entry.
func (c *conn) listSelected(a *imapwire.ListArgs, e *listEntry) bool {
	switch {
	case a.Select.Subscribed:
		return e.subscribed || (a.Select.RecursiveMatch && e.childSub)
	case a.Select.SpecialUse:
		return e.mb != nil && e.mb.SpecialUse != ""
	}
	return e.mb != nil || e.implied
}

// listMatches matches the patterns against the name the client sees.
func (c *conn) listMatches(a *imapwire.ListArgs, name string) bool {
	for _, p := range a.Patterns {
		if matchMailbox(a.Reference+p, name) {
			return true
		}
	}
	return false
}

// writeListEntry writes one LIST response.
func (c *conn) writeListEntry(a *imapwire.ListArgs, e *listEntry, children bool) {
	var attrs []string
	switch {
	case e.mb != nil:
	case e.implied || !a.Extended:
		// A parent of existing mailboxes is a place in the hierarchy
		// that cannot be selected (RFC 9051 §7.3.1), as Dovecot shows it.
		attrs = append(attrs, `\Noselect`)
	default:
		// RFC 5258 §3: \NonExistent implies \Noselect, which is not sent
		// beside it.
		attrs = append(attrs, `\NonExistent`)
	}
	if children {
		attrs = append(attrs, `\HasChildren`)
	} else {
		attrs = append(attrs, `\HasNoChildren`)
	}
	if e.mb != nil && e.mb.SpecialUse != "" {
		attrs = append(attrs, e.mb.SpecialUse)
	}
	if e.subscribed && (a.Select.Subscribed || a.Return.Subscribed) {
		attrs = append(attrs, `\Subscribed`)
	}
	var ext func(*imapwire.Encoder)
	if a.Select.RecursiveMatch && e.childSub && !e.subscribed {
		// RFC 5258 §3.5: ("CHILDINFO" ("SUBSCRIBED")).
		ext = func(e *imapwire.Encoder) {
			e.List(2, func(i int) {
				if i == 0 {
					e.Quoted("CHILDINFO")
				} else {
					e.List(1, func(int) { e.Quoted("SUBSCRIBED") })
				}
			})
		}
	}
	c.writeList(attrs, e.shown, ext)
}

// writeList writes "* LIST (attrs) "/" name [ext]" (RFC 9051 §7.3.1); ext
// writes extended data (RFC 5258 §3.5).
func (c *conn) writeList(attrs []string, name string, ext func(*imapwire.Encoder)) error {
	e := c.enc.Untagged().Atom("LIST").SP().Flags(attrs).SP().Quoted(string(store.HierarchySeparator)).SP().Mailbox(name)
	if ext != nil {
		ext(e.SP())
	}
	return e.CRLF()
}

// hasChildren reports whether an existing mailbox lies below name: a
// subscription to a name that does not exist is no child (RFC 5258 §4).
func hasChildren(existing []string, shown string) bool {
	i, _ := slices.BinarySearch(existing, shown+"/")
	return i < len(existing) && strings.HasPrefix(existing[i], shown+"/")
}

// parentOf returns the name one level up, or "".
func parentOf(name string) string {
	i := strings.LastIndexByte(name, store.HierarchySeparator)
	if i < 0 {
		return ""
	}
	return name[:i]
}

// matchMailbox matches a LIST pattern: "*" matches anything, "%" anything
// but the hierarchy separator (RFC 9051 §6.3.9). INBOX matches
// case-insensitively.
func matchMailbox(pattern, name string) bool {
	if match(pattern, name) {
		return true
	}
	if name == store.MailboxInbox || strings.HasPrefix(name, store.MailboxInbox+"/") {
		if len(pattern) >= 5 && strings.EqualFold(pattern[:5], store.MailboxInbox) {
			return match(store.MailboxInbox+pattern[5:], name)
		}
	}
	return false
}

func match(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*', '%':
			for i := 0; i <= len(s); i++ {
				if p[0] == '%' && i > 0 && s[i-1] == store.HierarchySeparator {
					return false
				}
				if match(p[1:], s[i:]) {
					return true
				}
			}
			return false
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return len(s) == 0
}

// cmdLsub: RFC 3501 §6.3.9 (deprecated by IMAP4rev2, still served).
func (c *conn) cmdLsub(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	a := imapwire.ParseLSubArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	ref, pat := a.Reference, a.Patterns[0]
	subs, err := c.sess.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("list subscriptions: %w", err)
	}
	matches := func(name string) (string, bool) {
		shown, ok := c.imapName(name)
		return shown, ok && matchMailbox(ref+pat, shown)
	}
	for _, e := range lsubEntries(subs, func(name string) bool { _, ok := matches(name); return ok }) {
		shown, _ := matches(e.name)
		attrs := []string{}
		if e.noselect {
			attrs = append(attrs, `\Noselect`)
		}
		c.enc.Untagged().Atom("LSUB").SP().Flags(attrs).SP().Quoted(string(store.HierarchySeparator)).SP().Mailbox(shown).CRLF()
	}
	return nil
}

// lsubEntry is a name LSUB returns: a subscription, or an unsubscribed
// parent standing in for subscriptions the pattern does not reach.
type lsubEntry struct {
	name     string
	noselect bool
}

// lsubEntries returns, in name order, the subscriptions that match and the
// unsubscribed parents that match while some subscription below them does
// not, flagged \Noselect: RFC 3501 §6.3.9 has LSUB "" % return "foo" when
// only "foo/bar" is subscribed, and LSUB "" * return "foo/bar" alone.
func lsubEntries(subs []string, matches func(string) bool) []lsubEntry {
	subscribed := make(map[string]bool, len(subs))
	for _, s := range subs {
		subscribed[s] = true
	}
	var out []lsubEntry
	parents := map[string]bool{}
	for _, s := range subs {
		if matches(s) {
			out = append(out, lsubEntry{name: s})
			continue
		}
		for p := parentOf(s); p != "" && !subscribed[p]; p = parentOf(p) {
			if !parents[p] && matches(p) {
				parents[p] = true
				out = append(out, lsubEntry{name: p, noselect: true})
			}
		}
	}
	slices.SortFunc(out, func(a, b lsubEntry) int { return strings.Compare(a.name, b.name) })
	return out
}
