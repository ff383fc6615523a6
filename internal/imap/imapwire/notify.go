package imapwire

import "strings"

// NotifyFilter is a filter-mailboxes of NOTIFY (RFC 5465 §6).
type NotifyFilter uint8

// The mailbox filters of RFC 5465 §6.
const (
	NotifySelected NotifyFilter = iota + 1
	NotifySelectedDelayed
	NotifyInboxes
	NotifyPersonal
	NotifySubscribed
	NotifySubtree
	NotifyMailboxes
)

// Selected reports whether f is "selected" or "selected-delayed".
func (f NotifyFilter) Selected() bool { return f == NotifySelected || f == NotifySelectedDelayed }

var notifyFilters = map[string]NotifyFilter{
	"SELECTED": NotifySelected, "SELECTED-DELAYED": NotifySelectedDelayed,
	"INBOXES": NotifyInboxes, "PERSONAL": NotifyPersonal, "SUBSCRIBED": NotifySubscribed,
	"SUBTREE": NotifySubtree, "MAILBOXES": NotifyMailboxes,
}

// NotifyEvent is one event of an event group (RFC 5465 §5). Name is as
// the client spelled it (event names are case-insensitive atoms, and an
// unknown one, event-ext, is grammatical: the server refuses it with
// BADEVENT). Fetch are MessageNew's fetch attributes, if any.
type NotifyEvent struct {
	Name  string
	Fetch []FetchItem
}

// NotifyGroup is one event-group: a filter, its mailboxes (SUBTREE,
// MAILBOXES) and its events; None is the "NONE" events.
type NotifyGroup struct {
	Filter    NotifyFilter
	Mailboxes []string
	Events    []NotifyEvent
	None      bool
}

// NotifyArgs are the arguments of NOTIFY (RFC 5465 §8): NONE, or SET with
// the optional STATUS indicator and the event groups.
type NotifyArgs struct {
	None   bool
	Status bool
	Groups []NotifyGroup
}

// ParseNotifyArgs decodes SP ("NONE" / "SET" [SP "STATUS"] SP
// event-groups), RFC 5465 §8.
func ParseNotifyArgs(dec *Decoder) NotifyArgs {
	var a NotifyArgs
	if !dec.ExpectSP() {
		return a
	}
	if dec.Keyword("NONE") {
		a.None = true
		return a
	}
	if !dec.Expect(dec.Keyword("SET"), "SET or NONE") || !dec.ExpectSP() {
		return a
	}
	if dec.Keyword("STATUS") {
		a.Status = true
		if !dec.ExpectSP() {
			return a
		}
	}
	for {
		var g NotifyGroup
		// event-group = "(" filter-mailboxes SP events ")"
		if !dec.ExpectSpecial('(') || !dec.notifyGroup(&g) || !dec.ExpectSpecial(')') {
			return a
		}
		a.Groups = append(a.Groups, g)
		if !dec.SP() {
			return a
		}
	}
}

// notifyGroup decodes the inside of an event-group: filter-mailboxes SP
// events.
func (dec *Decoder) notifyGroup(g *NotifyGroup) bool {
	var name string
	if !dec.ExpectAtom(&name) {
		return false
	}
	f, ok := notifyFilters[strings.ToUpper(name)]
	if !ok {
		return dec.setErr(syntaxErrorf("unknown NOTIFY mailbox filter %q", name))
	}
	g.Filter = f
	if f == NotifySubtree || f == NotifyMailboxes {
		// one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
		if !dec.ExpectSP() || !dec.notifyMailboxes(&g.Mailboxes) {
			return false
		}
	}
	if !dec.ExpectSP() {
		return false
	}
	if dec.Keyword("NONE") {
		g.None = true
		return true
	}
	return dec.notifyEvents(&g.Events)
}

// notifyEvents decodes "(" event *(SP event) ")". MessageNew may be
// followed by SP "(" fetch-att *(SP fetch-att) ")", so the space after it
// is read before knowing whether fetch attributes or another event follow.
func (dec *Decoder) notifyEvents(out *[]NotifyEvent) bool {
	if !dec.ExpectSpecial('(') {
		return false
	}
	for {
		var ev NotifyEvent
		if !dec.ExpectAtom(&ev.Name) {
			return false
		}
		spaced := false
		if strings.EqualFold(ev.Name, "MessageNew") && dec.SP() {
			spaced = true
			if dec.Peek('(') {
				spaced = false
				if !dec.ExpectList(func() bool {
					var it FetchItem
					if !dec.ExpectFetchItem(&it) {
						return false
					}
					ev.Fetch = append(ev.Fetch, it)
					return true
				}) || !dec.Expect(len(ev.Fetch) > 0, "fetch-att") {
					return false
				}
			}
		}
		*out = append(*out, ev)
		if spaced {
			continue
		}
		if dec.Special(')') {
			return true
		}
		if !dec.ExpectSP() {
			return false
		}
	}
}

// notifyMailboxes decodes one-or-more-mailbox.
func (dec *Decoder) notifyMailboxes(out *[]string) bool {
	add := func() bool {
		var m string
		if !dec.ExpectMailbox(&m) {
			return false
		}
		*out = append(*out, m)
		return true
	}
	if dec.Peek('(') {
		return dec.ExpectList(add) && dec.Expect(len(*out) > 0, "mailbox")
	}
	return add()
}
