package imapserver

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// NOTIFY (RFC 5465). The spec in force is c.notify; the store's change
// stream (store.Notifier) feeds it as it feeds IDLE. Changes to other
// mailboxes become untagged STATUS and LIST responses (notifyOthers);
// changes to the selected mailbox stay the view's EXISTS, EXPUNGE and
// FETCH (selected.go), sent between commands too when the selected
// group asks for them (awaitCommand, pollChanges).

// notifyEvents is a set of the events of RFC 5465 §5 that Postern
// reports.
type notifyEvents uint8

const (
	evMessageNew notifyEvents = 1 << iota
	evMessageExpunge
	evFlagChange
	evMailboxName
	evSubscriptionChange
	evMailboxMetadataChange
	evServerMetadataChange
)

// metadataEvents are the events of METADATA (RFC 5464): supported, and
// then required (RFC 5465 §5.6, §5.7), when the session's store keeps
// metadata, which is when METADATA is advertised.
const metadataEvents = evMailboxMetadataChange | evServerMetadataChange

// notifyEventName is one supported event.
type notifyEventName struct {
	name string
	ev   notifyEvents
}

// notifyEventNames are the events Postern reports, in the order BADEVENT
// lists them. AnnotationChange is not among them: it reports changes of
// per-message annotations (ANNOTATE, RFC 5257), which Postern does not
// keep, so it is an event the server does not support, refused with
// BADEVENT as RFC 5465 §3.1 requires (Dovecot refuses it the same way).
var notifyEventNames = []notifyEventName{
	{"MessageNew", evMessageNew},
	{"MessageExpunge", evMessageExpunge},
	{"FlagChange", evFlagChange},
	{"MailboxName", evMailboxName},
	{"SubscriptionChange", evSubscriptionChange},
	{"MailboxMetadataChange", evMailboxMetadataChange},
	{"ServerMetadataChange", evServerMetadataChange},
}

// supportedEvents returns the events this session reports: the metadata
// events only when its store keeps metadata.
func (c *conn) supportedEvents() []notifyEventName {
	if _, ok := c.sess.(store.MetadataKeeper); ok {
		return notifyEventNames
	}
	return slices.DeleteFunc(slices.Clone(notifyEventNames), func(e notifyEventName) bool { return e.ev&metadataEvents != 0 })
}

// badEventCode is the response code for an unsupported event: BADEVENT
// with the events the server supports (RFC 5465 §3.1, §8).
func badEventCode(supported []notifyEventName) string {
	names := make([]string, len(supported))
	for i, e := range supported {
		names[i] = e.name
	}
	return "BADEVENT (" + strings.Join(names, " ") + ")"
}

// notifySpec is a NOTIFY SET in force.
type notifySpec struct {
	groups []notifyGroup
}

// notifyGroup is one event group, its mailbox names in store form.
type notifyGroup struct {
	filter imapwire.NotifyFilter
	names  []string
	events notifyEvents
	fetch  []imapwire.FetchItem // MessageNew's fetch attributes (selected only)
}

// cmdNotify: RFC 5465 §3.1. A failed NOTIFY SET leaves the previous one in
// force.
func (c *conn) cmdNotify(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseNotifyArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if args.None {
		c.notify = nil
		return nil
	}
	spec, err := c.buildNotify(args.Groups)
	if err != nil {
		return err
	}
	c.notify = spec
	if args.Status {
		return c.notifyStatusAll(ctx)
	}
	return nil
}

// buildNotify checks the event groups against RFC 5465 §5 and converts
// them. An event Postern does not report is NO [BADEVENT]; a combination
// the RFC forbids is BAD.
func (c *conn) buildNotify(groups []imapwire.NotifyGroup) (*notifySpec, error) {
	spec := &notifySpec{}
	supported := c.supportedEvents()
	for _, g := range groups {
		ng := notifyGroup{filter: g.Filter}
		for _, ev := range g.Events {
			i := slices.IndexFunc(supported, func(e notifyEventName) bool { return strings.EqualFold(e.name, ev.Name) })
			if i < 0 {
				return nil, nof(badEventCode(supported), "Unsupported NOTIFY event %s", ev.Name)
			}
			ng.events |= supported[i].ev
			if len(ev.Fetch) > 0 {
				// §5.2: fetch attributes only for the selected mailbox.
				if !g.Filter.Selected() {
					return nil, badf("MessageNew fetch attributes are only allowed for selected or selected-delayed")
				}
				ng.fetch = peekItems(ev.Fetch)
			}
		}
		// §5: MessageNew and MessageExpunge come together, and FlagChange
		// needs both.
		msg := ng.events & (evMessageNew | evMessageExpunge)
		if msg != 0 && msg != evMessageNew|evMessageExpunge {
			return nil, badf("MessageNew and MessageExpunge must be specified together")
		}
		if ng.events&evFlagChange != 0 && msg == 0 {
			return nil, badf("FlagChange needs MessageNew and MessageExpunge")
		}
		for _, name := range g.Mailboxes {
			sn, err := c.storeName(name)
			if err != nil {
				return nil, err
			}
			ng.names = append(ng.names, sn)
		}
		spec.groups = append(spec.groups, ng)
	}
	return spec, nil
}

// peekItems makes body sections peeks: a notification never sets \Seen.
func peekItems(items []imapwire.FetchItem) []imapwire.FetchItem {
	out := slices.Clone(items)
	for i := range out {
		out[i].Peek = true
	}
	return out
}

// matches reports whether the group covers the mailbox name (RFC 5465 §6).
// "inboxes" is INBOX: the only mailbox delivery files into by itself.
func (g *notifyGroup) matches(name string, subscribed bool) bool {
	switch g.filter {
	case imapwire.NotifyInboxes:
		return name == store.MailboxInbox
	case imapwire.NotifyPersonal:
		return true
	case imapwire.NotifySubscribed:
		return subscribed
	case imapwire.NotifySubtree:
		return slices.ContainsFunc(g.names, func(n string) bool {
			return name == n || strings.HasPrefix(name, n+string(store.HierarchySeparator))
		})
	case imapwire.NotifyMailboxes:
		return slices.Contains(g.names, name)
	}
	return false
}

// other returns the first group other than selected/selected-delayed that
// covers a mailbox, or nil.
func (n *notifySpec) other(name string, subscribed bool) *notifyGroup {
	for i := range n.groups {
		if g := &n.groups[i]; !g.filter.Selected() && g.matches(name, subscribed) {
			return g
		}
	}
	return nil
}

// selectedGroup returns the group for the selected mailbox and whether
// its expunges wait for a command that may announce them: the selected or
// selected-delayed group, else the first other group that covers the
// mailbox, as selected-delayed (so a client using sequence numbers never
// sees them shift between commands).
func (n *notifySpec) selectedGroup(sel *selected) (g *notifyGroup, delayed bool) {
	if n == nil || sel == nil {
		return nil, true
	}
	for i := range n.groups {
		if g := &n.groups[i]; g.filter.Selected() {
			return g, g.filter == imapwire.NotifySelectedDelayed
		}
	}
	// The subscription of the selected mailbox is not known here; the
	// "subscribed" filter does not reach it.
	return n.other(sel.name, false), true
}

// notifyStatusAll answers the STATUS indicator: a STATUS for every
// mailbox an event group with message events covers, except the selected
// one (RFC 5465 §3.1).
func (c *conn) notifyStatusAll(ctx context.Context) error {
	boxes, err := c.sess.Mailboxes(ctx)
	if err != nil {
		return err
	}
	for _, mb := range boxes {
		if c.sel != nil && mb.ID == c.sel.id {
			continue
		}
		g := c.notify.other(mb.Name, mb.Subscribed)
		if g == nil || g.events&evMessageNew == 0 {
			continue
		}
		if _, ok := c.imapName(mb.Name); !ok {
			continue
		}
		items := []imapwire.StatusItem{imapwire.StatusMessages, imapwire.StatusUIDNext, imapwire.StatusUIDValidity, imapwire.StatusUnseen}
		if err := c.writeStatus(ctx, mb, c.withModSeq(items)); err != nil {
			return err
		}
	}
	return nil
}

// withModSeq adds HIGHESTMODSEQ once CONDSTORE is enabled (RFC 5465
// §5.1, RFC 7162 §3.1).
func (c *conn) withModSeq(items []imapwire.StatusItem) []imapwire.StatusItem {
	if c.condStore {
		return append(items, imapwire.StatusHighestModSeq)
	}
	return items
}

// notifyOthers reports the changes to mailboxes other than the selected
// one that the NOTIFY spec asks for: a STATUS per mailbox whose messages
// changed (MESSAGES UIDNEXT UNSEEN for MessageNew and MessageExpunge,
// UNSEEN for FlagChange: RFC 5465 §5.1-5.3, in Dovecot's form), and LIST
// for MailboxName (§5.4) and SubscriptionChange (§5.5). skip is a mailbox
// left out (the one being selected). Outside any command there is no one
// to tell of a store failure but the log.
func (c *conn) notifyOthers(ctx context.Context, changes []store.Change, skip store.MailboxID) {
	if c.notify == nil || len(changes) == 0 {
		return
	}
	var boxes []store.Mailbox
	load := func() bool {
		if boxes != nil {
			return true
		}
		var err error
		if boxes, err = c.sess.Mailboxes(ctx); err != nil {
			c.log.Error("imap notify: list mailboxes", slog.Any("err", err))
			return false
		}
		return true
	}
	var order []store.MailboxID
	full := map[store.MailboxID]bool{}
	mark := func(id store.MailboxID, ev notifyEvents) {
		if id == skip || (c.sel != nil && id == c.sel.id) || !load() {
			return
		}
		i := slices.IndexFunc(boxes, func(mb store.Mailbox) bool { return mb.ID == id })
		if i < 0 {
			return // deleted since
		}
		g := c.notify.other(boxes[i].Name, boxes[i].Subscribed)
		if g == nil || g.events&ev == 0 {
			return
		}
		f, seen := full[id]
		if !seen {
			order = append(order, id)
		}
		full[id] = f || ev != evFlagChange
	}
	for _, ch := range changes {
		switch ch := ch.(type) {
		case store.ChangeAdd:
			mark(ch.Mailbox, evMessageNew)
		case store.ChangeExpunge:
			mark(ch.Mailbox, evMessageExpunge)
		case store.ChangeFlags:
			mark(ch.Mailbox, evFlagChange)
		case store.ChangeMailbox:
			c.notifyMailboxName(ch, load, &boxes)
		case store.ChangeSubscription:
			c.notifySubscription(ch)
		case store.ChangeMetadata:
			c.notifyMetadata(ch, load, &boxes)
		}
	}
	for _, id := range order {
		i := slices.IndexFunc(boxes, func(mb store.Mailbox) bool { return mb.ID == id })
		items := []imapwire.StatusItem{imapwire.StatusUnseen}
		if full[id] {
			items = []imapwire.StatusItem{imapwire.StatusMessages, imapwire.StatusUIDNext, imapwire.StatusUnseen}
		}
		if err := c.writeStatus(ctx, boxes[i], c.withModSeq(items)); err != nil {
			c.log.Error("imap notify: status", slog.Any("err", err))
		}
	}
}

// notifyMailboxName writes the LIST of RFC 5465 §5.4 for a mailbox
// another session created, deleted (\NonExistent) or renamed (OLDNAME,
// RFC 5258 §3.5).
func (c *conn) notifyMailboxName(ch store.ChangeMailbox, load func() bool, boxes *[]store.Mailbox) {
	subscribed := false
	if c.notify.usesSubscribed() && load() {
		subscribed = slices.ContainsFunc(*boxes, func(mb store.Mailbox) bool { return mb.Name == ch.Name && mb.Subscribed })
	}
	g := c.notify.other(ch.Name, subscribed)
	if g == nil && ch.Kind == store.MailboxRenamed {
		g = c.notify.other(ch.OldName, subscribed)
	}
	shown, ok := c.imapName(ch.Name)
	if g == nil || g.events&evMailboxName == 0 || !ok {
		return
	}
	switch ch.Kind {
	case store.MailboxCreated:
		c.writeList(nil, shown, nil)
	case store.MailboxDeleted:
		c.writeList([]string{`\NonExistent`}, shown, nil)
	case store.MailboxRenamed:
		old, _ := c.imapName(ch.OldName)
		c.writeList(nil, shown, func(e *imapwire.Encoder) {
			e.List(1, func(int) {
				e.Quoted("OLDNAME").SP()
				e.List(1, func(int) { e.Mailbox(old) })
			})
		})
	}
}

// notifySubscription writes the LIST of RFC 5465 §5.5: with \Subscribed
// for a subscription, without for its removal. The "subscribed" filter
// covers both.
func (c *conn) notifySubscription(ch store.ChangeSubscription) {
	g := c.notify.other(ch.Name, true)
	shown, ok := c.imapName(ch.Name)
	if g == nil || g.events&evSubscriptionChange == 0 || !ok {
		return
	}
	var attrs []string
	if ch.Subscribed {
		attrs = []string{`\Subscribed`}
	}
	c.writeList(attrs, shown, nil)
}

// notifyMetadata writes the unsolicited METADATA (RFC 5464 §4.4.2) of
// RFC 5465 §5.6 (MailboxMetadataChange: entries of a mailbox a group
// with the event covers, the selected one included) and §5.7
// (ServerMetadataChange: server entries, for any group with the event),
// naming the entries that changed.
func (c *conn) notifyMetadata(ch store.ChangeMetadata, load func() bool, boxes *[]store.Mailbox) {
	if ch.Mailbox == 0 {
		if c.notify.anyGroup(evServerMetadataChange) {
			c.enc.MetadataChanged("", ch.Entries)
		}
		return
	}
	if !load() {
		return
	}
	i := slices.IndexFunc(*boxes, func(mb store.Mailbox) bool { return mb.ID == ch.Mailbox })
	if i < 0 {
		return // deleted since
	}
	mb := (*boxes)[i]
	g := c.notify.other(mb.Name, mb.Subscribed)
	if (g == nil || g.events&evMailboxMetadataChange == 0) && c.sel != nil && c.sel.id == mb.ID {
		g, _ = c.notify.selectedGroup(c.sel)
	}
	shown, ok := c.imapName(mb.Name)
	if g == nil || g.events&evMailboxMetadataChange == 0 || !ok {
		return
	}
	c.enc.MetadataChanged(shown, ch.Entries)
}

// anyGroup reports whether some group asks for an event.
func (n *notifySpec) anyGroup(ev notifyEvents) bool {
	return slices.ContainsFunc(n.groups, func(g notifyGroup) bool { return g.events&ev != 0 })
}

// usesSubscribed reports whether a group has the "subscribed" filter.
func (n *notifySpec) usesSubscribed() bool {
	return slices.ContainsFunc(n.groups, func(g notifyGroup) bool { return g.filter == imapwire.NotifySubscribed })
}
