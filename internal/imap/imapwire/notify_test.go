package imapwire

import (
	"reflect"
	"testing"
)

func TestParseNotifyArgs(t *testing.T) {
	good := map[string]NotifyArgs{
		" NONE": {None: true},
		" SET (selected (MessageNew (UID FLAGS) MessageExpunge))": {Groups: []NotifyGroup{{
			Filter: NotifySelected,
			Events: []NotifyEvent{{Name: "MessageNew", Fetch: []FetchItem{{Attr: FetchUID}, {Attr: FetchFlags}}}, {Name: "MessageExpunge"}},
		}}},
		" set status (Personal (MessageNew MessageExpunge)) (selected-delayed NONE)": {Status: true, Groups: []NotifyGroup{
			{Filter: NotifyPersonal, Events: []NotifyEvent{{Name: "MessageNew"}, {Name: "MessageExpunge"}}},
			{Filter: NotifySelectedDelayed, None: true},
		}},
		` SET (subtree (INBOX "A B") (MailboxName)) (mailboxes x (SubscriptionChange Foo))`: {Groups: []NotifyGroup{
			{Filter: NotifySubtree, Mailboxes: []string{"INBOX", "A B"}, Events: []NotifyEvent{{Name: "MailboxName"}}},
			{Filter: NotifyMailboxes, Mailboxes: []string{"x"}, Events: []NotifyEvent{{Name: "SubscriptionChange"}, {Name: "Foo"}}},
		}},
		" SET (inboxes (MessageExpunge MessageNew))": {Groups: []NotifyGroup{
			{Filter: NotifyInboxes, Events: []NotifyEvent{{Name: "MessageExpunge"}, {Name: "MessageNew"}}},
		}},
	}
	for in, want := range good {
		d := newDecoder(in+"\r\n", Options{})
		got := ParseNotifyArgs(d)
		if !d.ExpectCRLF() {
			t.Errorf("%q: %v", in, d.Err())
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", in, got, want)
		}
	}
	bad := []string{
		" SET",
		" SET ()",
		" SET (selected)",
		" SET (selected ())",
		" SET (bogus (MessageNew))",
		" SET (subtree (MessageNew))",
		" SET (subtree () (MessageNew))",
		" SET (selected (MessageNew ()))",
		" SET (selected (MessageNew (UID) ))",
		" SET (selected (MessageNew) x)",
		" SET STATUS",
		" SOMETIMES",
		" SET (selected (MessageNew (BOGUS)))",
	}
	for _, in := range bad {
		d := newDecoder(in+"\r\n", Options{})
		ParseNotifyArgs(d)
		if d.ExpectCRLF() {
			t.Errorf("%q parsed", in)
		}
	}
}
